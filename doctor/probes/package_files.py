"""Locating an installed package the way ``import`` would, and reading its source files safely.

Packages are located the way ``import`` would find them: the first ``sys.path`` entry of the
target interpreter that holds the package folder. Nothing is imported.
"""

from __future__ import annotations

import os

SOURCE_FILE_LIMIT = 4 << 20


def find_package_dir(sys_path: list[str], package: str) -> str | None:
    """The folder ``import package`` would load from, or ``None``."""
    for entry in sys_path:
        candidate = os.path.join(entry, package)
        if os.path.isfile(os.path.join(candidate, "__init__.py")):
            return candidate
    return None


def read_source(path: str) -> str:
    """Read a source file as strict UTF-8; raises OSError or UnicodeDecodeError."""
    if not os.path.isfile(path):
        raise FileNotFoundError(2, "no such file" if not os.path.exists(path) else "not a regular file")
    with open(path, "rb") as handle:
        return handle.read(SOURCE_FILE_LIMIT).decode("utf-8")
