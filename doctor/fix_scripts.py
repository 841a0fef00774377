"""Fix scripts shipped in ``glm5_doctor.fixes``: find them and read their headers."""

from __future__ import annotations

import sys
from importlib import resources

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # importlib.abc.Traversable is deprecated from 3.12 and gone in 3.14
    from importlib.abc import Traversable

FIXES_PACKAGE = "glm5_doctor.fixes"
HEADER_FIELDS = ("Summary", "Needs root", "Verifies", "Inputs")


def fix_scripts() -> list[str]:
    """Names of every shipped fix script."""
    return sorted(item.name for item in resources.files(FIXES_PACKAGE).iterdir() if item.name.endswith(".sh"))


def fix_script(name: str) -> Traversable:
    script = resources.files(FIXES_PACKAGE).joinpath(name)
    if not script.is_file():
        raise FileNotFoundError(f"no fix script named {name!r} in {FIXES_PACKAGE}")
    return script


def script_header(text: str) -> dict[str, str]:
    """The ``# Field: value`` header of a fix script; continuation lines are indented comments."""
    header: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines()[1:]:
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        field, sep, value = body.partition(":")
        if sep and field in HEADER_FIELDS:
            current = field
            header[field] = value.strip()
        elif current is not None and body:
            header[current] += "\n" + body
    return header
