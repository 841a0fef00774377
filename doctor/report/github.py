"""GitHub Actions workflow commands: one ``::error`` or ``::warning`` annotation per failing or warning check.

Values are escaped as the Actions runner's own toolkit escapes them (``@actions/core``
command.ts, https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts): in the
message ``%``, CR and LF; in a property also ``:`` and ``,``. So a message can never end the
command early or start another one. The Markdown job summary is written by ``run`` when
``GITHUB_STEP_SUMMARY`` is set (https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands).
"""

from __future__ import annotations

from glm5_doctor.engine.results import Report, Result, Status
from glm5_doctor.report.markdown import summary_line

#: The variable GitHub Actions sets to the file a step appends its job summary to.
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _annotation(result: Result, strict: bool) -> str | None:
    if result.status in (Status.FAIL, Status.ERROR) or (result.status is Status.WARN and strict):
        level = "error"
    elif result.status is Status.WARN:
        level = "warning"
    else:
        return None
    message = result.outcome.message
    if result.fix is not None:
        message += f"\nfix: {result.fix.command}"
    return command(level, message, title=f"glm5-doctor {result.id} ({result.status.value}): {result.title}")


def render_github(report: Report, strict: bool = False) -> str:
    lines = [line for result in report.results if (line := _annotation(result, strict)) is not None]
    lines.append(command("notice", summary_line(report, strict).replace("**", ""), title="glm5-doctor"))
    return "\n".join(lines) + "\n"
