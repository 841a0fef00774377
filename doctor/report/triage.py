"""Render a ``glm5-doctor triage`` finding: plain text for people, one JSON document for machines."""

from __future__ import annotations

import json
from typing import Any

from glm5_doctor.report import Format


def render_triage(document: dict[str, Any], fmt: Format) -> str:
    if fmt is Format.JSON:
        return json.dumps(document, indent=2) + "\n"
    status = document["status"]
    where = f"{document['lines_read']} lines read" + (
        "; the log ends mid-line: truncated" if document["truncated"] else ""
    )
    if status == "no-failure":
        return f"No failure in the log ({where}).\n"
    if status == "unknown-failure":
        return _unknown(document, where)
    return _cause(document)


def _unknown(document: dict[str, Any], where: str) -> str:
    lines = [f"FAILED, cause not recognised ({where}).", ""]
    if document.get("last_exception"):
        lines.append(f"Last error:  {document['last_exception']}")
    block = document.get("last_error_block") or []
    if block:
        lines.append("Last error block:")
        lines += [f"  | {line}" for line in block]
    lines += ["", "No known signature matches; judge the machine with: glm5-doctor run"]
    return "\n".join(lines) + "\n"


def _cause(document: dict[str, Any]) -> str:
    cause = document["cause"]
    lines = [
        f"FAILED: {cause['summary']}  (line {cause['line_number']}, signature {cause['signature']})",
        f"Cause:       {cause['cause']}",
    ]
    covered = [*cause["checks"], *(item["id"] for item in cause["advisories"])]
    if covered:
        lines.append(f"Covered by:  {', '.join(covered)}")
    for item in cause["advisories"]:
        lines.append(f"  {item['id']}: {item['title']}")
    lines.append(f"Raised at:   {'; '.join(cause['raised_at'])}")
    lines.append("Evidence:")
    lines += [f"  | {line}" for line in cause["evidence"]]
    fix = cause.get("fix") or {}
    if fix.get("command"):
        lines.append(f"Fix:         {fix['command']}")
    elif fix.get("workaround"):
        lines.append(f"Workaround:  {fix['workaround']}")
    deployment = document.get("deployment") or {}
    profile = deployment.get("profile") or {}
    version = deployment.get("vllm_version")
    lines.append(
        f"Deployment:  {profile.get('model')} TP={profile.get('tensor_parallel_size')}"
        + (f", vLLM {version}" if version else "")
        + f" ({deployment.get('note')})"
    )
    confirmation = document.get("confirmation") or {}
    status = confirmation.get("status")
    said = {
        "still-present": "the cause is still present on this machine",
        "not-present": "the implicated checks pass on this machine now",
        "undetermined": "this machine could not confirm or rule out the cause",
        "not-run": "not re-judged (--no-confirm)",
    }.get(str(status), str(status))
    lines.append(f"Now:         {said}")
    for result in confirmation.get("results") or []:
        lines.append(f"  [{result['status'].upper():5}] {result['id']}: {result['message']}")
    return "\n".join(lines) + "\n"
