"""``glm5-doctor preflight -- vllm serve ...``: which Python the command runs, and becoming the server.

The Python environment judged is the one the command will run in:
the interpreter named in the ``vllm`` script's shebang, or the ``python`` of ``python -m``.
On success the doctor replaces itself with the command (``os.execvp``): same PID, same
environment, signals go straight to vLLM.
"""

from __future__ import annotations

import os
import shutil

SHEBANG_LIMIT = 512


def target_python(argv: list[str]) -> str | None:
    """The interpreter the command will run vLLM in, or None when it cannot be told."""
    program = argv[0]
    resolved = program if os.sep in program else shutil.which(program)
    if resolved is None:
        return None
    if os.path.basename(program).startswith("python"):
        return os.path.abspath(resolved)
    if not os.path.isfile(resolved):  # a FIFO named vllm would block the read forever
        return None
    try:
        with open(resolved, "rb") as handle:
            first = handle.read(SHEBANG_LIMIT).split(b"\n", 1)[0].decode("utf-8", errors="replace")
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].strip().split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        found = shutil.which(parts[1])
        return found if found and os.path.basename(parts[1]).startswith("python") else None
    return parts[0] if os.path.basename(parts[0]).startswith("python") else None


def launch(argv: list[str]) -> None:
    """Become the server. Only returns by raising OSError (command not found, not executable)."""
    os.execvp(argv[0], argv)
