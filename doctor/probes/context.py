"""What every probe shares: the :class:`Probe` record and the :class:`ProbeContext` it reads.

A probe is a function ``(context) -> JSON-able dict``. It may touch the outside world; it
must not print, and it must be bounded in time (the runner also runs it under a timeout).
The context holds what the user asked for (which interpreter, which environment) and the
interpreter description, computed once and shared by every probe that needs it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine import deadlines
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.knowledge.advisories import Database

T = TypeVar("T")
DEFAULT_PROBE_TIMEOUT_S = deadlines.PROBE_S


@dataclass(frozen=True)
class Probe:
    """The function that gathers the fact under ``key``, and how long it may take."""

    key: FactKey[Any]
    function: Callable[[ProbeContext], Any]
    #: seconds, or a function of the context for deadlines the user can change by variable
    timeout_s: float | Callable[[ProbeContext], float] = DEFAULT_PROBE_TIMEOUT_S

    @property
    def name(self) -> str:
        return self.key.name

    def deadline(self, context: ProbeContext) -> float:
        return self.timeout_s(context) if callable(self.timeout_s) else self.timeout_s


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
    #: The advisory database to match (``--advisories FILE``); None: the one shipped in the package.
    advisories: Database | None = None
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
