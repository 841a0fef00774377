"""``glm5-doctor fleet`` at the terminal: the nodes, the cross-node results, then a node x check matrix.

A few nodes are columns (one status per cell); past :data:`COLUMNS_UP_TO` nodes each check lists
its nodes grouped by verdict instead. A node that gave no facts is an ERROR row in the node list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from glm5_doctor.engine.results import STATUS_ORDER, Result, Status
from glm5_doctor.fleet.report import FleetReport, NodeReport
from glm5_doctor.report.table import PLAIN_WIDTH, STYLES
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Up to this many nodes, the nodes are the matrix's columns.
COLUMNS_UP_TO = 6
NO_FACTS = "-"


def render_fleet(report: FleetReport, stream: TextIO, *, verbose: bool = False, strict: bool = False) -> None:
    interactive = stream.isatty()
    console = Console(
        file=stream, width=None if interactive else PLAIN_WIDTH, highlight=False, soft_wrap=False, emoji=False
    )
    with console.capture() as captured:
        console.print(Text(f"glm5-doctor fleet: {len(report.nodes)} Ray nodes", style="bold"))
        console.print(_nodes(report.nodes))
        console.print()
        console.print(Text("Cross-node checks", style="bold underline"))
        console.print(_results(report.cross))
        console.print()
        ids = _check_ids(report.nodes)
        console.print(Text("Per-node checks", style="bold underline"))
        if len(report.nodes) <= COLUMNS_UP_TO:
            console.print(_columns(report.nodes, ids, verbose))
        else:
            console.print(_grouped(report.nodes, ids, verbose))
        console.print()
        console.print(_problems(report.nodes))
        counts = {status: 0 for status in STATUS_ORDER}
        for result in report.all_results():
            counts[result.status] += 1
        verdict = "OK" if report.ok(strict) else "NOT READY"
        tally = ", ".join(f"{count} {status.value}" for status, count in counts.items() if count)
        console.print(Text(f"{verdict}: {tally} across {len(report.nodes)} nodes", style="bold"))
    stream.write(captured.get())


def _cell(status: Status) -> Text:
    return Text(status.value.upper(), style=STYLES[status])


def _nodes(nodes: Sequence[NodeReport]) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column("status", no_wrap=True, width=5)
    table.add_column("node", no_wrap=True, style="bold")
    table.add_column("what", overflow="fold")
    for node in nodes:
        role = "head" if node.head else "worker"
        if node.report is None:
            table.add_row(_cell(Status.ERROR), node.name, f"{role}: {node.error}")
        else:
            target = node.report.target
            table.add_row(
                _cell(Status.PASS),
                node.name,
                f"{role}: {target.get('python')} ({target.get('gpus') or 'no GPUs'}), answered in "
                f"{node.duration_ms / 1000:.1f} s",
            )
    return table


def _results(results: Sequence[Result]) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column("status", no_wrap=True, width=5)
    table.add_column("check", no_wrap=True, style="bold")
    table.add_column("result", overflow="fold")
    for result in results:
        table.add_row(_cell(result.status), result.id, result.outcome.message)
    return table


def _check_ids(nodes: Sequence[NodeReport]) -> list[str]:
    ids: dict[str, None] = {}
    for node in nodes:
        for result in node.report.results if node.report else ():
            ids.setdefault(result.id)
    return list(ids)


def _status(node: NodeReport, check_id: str) -> Status | None:
    for result in node.report.results if node.report else ():
        if result.id == check_id:
            return result.status
    return None


def _interesting(nodes: Sequence[NodeReport], check_id: str, verbose: bool) -> bool:
    """Without -v, rows where every node passed or skipped alike are left out (they say nothing between nodes)."""
    statuses = {_status(node, check_id) for node in nodes if node.report}
    return verbose or len(statuses) > 1 or not statuses <= {Status.PASS, Status.SKIP}


def _columns(nodes: Sequence[NodeReport], ids: Sequence[str], verbose: bool) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 1))
    table.add_column("check", no_wrap=True, style="bold")
    for node in nodes:
        table.add_column(node.name, no_wrap=True)
    for check_id in ids:
        if not _interesting(nodes, check_id, verbose):
            continue
        cells = [_cell(status) if status else Text(NO_FACTS) for status in (_status(node, check_id) for node in nodes)]
        table.add_row(check_id, *cells)
    return table


def _grouped(nodes: Sequence[NodeReport], ids: Sequence[str], verbose: bool) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column("check", no_wrap=True, style="bold")
    table.add_column("nodes by verdict", overflow="fold")
    for check_id in ids:
        if not _interesting(nodes, check_id, verbose):
            continue
        groups: dict[Status, list[str]] = {}
        for node in nodes:
            status = _status(node, check_id)
            if status is not None:
                groups.setdefault(status, []).append(node.name)
        line = Text()
        for status in STATUS_ORDER:
            names = groups.get(status)
            if names:
                shown = f"{len(names)} nodes" if status is Status.PASS else ", ".join(names)
                line.append(f"{status.value.upper()} ", style=STYLES[status]).append(f"{shown}  ")
        table.add_row(check_id, line)
    return table


def _problems(nodes: Sequence[NodeReport]) -> Table:
    """Every fail, warn and error of a node, with its message: what the matrix's cells stand for."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column("status", no_wrap=True, width=5)
    table.add_column("where", no_wrap=True, style="bold")
    table.add_column("result", overflow="fold")
    for node in nodes:
        for result in node.report.results if node.report else ():
            if result.status in (Status.FAIL, Status.WARN, Status.ERROR):
                table.add_row(_cell(result.status), f"{node.name} {result.id}", result.outcome.message)
    return table
