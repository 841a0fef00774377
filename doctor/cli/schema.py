"""``glm5-doctor schema``: the JSON Schema of the ``--format json`` report."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from glm5_doctor.engine.results import ExitCode


def register(commands: Any) -> None:
    parser = commands.add_parser("schema", help="print the JSON Schema of the --format json report")
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    from glm5_doctor.report.schema import REPORT_SCHEMA

    out.write(json.dumps(REPORT_SCHEMA, indent=2) + "\n")
    return ExitCode.OK
