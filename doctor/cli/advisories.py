"""``glm5-doctor advisories``: list the known-bug advisory database (filterable; table or JSON)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from glm5_doctor.cli.options import UsageError, add_advisories_option, advisory_database, split_ids
from glm5_doctor.engine.results import ExitCode
from glm5_doctor.knowledge.advisories import SEVERITIES, Advisory, Database
from glm5_doctor.report import Format
from packaging.utils import canonicalize_name


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "advisories",
        help="list the known upstream bugs the doctor matches (filter by --distribution, --id, --severity)",
    )
    parser.add_argument(
        "--distribution",
        action="append",
        default=[],
        metavar="NAME",
        help="only advisories affecting NAME (vllm, driver, ...)",
    )
    parser.add_argument("--id", action="append", default=[], dest="advisory_id", metavar="ID", help="only these IDs")
    parser.add_argument("--severity", choices=SEVERITIES, help="only advisories of this severity")
    parser.add_argument("--format", choices=[f.value for f in Format], default=Format.TABLE.value)
    add_advisories_option(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    database = advisory_database(args)
    chosen = select(database, split_ids(args.distribution), split_ids(args.advisory_id), args.severity)
    from glm5_doctor.report.advisories import render_advisories

    out.write(args.redactor.text(render_advisories(database, chosen, Format(args.format))))
    return ExitCode.OK


def select(
    database: Database, distributions: tuple[str, ...], ids: tuple[str, ...], severity: str | None
) -> list[Advisory]:
    wanted_ids = {item.upper() for item in ids}
    unknown = sorted(wanted_ids - {advisory.id for advisory in database.advisories})
    if unknown:
        raise UsageError(f"unknown advisory {', '.join(unknown)} (see 'glm5-doctor advisories')")
    names = {canonicalize_name(name) for name in distributions}
    return [
        advisory
        for advisory in database.advisories
        if (not wanted_ids or advisory.id in wanted_ids)
        and (severity is None or advisory.severity == severity)
        and (not names or names & {item.name for item in advisory.affected})
    ]
