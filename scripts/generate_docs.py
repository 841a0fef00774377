"""Regenerate the documentation that mirrors the code: the README's check catalog and built-in areas.

    python scripts/generate_docs.py           # rewrite the generated blocks
    python scripts/generate_docs.py --check   # exit 1, naming the stale file, when a block is out of date

Each generated block lives between ``<!-- BEGIN GENERATED: NAME (python scripts/generate_docs.py) -->``
and ``<!-- END GENERATED: NAME -->``; everything outside the markers is hand-written and left alone.
The content comes from the check registry (built-ins only, plugins never autoloaded), so it needs
glm5-doctor importable: ``pip install -e '.[dev]' --config-settings editable_mode=strict``.
tests/e2e/test_generated_docs.py runs the ``--check`` mode.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from glm5_doctor.engine.check import Check
from glm5_doctor.engine.registry import Registry, load_registry

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python scripts/generate_docs.py"


@dataclass(frozen=True)
class Block:
    """One generated region of one file."""

    path: str  # relative to the repository root
    name: str
    render: Callable[[Registry], str]

    @property
    def begin(self) -> str:
        return f"<!-- BEGIN GENERATED: {self.name} ({COMMAND}) -->"

    @property
    def end(self) -> str:
        return f"<!-- END GENERATED: {self.name} -->"


class MarkerError(ValueError):
    """A file lacks a block's markers (or has them twice, or out of order)."""


def _code(text: str) -> str:
    return f"`{text}`"


def _cell(text: str) -> str:
    """A Markdown table cell: pipes escaped, one line."""
    return " ".join(text.split()).replace("|", "\\|")


def builtin_areas(registry: Registry) -> dict[str, list[Check]]:
    """The built-in check areas in catalog order, each with its checks."""
    areas: dict[str, list[Check]] = {}
    for item in registry.checks:
        if registry.sources.get(item.id, "builtin") == "builtin":
            areas.setdefault(item.area, []).append(item)
    return areas


def render_catalog(registry: Registry) -> str:
    """The areas line and one table of every built-in check, in catalog order."""
    areas = builtin_areas(registry)
    listed = ", ".join(f"{_code(area)} ({len(checks)})" for area, checks in areas.items())
    lines = [
        f"{sum(len(checks) for checks in areas.values())} built-in checks in {len(areas)} areas, "
        f"each a module of `checks/`: {listed}. `--select` and `--ignore` take an area or an ID.",
        "",
        "| ID | what it checks | fix script |",
        "|---|---|---|",
    ]
    for checks in areas.values():
        lines.extend(
            f"| {_code(item.id)} | {_cell(item.title)} | {_code(item.fix_script) if item.fix_script else '-'} |"
            for item in checks
        )
    return "\n".join(lines)


BLOCKS: tuple[Block, ...] = (Block("README.md", "check catalog", render_catalog),)


def replace_block(text: str, block: Block, content: str) -> str:
    """``text`` with the region between ``block``'s markers replaced by ``content``."""
    if text.count(block.begin) != 1 or text.count(block.end) != 1:
        raise MarkerError(f"{block.path} needs exactly one '{block.begin}' and one '{block.end}' line")
    head, rest = text.split(block.begin, 1)
    old, tail = rest.split(block.end, 1)
    if block.end in head or block.begin in tail or not old.startswith("\n"):
        raise MarkerError(f"{block.path}: '{block.begin}' must end its line and come before '{block.end}'")
    return f"{head}{block.begin}\n{content.rstrip()}\n{block.end}{tail}"


def generate(root: Path = ROOT, registry: Registry | None = None) -> dict[Path, tuple[str, str]]:
    """Every generated file: path -> (what is on disk, what the code gives)."""
    registry = registry or load_registry(autoload_plugins=False)
    files: dict[Path, tuple[str, str]] = {}
    for block in BLOCKS:
        path = root / block.path
        current = files[path][1] if path in files else path.read_text(encoding="utf-8")
        on_disk = files[path][0] if path in files else current
        files[path] = (on_disk, replace_block(current, block, block.render(registry)))
    return files


def stale_files(root: Path = ROOT, registry: Registry | None = None) -> list[str]:
    """Paths (relative to ``root``) whose generated blocks differ from what the code gives."""
    return [str(path.relative_to(root)) for path, (old, new) in generate(root, registry).items() if old != new]


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    try:
        files = generate(root)
    except MarkerError as exc:
        print(f"generate_docs: {exc}", file=sys.stderr)
        return 2
    stale = [path for path, (old, new) in files.items() if old != new]
    if args.check:
        if stale:
            names = ", ".join(str(path.relative_to(root)) for path in stale)
            print(f"{names} out of date with the code: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    for path in stale:
        path.write_text(files[path][1], encoding="utf-8")
        print(f"rewrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
