"""``glm5-doctor``: argparse in, one command module out. No rendering and no orchestration here.

Each command lives in its own module (``run``, ``catalog`` for list/explain, ``fix``,
``preflight``, ``fit``, ``schema``) with a ``register`` that adds its parser and an ``execute``
that runs it; the option groups they share are in :mod:`glm5_doctor.cli.options`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from glm5_doctor import __version__
from glm5_doctor.cli import catalog, fit, fix, preflight, run, schema
from glm5_doctor.cli.options import EXIT_CODES_HELP, UsageError
from glm5_doctor.engine.results import ExitCode
from glm5_doctor.engine.session import RequestError

DEBUG_ENV = "GLM5_DOCTOR_DEBUG"
#: Commands whose arguments end at ``--``: what follows is a server command, passed through untouched.
TAKES_SERVER_COMMAND = ("preflight", "fix")
COMMANDS = (run, catalog, fix, preflight, fit, schema)

Execute = Callable[[argparse.Namespace, TextIO], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glm5-doctor",
        description="Will `vllm serve zai-org/GLM-5-FP8` work here? Checks the machine before the weights load.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"glm5-doctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    server_command: list[str] = []
    if args_list[:1] and args_list[0] in TAKES_SERVER_COMMAND and "--" in args_list:
        split = args_list.index("--")
        args_list, server_command = args_list[:split], args_list[split + 1 :]
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "run")
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
        args.server_command = server_command
        execute: Execute = args.execute
        return int(execute(args, sys.stdout))
    except SystemExit as exc:  # argparse: usage errors are 2, --help/--version 0
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.USAGE_ERROR
    except (UsageError, RequestError) as exc:
        print(f"glm5-doctor: {exc}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    except KeyboardInterrupt:
        print("glm5-doctor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"glm5-doctor: internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for the traceback)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR
