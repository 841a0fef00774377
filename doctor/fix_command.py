"""``glm5-doctor fix``: show the fix a failing check links to, with this machine's values; run it only
with consent; then judge the check again and say whether it passes now.

Nothing changes unless ``--run`` is given, and then only after a "y" at the terminal or ``--yes``.
Scripts get their inputs through the environment (see fix_plan.py) and honour ``DRY_RUN=1``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TextIO

from glm5_doctor.engine.results import ExitCode, Report, Result, Status
from glm5_doctor.fix_plan import fix_environment
from glm5_doctor.fix_scripts import fix_script, script_header

DRY_RUN_TIMEOUT_S = 60
NEEDS_FIX = (Status.FAIL, Status.ERROR, Status.WARN)

Diagnose = Callable[[Sequence[str]], Report]


class FixRefused(Exception):
    """The fix may not run here (no terminal and no --yes); exit 2."""


@dataclass(frozen=True)
class FixRequest:
    check_ids: tuple[str, ...]
    all_failing: bool
    run: bool
    yes: bool
    dry_run: bool


def fix(request: FixRequest, diagnose: Diagnose, out: TextIO, ask: Callable[[str], str] = input) -> int:
    report = diagnose(list(request.check_ids))
    wanted = [r for r in report.results if request.all_failing or r.id in request.check_ids]
    to_fix = [r for r in wanted if r.status in NEEDS_FIX and r.fix is not None]
    if not request.all_failing:
        for result in wanted:
            if result.status not in NEEDS_FIX:
                out.write(f"{result.id}: nothing to fix ({result.status.value}: {result.outcome.message})\n")
            elif result.fix is None and result.status is Status.WARN:
                out.write(f"{result.id}: nothing a script should change (warn: {result.outcome.message})\n")
            elif result.fix is None:
                out.write(
                    f"{result.id}: {result.status.value}: {result.outcome.message}\n"
                    f"  no script can fix this; 'glm5-doctor explain {result.id}' says what to do by hand\n"
                )
    if not to_fix:
        if request.all_failing:
            out.write("nothing to fix: no failing check links a fix script\n")
        failing = any(r.status in (Status.FAIL, Status.ERROR) for r in wanted)
        return ExitCode.CHECKS_FAILED if failing else ExitCode.OK
    if request.run and not request.yes and not sys.stdin.isatty():
        raise FixRefused("refusing to run a fix without a terminal to confirm it; pass --yes to run it anyway")
    # Showing a fix fixes nothing: the exit code stays 1 while a shown check still fails.
    shown_only = not request.run and not request.dry_run
    worst = ExitCode.OK
    if shown_only and any(r.status in (Status.FAIL, Status.ERROR) for r in to_fix):
        worst = ExitCode.CHECKS_FAILED
    for result in to_fix:
        show(result, report, out)
        if request.dry_run:
            worst = max(worst, _execute(result, report, out, dry_run=True))
        elif request.run:
            answer = "y" if request.yes else ask(f"Run {result.fix.script} now? [y/N] ")  # type: ignore[union-attr]
            if answer.strip().lower() not in ("y", "yes"):
                out.write("not run\n\n")
                worst = max(worst, ExitCode.CHECKS_FAILED)
                continue
            worst = max(worst, _execute(result, report, out, dry_run=False))
            worst = max(worst, _verify(result.id, diagnose, out))
    return worst


def show(result: Result, report: Report, out: TextIO) -> None:
    assert result.fix is not None
    text = fix_script(result.fix.script).read_text(encoding="utf-8")
    header = script_header(text)
    plan = fix_environment(result, report)
    out.write(f"{result.id} ({result.status.value}): {result.outcome.message}\n")
    out.write(f"fix: {result.fix.script}\n")
    for field in ("Summary", "Needs root", "Verifies"):
        if field in header:
            out.write(f"  {field}: {header[field].replace(chr(10), ' ')}\n")
    out.write(f"  command: {command_line(result.fix.script, plan)}\n")
    out.write(f"  what it would do here (DRY_RUN=1):\n{_indent(_dry_run_output(result.fix.script, plan))}\n")


def command_line(script: str, plan: dict[str, str]) -> str:
    assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in plan.items())
    with resources.as_file(fix_script(script)) as path:
        return f"{assignments} bash {shlex.quote(str(path))}".strip()


def _dry_run_output(script: str, plan: dict[str, str]) -> str:
    with resources.as_file(fix_script(script)) as path:
        try:
            completed = subprocess.run(
                ["bash", str(path)],
                env={**os.environ, **plan, "DRY_RUN": "1"},
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


def _execute(result: Result, report: Report, out: TextIO, dry_run: bool) -> ExitCode:
    assert result.fix is not None
    plan = fix_environment(result, report)
    out.write(f"running {result.fix.script}{' (DRY_RUN=1)' if dry_run else ''}\n")
    out.flush()
    environment = {**os.environ, **plan, **({"DRY_RUN": "1"} if dry_run else {})}
    with resources.as_file(fix_script(result.fix.script)) as path:
        completed = subprocess.run(["bash", str(path)], env=environment, check=False)
    if completed.returncode != 0:
        out.write(f"{result.fix.script} exited with status {completed.returncode}\n\n")
        return ExitCode.CHECKS_FAILED
    return ExitCode.OK


def _verify(check_id: str, diagnose: Diagnose, out: TextIO) -> ExitCode:
    """Judge the check again: the fix only counts when the check that linked it now passes."""
    after = next(r for r in diagnose([check_id]).results if r.id == check_id)
    if after.status in (Status.PASS, Status.WARN, Status.SKIP):
        out.write(f"{check_id} now {after.status.value}: {after.outcome.message}\n\n")
        return ExitCode.OK
    out.write(f"{check_id} still {after.status.value}: {after.outcome.message}\n\n")
    return ExitCode.CHECKS_FAILED


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
