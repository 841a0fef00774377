"""``glm5-doctor fix``: show the fix a failing check links to, with this machine's values; run it only
with consent; then judge the check again and say whether it passes now.

Nothing changes unless ``--run`` is given, and then only after a "y" at the terminal or ``--yes``.
Scripts get their inputs through the environment (see :mod:`glm5_doctor.remedies`) and honour
``DRY_RUN=1``. Exit codes: 0 fixed or nothing to fix, 1 still failing or not run, 2 refused.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from glm5_doctor import remedies
from glm5_doctor.cli.options import (
    UsageError,
    add_deployment_options,
    add_snapshot_option,
    add_target_options,
    profile_from,
)
from glm5_doctor.cli.run import judged, registry_for, snapshot_for
from glm5_doctor.deployment.profile import Profile, profile_from_serve
from glm5_doctor.deployment.serve_args import ServeArgsError, parse_serve_command
from glm5_doctor.engine.redact import RedactedOutput, Redactor, Writer
from glm5_doctor.engine.registry import Registry
from glm5_doctor.engine.results import ExitCode, Result, Status
from glm5_doctor.engine.session import Request, diagnose
from glm5_doctor.engine.snapshot import Snapshot

NEEDS_FIX = (Status.FAIL, Status.ERROR, Status.WARN)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "fix",
        help="show the fix for a failing check, with this machine's values; --run runs it (asks first), then re-checks",
        epilog="exit codes: 0 fixed or nothing to fix, 1 still failing or not run, 2 refused (no terminal, no --yes)",
    )
    parser.add_argument("check_id", metavar="ID", nargs="*", help="check IDs (or areas) to fix")
    parser.add_argument("--all-failing", action="store_true", help="every failing check of a fresh run, in order")
    parser.add_argument("--run", action="store_true", help="run the script(s) after asking for confirmation")
    parser.add_argument("--yes", action="store_true", help="do not ask (required when there is no terminal)")
    parser.add_argument(
        "--dry-run", action="store_true", help="run with DRY_RUN=1: print every command, change nothing"
    )
    add_target_options(parser)
    add_deployment_options(parser)
    add_snapshot_option(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO, ask: Callable[[str], str] = input) -> int:
    if not args.check_id and not args.all_failing:
        raise UsageError("name the check to fix (glm5-doctor fix ID) or use --all-failing")
    return _fix(args, RedactedOutput(out, args.redactor), ask)  # previews, script output: every line redacted


def _fix(args: argparse.Namespace, out: Writer, ask: Callable[[str], str]) -> int:
    registry = registry_for(args)
    wanted_ids = _expand(registry, args.check_id)
    snapshot = snapshot_for(args)
    if snapshot is not None and (args.run or args.dry_run):
        # The saved facts are another machine's: a script run here would change this one.
        raise UsageError("--from-snapshot shows fixes only; run them on the machine the snapshot was taken on")
    profile = _profile(args, snapshot)
    report = judged(registry, args, Request(profile, args.python, select=tuple(wanted_ids)), snapshot)
    wanted = [r for r in report.results if args.all_failing or r.id in wanted_ids]
    to_fix = [r for r in wanted if r.status in NEEDS_FIX and r.fix is not None]
    if not args.all_failing:
        for result in wanted:
            _say_why_not(result, out)
    if not to_fix:
        if args.all_failing:
            out.write("nothing to fix: no failing check links a fix script\n")
        failing = any(r.status in (Status.FAIL, Status.ERROR) for r in wanted)
        return ExitCode.CHECKS_FAILED if failing else ExitCode.OK
    if args.run and not args.yes and not sys.stdin.isatty():
        raise UsageError("refusing to run a fix without a terminal to confirm it; pass --yes to run it anyway")
    # Showing a fix fixes nothing: the exit code stays 1 while a shown check still fails.
    worst = ExitCode.OK
    if not args.run and not args.dry_run and any(r.status in (Status.FAIL, Status.ERROR) for r in to_fix):
        worst = ExitCode.CHECKS_FAILED
    for result in to_fix:
        check = registry.get(result.id)
        if check is None or check.fix is None:
            continue
        try:
            remedy = remedies.resolve(check, result, report)
        except remedies.RemedyError as exc:
            out.write(f"{result.id}: {exc}\n")
            worst = max(worst, ExitCode.CHECKS_FAILED)
            continue
        _show(result, remedy, out)
        if args.dry_run:
            worst = max(worst, _run(remedy, out, dry_run=True))
        elif args.run:
            answer = "y" if args.yes else _ask(ask, f"Run {remedy.script} now? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                out.write("not run\n\n")
                worst = max(worst, ExitCode.CHECKS_FAILED)
                continue
            worst = max(worst, _run(remedy, out, dry_run=False))
            worst = max(worst, _verify(result.id, registry, profile, args.python, args.redactor, out))
    return worst


def _expand(registry: Registry, selectors: Sequence[str]) -> list[str]:
    """Check IDs for the selectors; an area means its checks. Unknown selectors are usage errors."""
    ids: list[str] = []
    for selector in selectors:
        matching = [c.id for c in registry.checks if c.id == selector or c.id.startswith(selector + ".")]
        if not matching:
            raise UsageError(f"unknown check {selector!r} (see 'glm5-doctor list')")
        ids.extend(matching)
    return list(dict.fromkeys(ids))


def _profile(args: argparse.Namespace, snapshot: Snapshot | None = None) -> Profile:
    if not args.server_command:
        return profile_from(args, base=snapshot.profile if snapshot else None)
    # glm5-doctor fix serve.parsers -- vllm serve ...: judge that command, deployment flags on top.
    try:
        return profile_from_serve(parse_serve_command(args.server_command))
    except ServeArgsError as exc:
        raise UsageError(f"fix: {exc}") from None


def _say_why_not(result: Result, out: Writer) -> None:
    if result.status not in NEEDS_FIX:
        out.write(f"{result.id}: nothing to fix ({result.status.value}: {result.outcome.message})\n")
    elif result.fix is None and result.status is Status.WARN:
        out.write(f"{result.id}: nothing a script should change (warn: {result.outcome.message})\n")
    elif result.fix is None:
        out.write(
            f"{result.id}: {result.status.value}: {result.outcome.message}\n"
            f"  no script can fix this; 'glm5-doctor explain {result.id}' says what to do by hand\n"
        )


def _ask(ask: Callable[[str], str], question: str) -> str:
    try:
        return ask(question)
    except EOFError:
        return "n"


def _show(result: Result, remedy: remedies.Remedy, out: Writer) -> None:
    out.write(f"{result.id} ({result.status.value}): {result.outcome.message}\n")
    out.write(f"fix: {remedy.script}\n")
    for field in ("Summary", "Needs root", "Verifies"):
        if field in remedy.header:
            out.write(f"  {field}: {remedy.header[field].replace(chr(10), ' ')}\n")
    out.write(f"  command: {remedy.command}\n")
    dry = remedies.dry_run_output(remedy)
    out.write("  what it would do here (DRY_RUN=1):\n" + "\n".join(f"    {line}" for line in dry.splitlines()) + "\n")


def _run(remedy: remedies.Remedy, out: Writer, dry_run: bool) -> ExitCode:
    out.write(f"running {remedy.script}{' (DRY_RUN=1)' if dry_run else ''}\n")
    out.flush()
    status = remedies.run_script(remedy, dry_run, out)
    if status != 0:
        out.write(f"{remedy.script} exited with status {status}\n\n")
        return ExitCode.CHECKS_FAILED
    return ExitCode.OK


def _verify(
    check_id: str, registry: Registry, profile: Profile, python: str | None, redactor: Redactor, out: Writer
) -> ExitCode:
    """Judge the check again: the fix only counts when the check that linked it now passes."""
    report = diagnose(Request(profile, python, select=(check_id,)), registry, redactor)
    after = next(r for r in report.results if r.id == check_id)
    if after.status in (Status.PASS, Status.WARN, Status.SKIP):
        out.write(f"{check_id} now {after.status.value}: {after.outcome.message}\n\n")
        return ExitCode.OK
    out.write(f"{check_id} still {after.status.value}: {after.outcome.message}\n\n")
    return ExitCode.CHECKS_FAILED
