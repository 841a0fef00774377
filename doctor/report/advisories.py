"""The advisory database as people read it (one block per advisory) and as JSON (the file's own shape)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from glm5_doctor.knowledge.advisories import Advisory, Database
from glm5_doctor.report import Format

WIDTH = 110


def render_advisories(database: Database, advisories: Sequence[Advisory], fmt: Format) -> str:
    if fmt is Format.JSON:
        data = {
            "database": {**database.info(), "shown": len(advisories)},
            "advisories": [advisory.to_dict() for advisory in advisories],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    lines = [header(database) + f"; showing {len(advisories)}", ""]
    for advisory in advisories:
        lines.extend(_block(advisory))
        lines.append("")
    lines.append("glm5-doctor matches these in the check advisories.known-bugs (run, preflight).")
    return "\n".join(lines) + "\n"


def header(database: Database) -> str:
    source = "" if database.source == "builtin" else f" from {database.source}"
    return f"Advisory database {database.version} ({database.date}){source}: {len(database.advisories)} advisories"


def _block(advisory: Advisory) -> list[str]:
    affected = (
        ", ".join(
            f"{item.distribution} {item.specifier or 'any version'}"
            if item.installed
            else f"{item.distribution} absent"
            for item in advisory.affected
        )
        or "any versions"
    )
    conditions = (
        "; ".join(
            f"{key} {value}" if isinstance(value, str) else f"{key} in {', '.join(value)}"
            for key, value in advisory.conditions.items()
        )
        or "any deployment"
    )
    fields = [
        ("affects", affected),
        ("when", conditions),
        ("fixed", advisory.fixed_text()),
        ("workaround", advisory.workaround),
        ("notes", advisory.notes),
        ("sources", " ".join(advisory.sources)),
    ]
    lines = [f"{advisory.id}  [{advisory.severity.upper()}]  {advisory.title}"]
    for label, text in fields:
        wrapped = textwrap.wrap(text, WIDTH - 14, break_long_words=False, break_on_hyphens=False) or [""]
        lines.append(f"  {label:<11} {wrapped[0]}")
        lines.extend(f"  {'':<11} {line}" for line in wrapped[1:])
    return lines
