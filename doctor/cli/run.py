"""``glm5-doctor run``: judge this machine for the deployment, print the report."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any, TextIO

from glm5_doctor.cli.options import (
    EXIT_CODES_HELP,
    UsageError,
    add_advisories_option,
    add_deployment_options,
    add_output_options,
    add_selection_options,
    add_target_options,
    advisory_database,
    profile_from,
    split_ids,
)
from glm5_doctor.engine.registry import Registry, load_registry
from glm5_doctor.engine.results import Report
from glm5_doctor.engine.session import Request, diagnose
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
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    registry = registry_for(args)
    report = judged(
        registry,
        args,
        Request(profile_from(args), args.python, *selection(args), deep=args.deep, advisories=advisory_database(args)),
    )
    write(report, args, out)
    return report.exit_code(args.strict)


def registry_for(args: argparse.Namespace) -> Registry:
    return load_registry(autoload_plugins=False if args.no_plugins else None)


def selection(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return split_ids(args.select), split_ids(args.ignore)


def judged(registry: Registry, args: argparse.Namespace, request: Request) -> Report:
    with _progress(request.deep and sys.stderr.isatty(), "glm5-doctor --deep: compiling a CUTLASS/CuTe test kernel"):
        return diagnose(request, registry, args.redactor)


def write(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    """Render to ``out``, or to ``--output`` atomically: a failed write never leaves a cut-off report."""
    fmt = Format(args.format)
    if not args.output:
        render(report, fmt, out, verbose=args.verbose, strict=args.strict)
        return
    target = os.path.abspath(args.output)
    try:
        handle, temporary = tempfile.mkstemp(prefix=".glm5-doctor-", dir=os.path.dirname(target))
    except OSError as exc:
        raise UsageError(f"--output {args.output}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            render(report, fmt, stream, verbose=args.verbose, strict=args.strict)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as exc:
        raise UsageError(f"--output {args.output}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


@contextlib.contextmanager
def _progress(show: bool, message: str) -> Iterator[None]:
    """A spinner on stderr while slow probes run; stdout stays clean for --format json."""
    if not show:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield
