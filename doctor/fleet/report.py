"""A fleet run's result: every node's report (judged here with today's checks) and the cross-node results.

The JSON document is a report (schema_version 1) whose ``results`` are the cross-node ones, whose
``summary`` counts every node's results as well, and whose ``nodes`` holds each node's report or error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from glm5_doctor import __version__
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.redact import Redactor
from glm5_doctor.engine.registry import Registry
from glm5_doctor.engine.results import STATUS_ORDER, ExitCode, Outcome, Report, Result, Status
from glm5_doctor.engine.session import Request, judge_snapshot
from glm5_doctor.engine.snapshot import SnapshotError, parse_snapshot
from glm5_doctor.fleet.collect import NodeAnswer
from glm5_doctor.fleet.registry import CATEGORY, NodeFacts, run_fleet_checks

NODES_ANSWERED = "fleet.nodes-answered"


@dataclass(frozen=True)
class NodeReport:
    name: str
    node_id: str
    address: str
    head: bool
    duration_ms: int
    report: Report | None
    error: str | None

    def to_dict(self, strict: bool = False) -> dict[str, Any]:
        return {
            "name": self.name,
            "node_id": self.node_id,
            "address": self.address,
            "head": self.head,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "report": self.report.to_dict(strict) if self.report else None,
        }


@dataclass(frozen=True)
class FleetReport:
    """The head's judgment of every node, and what the nodes were compared on."""

    summary_report: Report
    nodes: tuple[NodeReport, ...]

    @property
    def cross(self) -> tuple[Result, ...]:
        return self.summary_report.results

    def all_results(self) -> list[Result]:
        results = list(self.cross)
        for node in self.nodes:
            results.extend(node.report.results if node.report else ())
        return results

    def ok(self, strict: bool = False) -> bool:
        bad = {Status.FAIL, Status.ERROR} | ({Status.WARN} if strict else set())
        return not any(result.status in bad for result in self.all_results())

    def exit_code(self, strict: bool = False) -> ExitCode:
        return ExitCode.OK if self.ok(strict) else ExitCode.CHECKS_FAILED

    def to_dict(self, strict: bool = False) -> dict[str, Any]:
        data = self.summary_report.to_dict(strict)
        tally = {status: 0 for status in STATUS_ORDER}
        for result in self.all_results():
            tally[result.status] += 1
        summary: dict[str, Any] = {status.value: count for status, count in tally.items()}
        summary.update(ok=self.ok(strict), strict=strict, nodes=len(self.nodes))
        data["summary"] = summary
        data["nodes"] = [node.to_dict(strict) for node in self.nodes]
        return data

    def flattened(self) -> Report:
        """One report for the line-oriented formats (JUnit, Markdown, GitHub): every node's results titled
        with the node, after the cross-node ones."""
        results = list(self.cross)
        for node in self.nodes:
            for result in node.report.results if node.report else ():
                results.append(replace(result, title=f"[{node.name}] {result.title}"))
        return replace(self.summary_report, results=tuple(results))


def judge_fleet(
    answers: Sequence[NodeAnswer], request: Request, registry: Registry, redactor: Redactor | None = None
) -> FleetReport:
    """Judge each node's snapshot with this doctor's checks, then compare the nodes that answered."""
    redactor = redactor or Redactor(os.environ)
    nodes: list[NodeReport] = []
    answered: list[NodeFacts] = []
    for answer in answers:
        report, error = None, answer.error
        if answer.document is not None:
            try:
                snapshot = parse_snapshot(dict(answer.document), f"node {answer.name}")
            except SnapshotError as exc:
                error = str(exc)
            else:
                report = judge_snapshot(snapshot, request, registry, redactor, origin=f"ray node {answer.name}")
                answered.append(NodeFacts(answer.name, Facts(snapshot.facts.data, snapshot.facts.errors)))
        nodes.append(
            NodeReport(answer.name, answer.node_id, answer.address, answer.head, answer.duration_ms, report, error)
        )
    cross = [_nodes_answered(nodes)]
    if answered:
        cross.extend(run_fleet_checks(answered, request.profile))
    head = next((node.report for node in nodes if node.head and node.report), None)
    summary = Report(
        tool_version=__version__,
        profile=request.profile.to_dict(),
        target={
            **(dict(head.target) if head else {"python": "", "python_version": None}),
            "fleet": {"nodes": len(nodes), "answered": len(answered)},
        },
        results=tuple(cross),
        advisories=head.advisories if head else None,
    )
    return FleetReport(redactor.report(summary), tuple(nodes))


def _nodes_answered(nodes: Sequence[NodeReport]) -> Result:
    failed = {node.name: node.error for node in nodes if node.error}
    if not nodes:
        outcome = Outcome.errored("the cluster has no alive node")
    elif failed:
        listed = "; ".join(f"{name}: {error}" for name, error in failed.items())
        outcome = Outcome.errored(f"{len(failed)} of {len(nodes)} nodes gave no facts: {listed}", {"nodes": failed})
    else:
        outcome = Outcome.passed(f"all {len(nodes)} nodes answered", {"nodes": [node.name for node in nodes]})
    return Result(NODES_ANSWERED, "Every alive node of the Ray cluster answered in time", CATEGORY, outcome, 0)
