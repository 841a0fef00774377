"""``glm5-doctor preflight [OPTIONS] -- vllm serve ...``: judge the real launch command, then become it.

The deployment comes from the command itself (read as vLLM reads it), the environment judged is
the one the command will run in. The report goes to stderr: stdout belongs to the server. On
success the doctor replaces itself with the command (same PID, same environment).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from glm5_doctor.cli.options import (
    EXIT_CODES_HELP,
    UsageError,
    add_advisories_option,
    add_output_options,
    add_selection_options,
    add_target_options,
    advisory_database,
)
from glm5_doctor.cli.run import judged, registry_for, selection, write
from glm5_doctor.deployment.launch import launch, target_python
from glm5_doctor.deployment.profile import profile_from_serve
from glm5_doctor.deployment.serve_args import ServeArgsError, parse_serve_command
from glm5_doctor.engine.results import ExitCode
from glm5_doctor.engine.session import Request
from glm5_doctor.report import Format, render

#: The command could not be started (not found, not executable), as a shell says it.
COMMAND_NOT_STARTED = 127


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "preflight",
        help="judge a vllm serve command, then start it only if nothing fails: preflight [OPTIONS] -- vllm serve ...",
        epilog=EXIT_CODES_HELP + "  on success the server replaces glm5-doctor (same PID); 127: it could not start\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--warn-only", action="store_true", help="report, then start the server even if checks fail")
    add_output_options(parser, output_help="also write the report to FILE (for orchestrators)")
    add_selection_options(parser)
    add_advisories_option(parser)
    add_target_options(parser, python_help="the environment to judge (default: the interpreter the command will run)")
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    command = args.server_command
    if not command:
        raise UsageError("preflight needs the server command after --: glm5-doctor preflight -- vllm serve MODEL ...")
    try:
        profile = profile_from_serve(parse_serve_command(command))
    except ServeArgsError as exc:
        raise UsageError(f"preflight: {exc}") from None
    python = args.python or target_python(command)
    request = Request(profile, python, *selection(args), deep=args.deep, advisories=advisory_database(args))
    report = judged(registry_for(args), args, request)
    if args.output:
        write(report, args, sys.stderr)
    else:
        render(report, Format(args.format), sys.stderr, verbose=args.verbose, strict=args.strict)
    if args.output and Format(args.format) is not Format.TABLE:
        render(report, Format.TABLE, sys.stderr, verbose=args.verbose, strict=args.strict)
    if not report.ok(args.strict) and not args.warn_only:
        print(
            "glm5-doctor: not starting the server: fix the failures above (or pass --warn-only to start anyway)",
            file=sys.stderr,
        )
        return ExitCode.CHECKS_FAILED
    sys.stderr.flush()
    sys.stdout.flush()
    try:
        launch(command)
    except OSError as exc:
        print(f"glm5-doctor: cannot start {command[0]}: {exc.strerror or exc}", file=sys.stderr)
        return COMMAND_NOT_STARTED
    return ExitCode.INTERNAL_ERROR  # pragma: no cover - exec does not return
