"""The check catalog as text: ``glm5-doctor list`` and ``glm5-doctor explain ID``."""

from __future__ import annotations

from typing import TextIO

from glm5_doctor.engine.check import Check
from glm5_doctor.engine.registry import Registry


def render_list(registry: Registry, out: TextIO) -> None:
    width = max((len(item.id) for item in registry.checks), default=10)
    for item in registry.checks:
        source = "" if registry.sources.get(item.id) == "builtin" else f"  [{registry.sources.get(item.id)}]"
        out.write(f"{item.id:<{width}}  {item.title}  (fix: {item.fix_script or '-'}){source}\n")
    for error in registry.load_errors:
        out.write(f"plugin.{error.entry_point:<{max(0, width - 7)}}  failed to load: {error.error}\n")


def render_explanation(item: Check, source: str, out: TextIO) -> None:
    out.write(f"{item.id}: {item.title}\n")
    out.write(f"category: {item.category}   source: {source}\n")
    if item.requires:
        out.write(f"requires: {', '.join(item.requires)}\n")
    out.write(f"fix: {f'glm5-doctor fix {item.id} ({item.fix_script})' if item.fix_script else 'none linked'}\n")
    summary = item.doc.split("\n\n", 1)[0].strip()
    if summary:
        out.write(f"\n{summary}\n")
    for name, text in item.sections().items():
        out.write(f"\n{name}:\n")
        out.write("".join(f"  {line}\n" if line else "\n" for line in text.splitlines()))
