"""``glm5-doctor fleet``: every alive node of a Ray cluster probed where it runs, judged here, and compared.

Needs the optional extra (``pip install 'glm5-doctor[fleet]'``) and glm5-doctor installed on every node,
in the environment Ray's workers run in.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
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
)
from glm5_doctor.cli.run import registry_for, selection, write_atomically
from glm5_doctor.engine import deadlines
from glm5_doctor.engine.results import ExitCode
from glm5_doctor.engine.session import Request
from glm5_doctor.report import Format, render


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "fleet",
        help="judge every node of a Ray cluster and compare them (needs glm5-doctor[fleet])",
        description="Take a snapshot on every alive node of the Ray cluster (a task pinned to the node, no CPU or "
        "GPU reserved, no retries, a deadline per node), judge each here with this doctor's checks, and compare "
        "the nodes: package, driver and CUDA versions, the checkpoint, GPUs against TP x PP, network variables, "
        "RDMA devices.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--address", metavar="ADDR", help="the Ray cluster (default: RAY_ADDRESS, else the cluster running here)"
    )
    parser.add_argument(
        "--node-timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help=f"how long to wait for each node (default {deadlines.FLEET_NODE_S:g}, or {deadlines.FLEET_NODE_ENV})",
    )
    add_output_options(parser)
    add_selection_options(parser)
    add_advisories_option(parser)
    add_target_options(parser, python_help="the Python environment vLLM runs in on every node (default: Ray's)")
    add_deployment_options(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    from glm5_doctor.engine.session import _selected
    from glm5_doctor.fleet.collect import FleetUnavailable, collect, connect
    from glm5_doctor.fleet.registry import fleet_fact_names
    from glm5_doctor.fleet.report import judge_fleet

    timeout = args.node_timeout if args.node_timeout is not None else deadlines.fleet_node_s(os.environ)
    if not 0 < timeout < 86400:
        raise UsageError("--node-timeout must be a positive number of seconds")
    registry = registry_for(args)
    request = Request(
        profile_from(args), args.python, *selection(args), deep=args.deep, advisories=advisory_database(args)
    )
    checks = _selected(request, registry)
    facts = sorted({key.name for item in checks for key in item.facts} | set(fleet_fact_names()))
    # Ray prints what its background threads hear (a raylet that died, a worker's output) to sys.stdout,
    # which is the report's: keep it apart while Ray is connected, and pass it on, redacted, to stderr.
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            try:
                ray = connect(args.address)
            except FleetUnavailable as exc:
                raise UsageError(str(exc)) from None
            try:
                answers = collect(ray, request.profile.to_dict(), args.python, args.deep, facts, timeout)
            finally:
                ray.shutdown()
    finally:
        if said.getvalue().strip():
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(args.redactor.text(said.getvalue()[-20000:]))
    report = judge_fleet(answers, request, registry, args.redactor)
    fmt = Format(args.format)

    def produce(stream: TextIO) -> None:
        if fmt is Format.TABLE:
            from glm5_doctor.report.fleet_matrix import render_fleet

            render_fleet(report, stream, verbose=args.verbose, strict=args.strict)
        elif fmt is Format.JSON:
            import json

            stream.write(json.dumps(args.redactor.data(report.to_dict(args.strict)), indent=2, default=str) + "\n")
        else:
            render(report.flattened(), fmt, stream, verbose=args.verbose, strict=args.strict)

    if args.output:
        write_atomically(args.output, produce)
    else:
        produce(out)
    return ExitCode(report.exit_code(args.strict))
