"""The result model: what a check returns, what the runner stamps, what reporters read.

Frozen dataclasses and enums only (the pip-audit / pytest-reports shape): checks build an
:class:`Outcome`, the runner wraps it into a :class:`Result` with identity and timing, and a
:class:`Report` is the finished, immutable input of every reporter.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

JSONValue = Any  # JSON-able data: str, int, float, bool, None, lists and dicts of those


class Status(str, enum.Enum):
    """How one check ended. ``error`` means the check could not decide, not that the machine is bad."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def blocks_dependents(self) -> bool:
        """A check that requires this one only runs when this one passed or warned."""
        return self not in (Status.PASS, Status.WARN)


#: Order of statuses in summaries, worst last.
STATUS_ORDER: tuple[Status, ...] = (Status.PASS, Status.WARN, Status.FAIL, Status.SKIP, Status.ERROR)


class ExitCode(enum.IntEnum):
    """Process exit codes; documented in ``--help`` and the README."""

    #: No fail or error results (warnings allowed unless ``--strict``).
    OK = 0
    #: At least one fail or error result (or a warning under ``--strict``).
    CHECKS_FAILED = 1
    #: Bad arguments or unreadable input.
    USAGE_ERROR = 2
    #: The doctor itself broke.
    INTERNAL_ERROR = 3


@dataclass(frozen=True)
class Outcome:
    """What a check function returns: a status, one actionable line, and the evidence behind it."""

    status: Status
    message: str
    evidence: Mapping[str, JSONValue] = field(default_factory=dict)
    details: str | None = None
    #: False when the check's linked fix would not change this verdict (an expected warning).
    suggest_fix: bool = True

    def without_fix(self) -> Outcome:
        return replace(self, suggest_fix=False)

    @classmethod
    def passed(cls, message: str, evidence: Mapping[str, JSONValue] | None = None) -> Outcome:
        return cls(Status.PASS, message, dict(evidence or {}))

    @classmethod
    def warned(cls, message: str, evidence: Mapping[str, JSONValue] | None = None) -> Outcome:
        return cls(Status.WARN, message, dict(evidence or {}))

    @classmethod
    def failed(cls, message: str, evidence: Mapping[str, JSONValue] | None = None) -> Outcome:
        return cls(Status.FAIL, message, dict(evidence or {}))

    @classmethod
    def skipped(cls, message: str, evidence: Mapping[str, JSONValue] | None = None) -> Outcome:
        return cls(Status.SKIP, message, dict(evidence or {}))

    @classmethod
    def errored(
        cls, message: str, evidence: Mapping[str, JSONValue] | None = None, details: str | None = None
    ) -> Outcome:
        return cls(Status.ERROR, message, dict(evidence or {}), details)


@dataclass(frozen=True)
class FixRef:
    """The fix a result links to: a script shipped in ``glm5_doctor.fixes`` and the command that shows it."""

    script: str
    command: str

    def to_dict(self) -> dict[str, str]:
        return {"script": self.script, "command": self.command}


@dataclass(frozen=True)
class Result:
    """One finished check, stamped by the runner (check authors cannot mis-stamp IDs or timings)."""

    id: str
    title: str
    category: str
    outcome: Outcome
    duration_ms: int
    fix: FixRef | None = None
    source: str = "builtin"

    @property
    def status(self) -> Status:
        return self.outcome.status

    def to_dict(self) -> dict[str, JSONValue]:
        data: dict[str, JSONValue] = {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "status": self.status.value,
            "message": self.outcome.message,
            "evidence": dict(self.outcome.evidence),
            "fix": self.fix.to_dict() if self.fix else None,
            "duration_ms": self.duration_ms,
            "source": self.source,
        }
        if self.outcome.details:
            data["details"] = self.outcome.details
        return data


@dataclass(frozen=True)
class Report:
    """Everything one run produced, in catalog order. Reporters only read this."""

    tool_version: str
    profile: Mapping[str, JSONValue]
    target: Mapping[str, JSONValue]
    results: tuple[Result, ...]
    schema_version: int = 1
    #: the advisory database judged with: name, version, date, source, count (None: not stated)
    advisories: Mapping[str, JSONValue] | None = None

    def counts(self) -> dict[Status, int]:
        tally = {status: 0 for status in STATUS_ORDER}
        for result in self.results:
            tally[result.status] += 1
        return tally

    def ok(self, strict: bool = False) -> bool:
        bad = {Status.FAIL, Status.ERROR} | ({Status.WARN} if strict else set())
        return not any(result.status in bad for result in self.results)

    def exit_code(self, strict: bool = False) -> ExitCode:
        return ExitCode.OK if self.ok(strict) else ExitCode.CHECKS_FAILED

    def to_dict(self, strict: bool = False) -> dict[str, JSONValue]:
        summary: dict[str, JSONValue] = {status.value: n for status, n in self.counts().items()}
        summary["ok"] = self.ok(strict)
        summary["strict"] = strict
        data: dict[str, JSONValue] = {
            "schema_version": self.schema_version,
            "tool": {"name": "glm5-doctor", "version": self.tool_version},
            "profile": dict(self.profile),
            "target": dict(self.target),
        }
        if self.advisories is not None:
            data["advisories"] = dict(self.advisories)
        data["summary"] = summary
        data["results"] = [result.to_dict() for result in self.results]
        return data
