"""``glm5-doctor run``: judge this machine (or a snapshot of one) for the deployment, print the report.

In GitHub Actions (``GITHUB_STEP_SUMMARY`` set) the report is also appended to the job summary as Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from glm5_doctor.cli.options import (
    EXIT_CODES_HELP,
    UsageError,
    add_advisories_option,
    add_deployment_options,
    add_output_options,
    add_selection_options,
    add_snapshot_option,
    add_target_options,
    advisory_database,
    profile_from,
    split_ids,
)
from glm5_doctor.engine.registry import Registry, load_registry
from glm5_doctor.engine.results import Report
from glm5_doctor.engine.session import Request, diagnose, judge_snapshot
from glm5_doctor.engine.snapshot import Snapshot, SnapshotError, read_snapshot
from glm5_doctor.report import Format, render


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "run",
        help="run the checks (the default command)",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_output_options(parser)
    add_selection_options(parser)
    add_advisories_option(parser)
    add_target_options(parser)
    add_deployment_options(parser)
    add_snapshot_option(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    registry = registry_for(args)
    snapshot = snapshot_for(args)
    profile = profile_from(args, base=snapshot.profile if snapshot else None)
    request = Request(profile, args.python, *selection(args), deep=args.deep, advisories=advisory_database(args))
    report = judged(registry, args, request, snapshot)
    write(report, args, out)
    append_step_summary(report, args)
    return report.exit_code(args.strict)


def snapshot_for(args: argparse.Namespace) -> Snapshot | None:
    """The snapshot ``--from-snapshot`` names (read once), or None to judge this machine."""
    path = getattr(args, "from_snapshot", None)
    if path is None:
        return None
    for option, given in (("--python", getattr(args, "python", None)), ("--deep", getattr(args, "deep", False))):
        if given:
            raise UsageError(f"{option} probes this machine; --from-snapshot judges saved facts: give one of them")
    try:
        return read_snapshot(path)
    except SnapshotError as exc:
        raise UsageError(f"--from-snapshot {exc}") from None


def registry_for(args: argparse.Namespace) -> Registry:
    return load_registry(autoload_plugins=False if args.no_plugins else None)


def selection(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return split_ids(args.select), split_ids(args.ignore)


def judged(registry: Registry, args: argparse.Namespace, request: Request, snapshot: Snapshot | None = None) -> Report:
    if snapshot is not None:
        return judge_snapshot(snapshot, request, registry, args.redactor, origin=args.from_snapshot)
    with _progress(request.deep and sys.stderr.isatty(), "glm5-doctor --deep: compiling a CUTLASS/CuTe test kernel"):
        return diagnose(request, registry, args.redactor)


def write(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    """Render to ``out``, or to ``--output`` atomically: a failed write never leaves a cut-off report."""
    fmt = Format(args.format)
    if not args.output:
        render(report, fmt, out, verbose=args.verbose, strict=args.strict)
        return
    write_atomically(args.output, lambda stream: render(report, fmt, stream, verbose=args.verbose, strict=args.strict))


def write_atomically(path: str, produce: Callable[[TextIO], None]) -> None:
    """``produce`` into ``path`` through a temporary file beside it: a reader never sees half of it."""
    target = os.path.abspath(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=".glm5-doctor-", dir=os.path.dirname(target))
    except OSError as exc:
        raise UsageError(f"--output {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            produce(stream)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as exc:
        raise UsageError(f"--output {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def append_step_summary(report: Report, args: argparse.Namespace) -> None:
    """In GitHub Actions, add the Markdown report to the job summary; a summary that cannot be written is
    said on stderr and changes nothing else (the report itself was already written)."""
    from glm5_doctor.report.github import STEP_SUMMARY_ENV

    path = os.environ.get(STEP_SUMMARY_ENV)
    if not path:
        return
    from glm5_doctor.report.markdown import render_markdown

    try:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(render_markdown(report, strict=args.strict) + "\n")
    except OSError as exc:
        message = f"glm5-doctor: cannot append the job summary to {STEP_SUMMARY_ENV}={path}: {exc.strerror or exc}"
        with contextlib.suppress(OSError, ValueError):
            print(args.redactor.text(message), file=sys.stderr)


@contextlib.contextmanager
def _progress(show: bool, message: str) -> Iterator[None]:
    """A spinner on stderr while slow probes run; stdout stays clean for --format json."""
    if not show:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield
