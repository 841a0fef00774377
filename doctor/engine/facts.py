"""Facts: the plain, JSON-able data that probes gather and checks judge, under typed keys.

Each probe module declares the key of the fact it produces once (``NVML: FactKey[NvmlFact] =
FactKey("nvml")``); a check declares the keys it reads and gets typed values back
(``facts[NVML]``), so mypy follows a fact from the probe that gathers it to every check that
reads it. The values stay plain dicts: a snapshot can save them and another machine can judge
them. A check sees only the facts it declared: reading another one is an error result, so a
declaration can never silently fall out of step with the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from packaging.version import InvalidVersion, Version

T = TypeVar("T")
#: No real version string is longer; a longer one is read as malformed, not parsed.
VERSION_LIMIT = 128


@dataclass(frozen=True)
class FactKey(Generic[T]):
    """The name of one fact and the shape of its value: for the type checker, and at run time (``shape``,
    the TypedDict) so a snapshot written before a field existed can still be judged."""

    name: str
    shape: type | None = field(default=None, compare=False, repr=False)

    def fields(self) -> tuple[str, ...]:
        """The top-level keys the shape declares (none when it is not a TypedDict)."""
        annotations = getattr(self.shape, "__annotations__", None)
        return tuple(annotations) if isinstance(annotations, dict) else ()

    def __str__(self) -> str:
        return self.name


class ProbeFailure(Exception):
    """A fact a check needs could not be gathered; the runner turns this into an ``error`` result."""


@dataclass(frozen=True)
class Facts:
    """Read-only view over the gathered facts, keyed by fact name."""

    data: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    #: The fact names this view may read (None: every one); see :meth:`restricted_to`.
    readable: frozenset[str] | None = None

    def __getitem__(self, key: FactKey[T]) -> T:
        """The fact under ``key``; raises :class:`ProbeFailure` if it is unreadable here or failed."""
        name = key.name
        if self.readable is not None and name not in self.readable:
            raise ProbeFailure(f"the check reads the '{name}' fact without declaring it in @check(facts=...)")
        if name in self.errors:
            raise ProbeFailure(f"probe '{name}' failed: {self.errors[name]}")
        if name not in self.data:
            raise ProbeFailure(f"probe '{name}' was not run")
        return cast(T, self.data[name])

    def get(self, key: FactKey[T]) -> T | None:
        """The fact under ``key``, or None where it was not gathered or its probe failed."""
        try:
            return self[key]
        except ProbeFailure:
            return None

    def restricted_to(self, keys: Iterable[FactKey[Any]]) -> Facts:
        """The same facts, readable only under ``keys`` (what one check declared)."""
        return Facts(self.data, self.errors, frozenset(key.name for key in keys))


def parse_version(text: str | None) -> Version | None:
    """A PEP 440 version, or ``None`` for a missing, malformed or absurdly long one."""
    if text is None or len(text) > VERSION_LIMIT:
        return None
    try:
        return Version(text)
    except (InvalidVersion, ValueError):  # ValueError: a release number past int's digit limit
        return None
