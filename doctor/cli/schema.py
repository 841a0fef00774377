"""``glm5-doctor schema``: the JSON Schema of the ``--format json`` report (``--snapshot``: of a snapshot)."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from glm5_doctor.engine.results import ExitCode


def register(commands: Any) -> None:
    parser = commands.add_parser("schema", help="print the JSON Schema of the --format json report")
    parser.add_argument(
        "--snapshot", action="store_true", help="the schema of a 'glm5-doctor snapshot' document instead"
    )
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    if args.snapshot:
        from glm5_doctor.report.schema import SNAPSHOT_SCHEMA as schema
    else:
        from glm5_doctor.report.schema import REPORT_SCHEMA as schema

    out.write(json.dumps(schema, indent=2) + "\n")
    return ExitCode.OK
