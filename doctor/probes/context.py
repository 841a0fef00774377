"""What every probe shares: the :class:`Probe` record and the :class:`ProbeContext` it reads.

A probe is a function ``(context) -> JSON-able dict``. It may touch the outside world; it
must not print, and it must be bounded in time (the runner also runs it under a timeout).
The context holds what the user asked for (which interpreter, which environment) and the
interpreter description, computed once and shared by every probe that needs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.facts import InterpreterFact
from glm5_doctor.probes import describe_interpreter as describe_interpreter_module

T = TypeVar("T")
DEFAULT_PROBE_TIMEOUT_S = 10.0
INTERPRETER_TIMEOUT_S = 10.0


class InterpreterError(Exception):
    """The target interpreter could not be described (missing, not Python, hung)."""


@dataclass(frozen=True)
class Probe:
    name: str
    function: Callable[[ProbeContext], Any]
    timeout_s: float = DEFAULT_PROBE_TIMEOUT_S


@dataclass
class ProbeContext:
    """Inputs of the probes, and the answers they share (each computed once, thread-safely)."""

    #: The target interpreter; ``None`` means the one running the doctor (described in-process).
    python: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: ``run --deep``: allow slow probes (a real nvcc compile).
    deep: bool = False
    #: The GPU architecture to compile for (``sm_100a``), from the deployment profile.
    gpu_arch: str | None = None
    #: The deployment being judged (model, port, the vllm serve arguments), for probes that need it.
    profile: Profile | None = None
    _answers: dict[str, Any] = field(default_factory=dict, repr=False)
    _failures: dict[str, BaseException] = field(default_factory=dict, repr=False)
    _locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def shared(self, name: str, function: Callable[[ProbeContext], T]) -> T:
        """``function(self)`` once per ``name``; later callers get the same answer or exception."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._answers and name not in self._failures:
                try:
                    self._answers[name] = function(self)
                except Exception as exc:  # noqa: BLE001 - re-raised to every caller below
                    self._failures[name] = exc
            if name in self._failures:
                raise self._failures[name]
            return cast(T, self._answers[name])

    def interpreter(self) -> InterpreterFact:
        """Describe the target interpreter once; later calls reuse the answer (or the error)."""
        return self.shared("interpreter", describe_target)


def describe_target(context: ProbeContext) -> InterpreterFact:
    if context.python is None:
        return cast(InterpreterFact, describe_interpreter_module.describe())
    return describe_interpreter(context.python, context.environ)


def describe_interpreter(python: str, environ: Mapping[str, str]) -> InterpreterFact:
    """Run the stdlib-only describer inside ``python`` with a hard timeout."""
    source = (Path(__file__).parent / "describe_interpreter.py").read_text(encoding="utf-8")
    try:
        completed = subprocess.run(
            [python, "-c", source],
            capture_output=True,
            timeout=INTERPRETER_TIMEOUT_S,
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise InterpreterError(f"{python}: no such file") from None
    except PermissionError:
        raise InterpreterError(f"{python}: not executable (permission denied)") from None
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"{python} did not answer within {INTERPRETER_TIMEOUT_S:.0f} s") from None
    except OSError as exc:
        raise InterpreterError(f"{python}: cannot run it ({exc.strerror or exc})") from None
    stdout = completed.stdout.decode("utf-8", errors="replace")
    try:
        described = json.loads(stdout)
        if not isinstance(described, dict) or "sys_path" not in described:
            raise ValueError
    except ValueError:
        stderr = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
        why = stderr[-1] if stderr else f"exit status {completed.returncode}, no usable output"
        raise InterpreterError(f"{python} is not a Python interpreter the doctor can use: {why}") from None
    return cast(InterpreterFact, described)
