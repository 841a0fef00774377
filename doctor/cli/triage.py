"""``glm5-doctor triage [FILE | -]``: a failed launch's log -> the first fatal cause, its check and its fix.

Streams: with ``-`` (``vllm serve ... 2>&1 | tee serve.log | glm5-doctor triage -``) the finding is
printed and flushed the moment the fatal line arrives; the rest of the log is then read and dropped so
the writer never sees a closed pipe. With a matched signature the implicated checks are judged again on
this machine, for the deployment the log itself printed (``--no-confirm`` skips that).

Exit codes: 0 the log shows no failure; 1 it shows one (a named cause, or an unknown failure said
plainly); 2 usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, BinaryIO, TextIO

from glm5_doctor import __version__
from glm5_doctor.cli.options import UsageError, add_advisories_option, advisory_database
from glm5_doctor.deployment.profile import DEFAULT_PROFILE, Profile, build_profile, profile_from_serve
from glm5_doctor.deployment.serve_args import parse_serve_command
from glm5_doctor.deployment.values import DeploymentValueError
from glm5_doctor.engine.registry import Registry, load_registry
from glm5_doctor.engine.results import ExitCode, Status
from glm5_doctor.engine.session import Request, RequestError, diagnose
from glm5_doctor.engine.triage import MAX_LINE, Match, Matcher, Verdict, serve_argv
from glm5_doctor.knowledge.advisories import Database
from glm5_doctor.report import Format

SCHEMA_VERSION = 1
#: bytes read per line at most: a line without newlines never makes the reader hold more than this
READ_LIMIT = MAX_LINE * 4


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "triage",
        help="read a failed vllm serve log (FILE or - for stdin): the first fatal cause, its check and its fix",
        description="Read a vLLM server log and name the first fatal cause, the check or advisory that covers "
        "it, the evidence and the fix. Exit 0: no failure in the log; 1: a failure (named or unknown); 2: usage.",
    )
    parser.add_argument("log", nargs="?", default="-", metavar="FILE", help="the log file, or - for stdin (default)")
    parser.add_argument("--format", choices=[Format.TABLE.value, Format.JSON.value], default=Format.TABLE.value)
    parser.add_argument(
        "--no-confirm", action="store_true", help="do not re-judge the implicated checks on this machine"
    )
    parser.add_argument("--python", metavar="PATH", default=None, help="the Python environment vLLM ran in")
    add_advisories_option(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    database = advisory_database(args)
    stream, closing = _open(args.log)
    matcher = Matcher()
    spoken = False
    try:
        for raw in _lines(stream):
            found = matcher.feed(raw)
            if found is not None:
                document = finding(matcher.verdict, found, database, args)
                _write(args, out, document)
                spoken = True
    finally:
        if closing:
            stream.close()
    verdict = matcher.finish()
    if not spoken and verdict.match is not None:
        # the log ended inside an exception message that only its continuation named
        _write(args, out, finding(verdict, verdict.match, database, args))
        spoken = True
    if spoken:
        return ExitCode.CHECKS_FAILED
    document = no_cause(verdict)
    _write(args, out, document)
    return ExitCode.CHECKS_FAILED if verdict.failure_seen else ExitCode.OK


def _open(path: str) -> tuple[BinaryIO, bool]:
    if path == "-":
        return sys.stdin.buffer, False
    try:
        return open(os.path.expanduser(path), "rb"), True
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None


def _lines(stream: BinaryIO) -> Any:
    """Decoded lines, each at most ``READ_LIMIT`` bytes (a longer one arrives in pieces)."""
    while True:
        chunk = stream.readline(READ_LIMIT)
        if not chunk:
            return
        yield chunk.decode("utf-8", errors="replace")


def _write(args: argparse.Namespace, out: TextIO, document: dict[str, Any]) -> None:
    from glm5_doctor.report.triage import render_triage

    out.write(args.redactor.text(render_triage(document, Format(args.format))))
    out.flush()


def finding(verdict: Verdict, match: Match, database: Database, args: argparse.Namespace) -> dict[str, Any]:
    """The document for a named cause (confirmed on this machine unless ``--no-confirm``)."""
    signature = match.signature
    registry = load_registry(autoload_plugins=False)
    advisories = {item.id: item for item in database.advisories}
    shown_advisories = [
        {"id": aid, "title": advisories[aid].title, "workaround": advisories[aid].workaround}
        for aid in signature.advisories
        if aid in advisories
    ]
    fix = _fix(registry, signature.checks)
    if fix is None and shown_advisories:
        fix = {"check": None, "command": None, "workaround": shown_advisories[0]["workaround"]}
    profile, profile_note = deployment_profile(verdict)
    document: dict[str, Any] = {
        **_header(verdict, "cause-found"),
        "cause": {
            "signature": signature.id,
            "summary": signature.summary,
            "cause": signature.cause,
            "raised_at": list(signature.raised_at),
            "checks": list(signature.checks),
            "advisories": shown_advisories,
            "line_number": match.line_number,
            "evidence": [*match.context, match.line],
            "fix": fix,
        },
        "deployment": {**verdict.deployment.to_dict(), "profile": _profile_summary(profile), "note": profile_note},
        "confirmation": {"status": "not-run", "results": []}
        if args.no_confirm
        else confirm(signature.checks, signature.advisories, profile, registry, database, args),
    }
    return document


def no_cause(verdict: Verdict) -> dict[str, Any]:
    if not verdict.failure_seen:
        return {**_header(verdict, "no-failure"), "next_step": None}
    return {
        **_header(verdict, "unknown-failure"),
        "last_exception": verdict.last_exception,
        "last_error_block": list(verdict.last_block),
        "next_step": "glm5-doctor run",
    }


def _header(verdict: Verdict, status: str) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "glm5-doctor", "version": __version__},
        "status": status,
        "lines_read": verdict.lines,
        "truncated": verdict.truncated,
    }


def _fix(registry: Registry, checks: tuple[str, ...]) -> dict[str, Any] | None:
    for check_id in checks:
        check = registry.get(check_id)
        if check is not None and check.fix is not None:
            return {"check": check_id, "command": f"glm5-doctor fix {check_id}", "workaround": None}
    return None


def deployment_profile(verdict: Verdict) -> tuple[Profile, str]:
    """The deployment the log printed (its non-default args), else the default profile, and how it was read."""
    args = verdict.deployment.args
    if not args:
        return DEFAULT_PROFILE, f"the log printed no non-default args: judged as {DEFAULT_PROFILE.name}"
    try:
        return profile_from_serve(parse_serve_command(serve_argv(verdict.deployment))), "read from the log"
    except DeploymentValueError:
        pass
    try:
        tp = args.get("tensor_parallel_size")
        return (
            build_profile(DEFAULT_PROFILE, name="from-log", model=args.get("model"), tensor_parallel_size=int(tp))
            if tp is not None
            else build_profile(DEFAULT_PROFILE, name="from-log", model=args.get("model")),
            "read from the log (model and TP only)",
        )
    except (TypeError, ValueError):
        return DEFAULT_PROFILE, f"the log's arguments could not be read: judged as {DEFAULT_PROFILE.name}"


def _profile_summary(profile: Profile) -> dict[str, Any]:
    return {
        "model": profile.model,
        "tensor_parallel_size": profile.tensor_parallel_size,
        "pipeline_parallel_size": profile.pipeline_parallel_size,
        "max_model_len": profile.max_model_len,
        "kv_cache_dtype": profile.kv_cache_dtype,
    }


def confirm(
    checks: tuple[str, ...],
    advisory_ids: tuple[str, ...],
    profile: Profile,
    registry: Registry,
    database: Database,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Judge the implicated checks now: is the cause still present on this machine?"""
    selected = [check for check in checks if registry.get(check) is not None]
    if advisory_ids and "advisories.known-bugs" not in selected:
        selected.append("advisories.known-bugs")
    if not selected:
        return {"status": "undetermined", "results": []}
    request = Request(profile, getattr(args, "python", None), tuple(selected), advisories=database)
    try:
        report = diagnose(request, registry, args.redactor)
    except RequestError as exc:
        return {"status": "undetermined", "results": [], "error": str(exc)}
    results = [
        {"id": result.id, "status": result.outcome.status.value, "message": result.outcome.message}
        for result in report.results
    ]
    # the verdict is the implicated checks' own; a required check that failed is shown, not counted
    statuses = {result.outcome.status for result in report.results if result.id in selected}
    if statuses & {Status.FAIL}:
        status = "still-present"
    elif statuses == {Status.PASS}:
        status = "not-present"
    else:
        status = "undetermined"
    return {"status": status, "results": results}
