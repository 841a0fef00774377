"""``glm5-doctor``: argparse in, one command module out. No rendering and no orchestration here.

Each command lives in its own module (``run``, ``catalog`` for list/explain, ``fix``, ``preflight``,
``fit``, ``schema``, ``snapshot``, ``advisories``, ``triage``, ``fleet``) with a ``register`` that
adds its parser and an ``execute`` that runs it; the option groups they share are in
:mod:`glm5_doctor.cli.options`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, TextIO

from glm5_doctor import __version__
from glm5_doctor.cli import advisories, catalog, fit, fix, fleet, preflight, run, schema, snapshot, triage
from glm5_doctor.cli.options import EXIT_CODES_HELP, UsageError
from glm5_doctor.engine import processes
from glm5_doctor.engine.redact import Redactor, secrets_in_arguments
from glm5_doctor.engine.results import ExitCode
from glm5_doctor.engine.session import RequestError

DEBUG_ENV = "GLM5_DOCTOR_DEBUG"
#: Commands whose arguments end at ``--``: what follows is a server command, passed through untouched.
TAKES_SERVER_COMMAND = ("preflight", "fix")
COMMANDS = (run, catalog, fix, preflight, fit, schema, snapshot, advisories, triage, fleet)

Execute = Callable[[argparse.Namespace, TextIO], int]
#: Exit statuses after a signal, as a shell reports them (128 + the signal number).
INTERRUPTED = 128 + signal.SIGINT
TERMINATED = 128 + signal.SIGTERM


class Terminated(Exception):
    """SIGTERM arrived: stop, end every child process group, exit 143."""


class RedactingParser(argparse.ArgumentParser):
    """argparse's own messages (usage errors echo the value given) pass the redactor like every output."""

    redactor: Redactor | None = None

    def _print_message(self, message: str, file: Any = None) -> None:
        if message and RedactingParser.redactor is not None:
            message = RedactingParser.redactor.text(message)
        super()._print_message(message, file)


def build_parser() -> argparse.ArgumentParser:
    parser = RedactingParser(
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
    _safe_standard_streams()
    redactor = Redactor(os.environ, secrets_in_arguments(args_list))
    RedactingParser.redactor = redactor
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(args_list, redactor)
    finally:
        processes.kill_all()
        signal.signal(signal.SIGTERM, previous)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def _safe_standard_streams() -> None:
    """Output a terminal's encoding cannot show is escaped, not fatal; a closed stream becomes a sink."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as sys
        elif hasattr(stream, "reconfigure"):
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors="backslashreplace")


def _main(args_list: list[str], redactor: Redactor) -> int:
    server_command: list[str] = []
    if args_list[:1] and args_list[0] in TAKES_SERVER_COMMAND and "--" in args_list:
        split = args_list.index("--")
        args_list, server_command = args_list[:split], args_list[split + 1 :]
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "run")
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
        _refuse_empty_values(args)
        args.server_command = server_command
        args.redactor = redactor
        execute: Execute = args.execute
        return int(execute(args, sys.stdout))
    except SystemExit as exc:  # argparse: usage errors are 2, --help/--version 0
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.USAGE_ERROR
    except (UsageError, RequestError) as exc:
        _say(redactor, f"glm5-doctor: {exc}")
        return ExitCode.USAGE_ERROR
    except KeyboardInterrupt:
        processes.kill_all()
        _say(redactor, "glm5-doctor: interrupted")
        return INTERRUPTED
    except Terminated:
        processes.kill_all()
        _say(redactor, "glm5-doctor: terminated")
        return TERMINATED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        _say(
            redactor, f"glm5-doctor: internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for the traceback)"
        )
        return ExitCode.INTERNAL_ERROR


#: Options argparse collects as lists on purpose; any other list is argparse reading ``--opt=--``.
LIST_OPTIONS = frozenset({"select", "ignore", "check_id", "distribution", "advisory_id"})


def _refuse_empty_values(args: argparse.Namespace) -> None:
    """argparse turns ``--gpu=--`` into an empty list instead of an error: refuse it as one."""
    for name, value in vars(args).items():
        if isinstance(value, list) and (name not in LIST_OPTIONS or any(not isinstance(v, str) for v in value)):
            raise UsageError(f"--{name.replace('_', '-')} needs a value")


def _say(redactor: Redactor, line: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # no stderr to say it on
        print(redactor.text(line[:2000]), file=sys.stderr)
