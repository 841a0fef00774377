"""Every child process the doctor starts: in a process group of its own, under a deadline, killed whole.

A hung ``nvcc`` or ``--python`` may have children of its own; killing only the direct child
would leave them running after the doctor exits. Each child therefore leads a new process group
(a new session), and a deadline, SIGINT or SIGTERM kills the whole group. The groups still alive
are tracked so the CLI can end them all on the way out (:func:`kill_all`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from glm5_doctor.engine import deadlines

#: How much of a child's output is kept (the tail); a child printing gigabytes is cut, not stored.
OUTPUT_LIMIT = 1 << 20

_live: set[int] = set()
_guard = threading.Lock()


@dataclass(frozen=True)
class Finished:
    """How a child ended: its exit status (None when the deadline killed it) and the tail of its output."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool


def kill_group(pgid: int) -> None:
    """SIGKILL every process of the group; a group that is already gone is not an error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def kill_all() -> None:
    """End every process group the doctor started and that is still running (SIGINT, SIGTERM, exit)."""
    with _guard:
        groups = list(_live)
        _live.clear()
    for pgid in groups:
        kill_group(pgid)


@contextlib.contextmanager
def tracked(child: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Track ``child``'s group while it runs; afterwards kill whatever of the group outlived it."""
    with _guard:
        _live.add(child.pid)
    try:
        yield child
    finally:
        with _guard:
            _live.discard(child.pid)
        kill_group(child.pid)


def start(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdout: int | None = subprocess.PIPE,
    stderr: int | None = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session (so a group of its own), stdin closed."""
    return subprocess.Popen(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )


def run_bounded(
    argv: Sequence[str],
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> Finished:
    """Run ``argv`` to its end or its deadline; raises OSError only when it cannot be started."""
    child = start(argv, env=env, cwd=cwd)
    with tracked(child):
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(child.pid)
            try:
                stdout, stderr = child.communicate(timeout=deadlines.REAP_S)
            except subprocess.TimeoutExpired:  # stuck in the kernel (a hung driver): abandon it
                stdout, stderr = b"", b""
            return Finished(None, (stdout or b"")[-OUTPUT_LIMIT:], (stderr or b"")[-OUTPUT_LIMIT:], True)
    return Finished(child.returncode, (stdout or b"")[-OUTPUT_LIMIT:], (stderr or b"")[-OUTPUT_LIMIT:], False)
