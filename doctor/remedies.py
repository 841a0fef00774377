"""A check's :class:`~glm5_doctor.engine.check.Fix` made concrete for this machine, and run.

:func:`resolve` turns a failing result into a :class:`Remedy`: the script (shipped in
``glm5_doctor.fixes`` or a plugin's own package), its header, the variables it needs here
(``PYTHON`` always; the rest from the check's ``environment``; ``SUGGESTED_COMMAND`` from its
``serve_edit`` applied to the real ``vllm serve`` line) and the shell-quoted command to paste.
:func:`run_script` runs it, streaming its output.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from glm5_doctor.engine.check import Check, Fix

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # importlib.abc.Traversable is deprecated from 3.12 and gone in 3.14
    from importlib.abc import Traversable

from glm5_doctor.engine.results import Report, Result

HEADER_FIELDS = ("Summary", "Needs root", "Verifies", "Inputs")
DRY_RUN_TIMEOUT_S = 60


class RemedyError(Exception):
    """A fix that cannot be resolved (its script is missing); never raised for a validated check."""


@dataclass(frozen=True)
class Remedy:
    check_id: str
    script: str
    header: Mapping[str, str]
    environment: Mapping[str, str]
    path: str

    @property
    def command(self) -> str:
        assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in self.environment.items())
        return f"{assignments} bash {shlex.quote(self.path)}".strip()


def script_file(fix: Fix) -> Traversable:
    """The fix's script; raises :class:`RemedyError` when its package does not ship it."""
    try:
        script = resources.files(fix.package).joinpath(fix.script)
        found = script.is_file()
    except (ModuleNotFoundError, TypeError, ValueError, OSError) as exc:
        raise RemedyError(f"fix script {fix.script!r}: package {fix.package!r} cannot be read ({exc})") from None
    if not found:
        raise RemedyError(f"no fix script named {fix.script!r} in {fix.package}")
    return script


def shipped_scripts() -> list[str]:
    """Names of every fix script the doctor ships (``_common.sh`` is their shared helper, not a fix)."""
    return sorted(
        item.name
        for item in resources.files(Fix.package).iterdir()
        if item.name.endswith(".sh") and not item.name.startswith("_")
    )


def script_header(text: str) -> dict[str, str]:
    """The ``# Field: value`` header of a fix script; continuation lines are indented comments."""
    header: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines()[1:]:
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        field, sep, value = body.partition(":")
        if sep and field in HEADER_FIELDS:
            current = field
            header[field] = value.strip()
        elif current is not None and body:
            header[current] += "\n" + body
    return header


def corrected_serve_command(fix: Fix, result: Result, report: Report) -> str | None:
    """The real ``vllm serve`` line with this result's problem corrected, or None."""
    serve = report.profile.get("serve")
    if fix.serve_edit is None or not isinstance(serve, Mapping):
        return None
    corrected = fix.serve_edit(list(serve.get("argv") or []), result.outcome.evidence)
    return shlex.join(corrected) if corrected is not None else None


def fix_environment(fix: Fix, result: Result, report: Report) -> dict[str, str]:
    """Variables for the fix script: the target Python always, the rest from the check's fix."""
    plan = {"PYTHON": str(report.target.get("python"))}
    if fix.environment is not None:
        plan.update(fix.environment(result, report))
    command = corrected_serve_command(fix, result, report)
    if command:
        plan["SUGGESTED_COMMAND"] = command
    return plan


def resolve(check: Check, result: Result, report: Report) -> Remedy:
    if check.fix is None:
        raise RemedyError(f"{check.id} links no fix")
    script = script_file(check.fix)
    with resources.as_file(script) as path:
        return Remedy(
            check_id=check.id,
            script=check.fix.script,
            header=script_header(script.read_text(encoding="utf-8")),
            environment=fix_environment(check.fix, result, report),
            path=str(path),
        )


def dry_run_output(remedy: Remedy) -> str:
    """What the script prints with ``DRY_RUN=1`` (every command, nothing changed), under a deadline."""
    try:
        completed = subprocess.run(
            ["bash", remedy.path],
            env={**os.environ, **remedy.environment, "DRY_RUN": "1"},
            capture_output=True,
            text=True,
            timeout=DRY_RUN_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "(the dry run did not finish in time)"
    text = (completed.stdout + completed.stderr).strip()
    return text or "(prints nothing)"


def run_script(remedy: Remedy, dry_run: bool) -> int:
    """Run the script with its environment, its output going straight to the terminal; its exit status."""
    environment = {**os.environ, **remedy.environment, **({"DRY_RUN": "1"} if dry_run else {})}
    return subprocess.run(["bash", remedy.path], env=environment, check=False).returncode
