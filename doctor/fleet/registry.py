"""Cross-node checks: pure functions of every node's facts, in a registry of their own (IDs ``fleet.*``).

A per-node check (:mod:`glm5_doctor.engine.check`) judges one machine; a fleet check sees the facts
of every node that answered, by node name, and the deployment. The node task gathers the facts they
declare along with the per-node checks' facts, so a fleet check reads nothing a snapshot does not hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import CHECK_ID, cleandoc
from glm5_doctor.engine.facts import FactKey, Facts
from glm5_doctor.engine.results import Outcome, Result

CATEGORY = "fleet"


@dataclass(frozen=True)
class NodeFacts:
    """One node that answered: its name (as the report shows it) and its facts."""

    name: str
    facts: Facts


FleetFunction = Callable[[Sequence[NodeFacts], Profile], Outcome]


@dataclass(frozen=True)
class FleetCheck:
    id: str
    title: str
    function: FleetFunction
    facts: tuple[FactKey[Any], ...]
    doc: str

    def __call__(self, nodes: Sequence[NodeFacts], profile: Profile) -> Outcome:
        """Judge ``nodes``; the check sees only the facts it declared."""
        return self.function([NodeFacts(node.name, node.facts.restricted_to(self.facts)) for node in nodes], profile)


FLEET_CHECKS: list[FleetCheck] = []


def fleet_check(id: str, *, title: str, facts: tuple[FactKey[Any], ...]) -> Callable[[FleetFunction], FleetCheck]:
    if not CHECK_ID.match(id) or not id.startswith("fleet."):
        raise ValueError(f"fleet check ID {id!r} is not of the form fleet.name in lower-kebab case")

    def decorate(function: FleetFunction) -> FleetCheck:
        item = FleetCheck(id, title, function, facts, cleandoc(function.__doc__ or ""))
        FLEET_CHECKS.append(item)
        return item

    return decorate


def fleet_fact_names() -> list[str]:
    """The facts the cross-node checks read (the node task gathers them too)."""
    from glm5_doctor.fleet import checks  # noqa: F401 - registers the checks

    return sorted({key.name for item in FLEET_CHECKS for key in item.facts})


def run_fleet_checks(nodes: Sequence[NodeFacts], profile: Profile) -> list[Result]:
    """Judge every cross-node check; a check that raises is an error row, never a crash."""
    from glm5_doctor.fleet import checks  # noqa: F401 - registers the checks

    results = []
    for item in FLEET_CHECKS:
        started = time.monotonic()
        try:
            outcome = item(nodes, profile)
        except Exception as exc:  # noqa: BLE001 - a broken check is an error row
            outcome = Outcome.errored(f"{type(exc).__name__}: {exc}")
        duration = int((time.monotonic() - started) * 1000)
        results.append(Result(item.id, item.title, CATEGORY, outcome, duration))
    return results
