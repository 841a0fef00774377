"""``glm5-doctor snapshot``: save this machine's facts for the deployment as one redacted JSON document.

Every probe a check declares runs (the facts of every check, whatever a later run selects); nothing is
judged. ``glm5-doctor run --from-snapshot FILE`` judges the document later, anywhere, with the checks
of the glm5-doctor that reads it. Its layout is published: ``glm5-doctor schema --snapshot``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from glm5_doctor.cli.options import add_deployment_options, add_target_options, profile_from
from glm5_doctor.cli.run import registry_for, write_atomically
from glm5_doctor.engine.results import ExitCode
from glm5_doctor.engine.session import Request, take_snapshot


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "snapshot",
        help="save this machine's facts (redacted JSON) to attach to a bug report or judge elsewhere",
        description="Gather every fact the checks read, judge nothing, and write them with the deployment, the "
        "tool version and the time as one JSON document (secrets redacted). Judge it later with "
        "'glm5-doctor run --from-snapshot FILE'.",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the snapshot to FILE instead of stdout")
    parser.add_argument(
        "--deep", action="store_true", help="also compile a CUTLASS/CuTe test kernel (as run --deep does)"
    )
    add_target_options(parser)
    add_deployment_options(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    request = Request(profile_from(args), args.python, deep=args.deep)
    document = take_snapshot(request, registry_for(args), args.redactor)
    text = json.dumps(document, indent=2, default=str) + "\n"
    if args.output:
        write_atomically(args.output, lambda stream: print(text, end="", file=stream))
    else:
        out.write(text)
    return ExitCode.OK
