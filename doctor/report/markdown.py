"""The report as Markdown: a summary line, the failing and warning checks with their fixes in a table,
every other check folded away. For pull requests, issues and GitHub's job summary.

Text from outside (messages, evidence) is escaped for a table cell: HTML and Markdown syntax
characters are written literally, so a message can neither break the table nor inject markup.
"""

from __future__ import annotations

import html
import re

from glm5_doctor.engine.results import STATUS_ORDER, Report, Result, Status

#: Shown first, worst first; the rest is folded.
ATTENTION = (Status.FAIL, Status.ERROR, Status.WARN)
MARKERS = {
    Status.PASS: "pass",
    Status.WARN: ":warning: warn",
    Status.FAIL: ":x: fail",
    Status.SKIP: "skip",
    Status.ERROR: ":boom: error",
}
MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]{}|#~])")


def cell(text: str) -> str:
    """``text`` safe inside one table cell: one line, no markup of its own."""
    escaped = html.escape(" ".join(text.split()), quote=False)
    return MARKDOWN_SYNTAX.sub(r"\\\1", escaped)


def code(text: str) -> str:
    """``text`` as inline code (backticks cannot occur in a fix command; any that do are dropped)."""
    return f"`{cell(text).replace(chr(92) + '`', '')}`" if text else ""


def summary_line(report: Report, strict: bool = False) -> str:
    counts = report.counts()
    verdict = "**ready**" if report.ok(strict) else "**not ready**"
    tally = ", ".join(f"{counts[status]} {status.value}" for status in STATUS_ORDER if counts[status])
    profile = report.profile
    deployment = f"{profile.get('model')} at TP {profile.get('tensor_parallel_size')}"
    gpus = report.target.get("gpus")
    where = f" on {cell(str(gpus))}" if gpus else ""
    strict_note = " (strict: warnings count)" if strict else ""
    return f"glm5-doctor {cell(report.tool_version)}: {verdict} for {cell(deployment)}{where}: {tally}{strict_note}"


def _row(result: Result, *, with_fix: bool) -> str:
    columns = [MARKERS[result.status], f"`{cell(result.id)}`", cell(result.outcome.message)]
    if with_fix:
        columns.append(code(result.fix.command) if result.fix else "")
    return "| " + " | ".join(columns) + " |"


def render_markdown(report: Report, strict: bool = False) -> str:
    lines = [f"### {summary_line(report, strict)}", ""]
    attention = [r for status in ATTENTION for r in report.results if r.status is status]
    if attention:
        lines += ["| status | check | why | fix |", "|---|---|---|---|"]
        lines += [_row(result, with_fix=True) for result in attention]
        lines.append("")
    rest = [r for r in report.results if r.status not in ATTENTION]
    if rest:
        counts = ", ".join(
            f"{sum(r.status is status for r in rest)} {status.value}"
            for status in STATUS_ORDER
            if any(r.status is status for r in rest)
        )
        lines += [f"<details><summary>{len(rest)} other checks ({counts})</summary>", ""]
        lines += ["| status | check | result |", "|---|---|---|"]
        lines += [_row(result, with_fix=False) for result in rest]
        lines += ["", "</details>", ""]
    return "\n".join(lines)
