"""Reporters: finished :class:`~glm5_doctor.engine.results.Report` in, text out. They never run probes."""

from __future__ import annotations

import enum
from typing import TextIO

from glm5_doctor.engine.results import Report


class Format(str, enum.Enum):
    TABLE = "table"
    JSON = "json"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    GITHUB = "github"


def render(report: Report, fmt: Format, stream: TextIO, *, verbose: bool = False, strict: bool = False) -> None:
    """Write ``report`` to ``stream`` in ``fmt``; each reporter is imported only when used (rich by the table)."""
    if fmt is Format.JSON:
        from glm5_doctor.report.json_report import render_json

        stream.write(render_json(report, strict=strict))
    elif fmt is Format.TABLE:
        from glm5_doctor.report.table import render_table

        render_table(report, stream, verbose=verbose, strict=strict)
    elif fmt is Format.JUNIT:
        from glm5_doctor.report.junit import render_junit

        stream.write(render_junit(report, strict=strict))
    elif fmt is Format.MARKDOWN:
        from glm5_doctor.report.markdown import render_markdown

        stream.write(render_markdown(report, strict=strict))
    elif fmt is Format.GITHUB:
        from glm5_doctor.report.github import render_github

        stream.write(render_github(report, strict=strict))
    else:  # pragma: no cover - exhaustiveness is tested over Format
        raise ValueError(f"unknown format {fmt!r}")
