"""Command-line wiring only: argparse in, calls to registry / diagnose / reporters out."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, TextIO

from glm5_doctor import __version__, knowledge
from glm5_doctor.deployment.profile import BUILTIN_PROFILES, DEFAULT_PROFILE, Profile
from glm5_doctor.engine.redact import Redactor
from glm5_doctor.engine.registry import Registry, load_registry
from glm5_doctor.engine.results import ExitCode, Report
from glm5_doctor.probes import ProbeContext
from glm5_doctor.probes.interpreter import InterpreterError, target_interpreter
from glm5_doctor.report import Format, render

EXIT_CODES_HELP = """\
exit codes:
  0  no fail or error results (warnings allowed; --strict makes them count)
  1  at least one fail or error result
  2  usage error or unreadable input (bad option, unknown check, unusable --python)
  3  internal error in glm5-doctor itself
"""
DEBUG_ENV = "GLM5_DOCTOR_DEBUG"


class UsageError(Exception):
    """Bad arguments or unreadable input: exit 2 with one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glm5-doctor",
        description="Will `vllm serve zai-org/GLM-5-FP8` work here? Checks the machine before the weights load.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"glm5-doctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the checks (the default command)",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--format", choices=[f.value for f in Format], default=Format.TABLE.value)
    run.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    run.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="IDS",
        help="only these checks: IDs or areas, comma-separated (e.g. vllm,python.version)",
    )
    run.add_argument("--ignore", action="append", default=[], metavar="IDS", help="leave out these checks")
    run.add_argument("--strict", action="store_true", help="warnings make the exit code 1")
    run.add_argument("-v", "--verbose", action="store_true", help="show the evidence under each result")
    run.add_argument(
        "--python",
        metavar="PATH",
        default=None,
        help="the Python environment vLLM will run in (default: the one running glm5-doctor)",
    )
    run.add_argument("--no-plugins", action="store_true", help="do not load third-party checks")
    run.add_argument(
        "--deep",
        action="store_true",
        help="also run slow probes: compile a CUTLASS/CuTe kernel with the nvcc DeepGEMM will use",
    )
    add_profile_arguments(run)

    listing = commands.add_parser("list", help="list every check: ID, title, fix script")
    listing.add_argument("--no-plugins", action="store_true")
    explain = commands.add_parser("explain", help="what a check looks at, why it matters, how to fix it")
    explain.add_argument("check_id", metavar="ID")
    explain.add_argument("--no-plugins", action="store_true")
    fix = commands.add_parser(
        "fix",
        help="show the fix for a failing check, with this machine's values; --run runs it (asks first), then re-checks",
        epilog="exit codes: 0 fixed or nothing to fix, 1 still failing or not run, 2 refused (no terminal, no --yes)",
    )
    fix.add_argument("check_id", metavar="ID", nargs="*", help="check IDs (or areas) to fix")
    fix.add_argument("--all-failing", action="store_true", help="every failing check of a fresh run, in order")
    fix.add_argument("--run", action="store_true", help="run the script(s) after asking for confirmation")
    fix.add_argument("--yes", action="store_true", help="do not ask (required when there is no terminal)")
    fix.add_argument("--dry-run", action="store_true", help="run with DRY_RUN=1: print every command, change nothing")
    fix.add_argument("--python", metavar="PATH", default=None)
    fix.add_argument("--no-plugins", action="store_true")
    add_profile_arguments(fix)
    preflight = commands.add_parser(
        "preflight",
        help="judge a vllm serve command, then start it only if nothing fails: preflight [OPTIONS] -- vllm serve ...",
        epilog=EXIT_CODES_HELP + "  on success the server replaces glm5-doctor (same PID); 127: it could not start\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    preflight.add_argument("--warn-only", action="store_true", help="report, then start the server even if checks fail")
    preflight.add_argument("--format", choices=[f.value for f in Format], default=Format.TABLE.value)
    preflight.add_argument("--output", "-o", metavar="FILE", help="also write the report to FILE (for orchestrators)")
    preflight.add_argument("--select", action="append", default=[], metavar="IDS")
    preflight.add_argument("--ignore", action="append", default=[], metavar="IDS")
    preflight.add_argument("--strict", action="store_true", help="warnings refuse the launch too")
    preflight.add_argument("-v", "--verbose", action="store_true")
    preflight.add_argument(
        "--python",
        metavar="PATH",
        default=None,
        help="the environment to judge (default: the interpreter the command will run)",
    )
    preflight.add_argument("--no-plugins", action="store_true")
    preflight.add_argument("--deep", action="store_true")
    commands.add_parser("schema", help="print the JSON Schema of the --format json report")
    fit = commands.add_parser("fit", help="picture the memory of each GPU: weights, overhead, KV cache, free")
    fit.add_argument("--gpus", type=_positive_int, help="plan for this many GPUs (with --gpu), not the ones here")
    fit.add_argument("--format", choices=[f.value for f in Format], default=Format.TABLE.value)
    add_profile_arguments(fit)
    return parser


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("deployment profile (defaults: the seed deployment)")
    group.add_argument("--profile", choices=sorted(BUILTIN_PROFILES), default=DEFAULT_PROFILE.name)
    group.add_argument("--model", help="model id or path (e.g. zai-org/GLM-5-FP8)")
    group.add_argument("--tp", "--tensor-parallel-size", dest="tp", type=_positive_int)
    group.add_argument("--pp", "--pipeline-parallel-size", dest="pp", type=_positive_int)
    group.add_argument("--max-model-len", type=_positive_int)
    group.add_argument("--gpu-memory-utilization", type=_utilization)
    group.add_argument("--kv-cache-dtype", choices=["auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_ds_mla"])
    group.add_argument(
        "--gpu", choices=sorted(knowledge.GPUS), help="plan for this GPU instead of judging the ones NVML finds"
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def _utilization(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text}")
    return value


def profile_from(args: argparse.Namespace) -> Profile:
    """The named profile with every flag the user gave applied on top."""
    profile = BUILTIN_PROFILES[args.profile]
    changes: dict[str, Any] = {
        "model": args.model,
        "tensor_parallel_size": args.tp,
        "pipeline_parallel_size": args.pp,
        "max_model_len": args.max_model_len,
        "gpu_memory_utilization": args.gpu_memory_utilization,
        "kv_cache_dtype": args.kv_cache_dtype,
    }
    if args.gpu:
        changes.update(gpu=args.gpu, detect_gpu=False)
    return replace(profile, **{key: value for key, value in changes.items() if value is not None})


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    # preflight: everything after the first "--" is the server's command line, passed through untouched.
    if args_list[:1] in (["preflight"], ["fix"]) and "--" in args_list:
        split = args_list.index("--")
        args_list, command = args_list[:split], args_list[split + 1 :]
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "run")
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
        args.server_command = command
        return int(_dispatch(args, sys.stdout))
    except SystemExit as exc:  # argparse: usage errors are 2, --help/--version 0
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.USAGE_ERROR
    except UsageError as exc:
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


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "schema":
        from glm5_doctor.report.schema import REPORT_SCHEMA

        out.write(json.dumps(REPORT_SCHEMA, indent=2) + "\n")
        return ExitCode.OK
    if args.command == "fit":
        from glm5_doctor.fit_command import FitError, run_fit

        try:
            return run_fit(profile_from(args), args.gpus, Format(args.format), out)
        except FitError as exc:
            raise UsageError(str(exc)) from None
    registry = load_registry(autoload_plugins=False if args.no_plugins else None)
    if args.command == "list":
        return _list(registry, out)
    if args.command == "explain":
        return _explain(registry, args.check_id, out)
    if args.command == "fix":
        return _fix(registry, args, out)
    if args.command == "preflight":
        if not args.server_command:
            raise UsageError(
                "preflight needs the server command after --: glm5-doctor preflight -- vllm serve MODEL ..."
            )
        return _preflight(registry, args, args.server_command)
    return _run(registry, args, out)


def _run(registry: Registry, args: argparse.Namespace, out: TextIO) -> int:
    report = _diagnose(registry, args, profile_from(args), args.python)
    _write(report, args, out)
    return report.exit_code(args.strict)


def _diagnose(registry: Registry, args: argparse.Namespace, profile: Profile, python_arg: str | None) -> Report:
    """Select, probe, judge and redact: what ``run`` and ``preflight`` share."""
    from glm5_doctor.engine.session import diagnose

    try:
        checks = registry.select(_split(args.select), _split(args.ignore))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    python = None
    if python_arg is not None:
        python = os.path.abspath(os.path.expanduser(python_arg))
        if not os.path.exists(python):
            raise UsageError(f"--python {python_arg}: no such file")
    # The compile probe targets the GPUs NVML finds, unless the user named one (--gpu) to plan for.
    gpu_arch = None if profile.detect_gpu else profile.arch_flag()
    context = ProbeContext(python=python, deep=args.deep, gpu_arch=gpu_arch, profile=profile)
    if python is not None:
        try:
            target_interpreter(context)
        except InterpreterError as exc:
            raise UsageError(f"--python: {exc}") from None
    with _progress(args.deep and sys.stderr.isatty(), "glm5-doctor --deep: compiling a CUTLASS/CuTe test kernel"):
        report = diagnose(checks, profile, context, registry.sources, registry.load_errors)
    return Redactor(os.environ).report(report)


def _write(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    fmt = Format(args.format)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as stream:
                render(report, fmt, stream, verbose=args.verbose, strict=args.strict)
        except OSError as exc:
            raise UsageError(f"--output {args.output}: {exc.strerror or exc}") from None
    else:
        render(report, fmt, out, verbose=args.verbose, strict=args.strict)


def _preflight(registry: Registry, args: argparse.Namespace, command: list[str]) -> int:
    """Judge the launch command; exec it when nothing fails (or with --warn-only), else refuse."""
    from glm5_doctor.deployment.launch import launch, profile_from_serve, target_python
    from glm5_doctor.deployment.serve_args import ServeArgsError, parse_serve_command

    try:
        profile = profile_from_serve(parse_serve_command(command))
    except ServeArgsError as exc:
        raise UsageError(f"preflight: {exc}") from None
    python = args.python or target_python(command)
    report = _diagnose(registry, args, profile, python)
    # The report goes to stderr: stdout belongs to the server that is about to start.
    if args.output:
        _write(report, args, sys.stderr)
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
        return 127
    return ExitCode.INTERNAL_ERROR  # pragma: no cover - exec does not return


@contextlib.contextmanager
def _progress(show: bool, message: str) -> Iterator[None]:
    """A spinner on stderr while slow probes run; stdout stays clean for --format json."""
    if not show:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _list(registry: Registry, out: TextIO) -> int:
    width = max((len(item.id) for item in registry.checks), default=10)
    for item in registry.checks:
        source = "" if registry.sources.get(item.id) == "builtin" else f"  [{registry.sources.get(item.id)}]"
        out.write(f"{item.id:<{width}}  {item.title}  (fix: {item.fix or '-'}){source}\n")
    for error in registry.load_errors:
        out.write(f"plugin.{error.entry_point:<{max(0, width - 7)}}  failed to load: {error.error}\n")
    return ExitCode.OK


def _explain(registry: Registry, check_id: str, out: TextIO) -> int:
    item = registry.get(check_id)
    if item is None:
        raise UsageError(f"unknown check {check_id!r} (see 'glm5-doctor list')")
    out.write(f"{item.id}: {item.title}\n")
    out.write(f"category: {item.category}   source: {registry.sources.get(item.id)}\n")
    if item.requires:
        out.write(f"requires: {', '.join(item.requires)}\n")
    out.write(f"fix: {f'glm5-doctor fix {item.id} ({item.fix})' if item.fix else 'none linked'}\n")
    sections = item.sections()
    summary = item.doc.split("\n\n", 1)[0].strip()
    if summary:
        out.write(f"\n{summary}\n")
    for name, text in sections.items():
        out.write(f"\n{name}:\n")
        out.write("".join(f"  {line}\n" if line else "\n" for line in text.splitlines()))
    return ExitCode.OK


def _fix(registry: Registry, args: argparse.Namespace, out: TextIO) -> int:
    from glm5_doctor.fix_command import FixRefused, FixRequest, fix

    if not args.check_id and not args.all_failing:
        raise UsageError("name the check to fix (glm5-doctor fix ID) or use --all-failing")
    for check_id in args.check_id:
        if registry.get(check_id) is None and not any(c.id.startswith(check_id + ".") for c in registry.checks):
            raise UsageError(f"unknown check {check_id!r} (see 'glm5-doctor list')")
    profile = profile_from(args)
    if args.server_command:  # glm5-doctor fix serve.parsers -- vllm serve ...: judge that command
        from glm5_doctor.deployment.launch import profile_from_serve
        from glm5_doctor.deployment.serve_args import ServeArgsError, parse_serve_command

        try:
            profile = profile_from_serve(parse_serve_command(args.server_command))
        except ServeArgsError as exc:
            raise UsageError(f"fix: {exc}") from None

    def diagnose_ids(ids: Sequence[str]) -> Report:
        scoped = argparse.Namespace(select=list(ids), ignore=[], deep=False)
        return _diagnose(registry, scoped, profile, args.python)

    request = FixRequest(tuple(args.check_id), args.all_failing, args.run, args.yes, args.dry_run)
    try:
        return fix(request, diagnose_ids, out)
    except FixRefused as exc:
        raise UsageError(str(exc)) from None
