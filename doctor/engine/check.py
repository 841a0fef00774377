"""Declaring a check: the :func:`check` decorator and the :class:`Check` it returns.

A check is a pure function ``(facts, profile) -> Outcome``. The decorator records what the
runner needs to know about it (the facts to gather, the checks it requires, the fix it links
to, its timeout) and registers nothing globally: the registry finds ``Check`` objects by
scanning a module's attributes, so importing a module twice cannot register a check twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glm5_doctor.engine import deadlines
from glm5_doctor.engine.facts import FactKey

if TYPE_CHECKING:
    from glm5_doctor.deployment.profile import Profile
    from glm5_doctor.engine.facts import Facts
    from glm5_doctor.engine.results import Outcome, Report, Result

CheckFunction = Callable[["Facts", "Profile"], "Outcome"]
#: The variables a fix script needs, from the failing result and the report (its target, its profile).
FixEnvironment = Callable[["Result", "Report"], Mapping[str, str]]
#: A ``vllm serve`` argv with the result's problem corrected, or None when it cannot be corrected.
ServeEdit = Callable[[list[str], Mapping[str, Any]], "list[str] | None"]
FIXES_PACKAGE = "glm5_doctor.fixes"


@dataclass(frozen=True)
class Fix:
    """A check's remedy: the script, what it needs from this machine, the serve-command correction.

    ``environment`` fills the script's inputs (``PYTHON`` is always set); ``serve_edit`` writes
    the corrected ``vllm serve`` line that ``suggest-serve-command.sh`` prints. Plugins may ship
    their scripts in their own package (``package``).
    """

    script: str
    environment: FixEnvironment | None = None
    serve_edit: ServeEdit | None = None
    package: str = FIXES_PACKAGE


#: ``area.name``, each part lower-kebab: ``vllm.glm5-architecture``.
CHECK_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$")

#: The docstring sections ``glm5-doctor explain`` prints, in order.
DOC_SECTIONS: tuple[str, ...] = ("What it checks", "Why it matters", "How to fix", "Sources")

DEFAULT_TIMEOUT_S = deadlines.CHECK_S


@dataclass(frozen=True)
class Check:
    """A registered check. Identity (``id``) is stable forever; see DESIGN "Checks"."""

    id: str
    title: str
    category: str
    function: CheckFunction
    facts: tuple[FactKey[Any], ...] = ()
    requires: tuple[str, ...] = ()
    fix: Fix | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    doc: str = ""

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def fix_script(self) -> str | None:
        return self.fix.script if self.fix else None

    def sections(self) -> dict[str, str]:
        """The docstring split into its fixed sections (missing ones are absent)."""
        return split_sections(self.doc)

    def __call__(self, facts: Facts, profile: Profile) -> Outcome:
        """Judge ``facts``; the check sees only the facts it declared."""
        return self.function(facts.restricted_to(self.facts), profile)


def check(
    id: str,
    *,
    title: str,
    category: str,
    facts: tuple[FactKey[Any] | str, ...] = (),
    requires: tuple[str, ...] = (),
    fix: Fix | str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Callable[[CheckFunction], Check]:
    """Turn a pure function of facts and profile into a :class:`Check`."""
    if not CHECK_ID.match(id):
        raise ValueError(f"check ID {id!r} is not of the form area.name in lower-kebab case")

    def decorate(function: CheckFunction) -> Check:
        return Check(
            id=id,
            title=title,
            category=category,
            function=function,
            facts=tuple(FactKey(key) if isinstance(key, str) else key for key in facts),
            requires=tuple(requires),
            fix=Fix(fix) if isinstance(fix, str) else fix,
            timeout_s=timeout_s,
            doc=cleandoc(function.__doc__ or ""),
        )

    return decorate


def split_sections(doc: str) -> dict[str, str]:
    """Split a check docstring into ``{"What it checks": ..., ...}`` by its heading lines."""
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in doc.splitlines():
        heading = line.strip().rstrip(":")
        if line.strip().endswith(":") and heading in DOC_SECTIONS:
            if current is not None:
                sections[current] = cleandoc("\n".join(lines))
            current, lines = heading, []
        elif current is not None:
            lines.append(line)
    if current is not None:
        sections[current] = cleandoc("\n".join(lines))
    return sections


def cleandoc(doc: str) -> str:
    """``inspect.cleandoc`` without importing inspect (13 ms at every start)."""
    lines = doc.expandtabs().split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    margin = min(indents, default=0)
    lines = [lines[0].lstrip()] + [line[margin:] for line in lines[1:]]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)
