"""``glm5-doctor list`` and ``glm5-doctor explain ID``: what the doctor knows, without judging anything."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from glm5_doctor.cli.options import UsageError
from glm5_doctor.engine.registry import load_registry
from glm5_doctor.engine.results import ExitCode
from glm5_doctor.report.catalog import render_explanation, render_list


def register(commands: Any) -> None:
    listing = commands.add_parser("list", help="list every check: ID, title, fix script")
    listing.add_argument("--no-plugins", action="store_true")
    listing.set_defaults(execute=execute_list)
    explain = commands.add_parser("explain", help="what a check looks at, why it matters, how to fix it")
    explain.add_argument("check_id", metavar="ID")
    explain.add_argument("--no-plugins", action="store_true")
    explain.set_defaults(execute=execute_explain)


def execute_list(args: argparse.Namespace, out: TextIO) -> int:
    render_list(load_registry(autoload_plugins=False if args.no_plugins else None), out)
    return ExitCode.OK


def execute_explain(args: argparse.Namespace, out: TextIO) -> int:
    registry = load_registry(autoload_plugins=False if args.no_plugins else None)
    item = registry.get(args.check_id)
    if item is None:
        raise UsageError(f"unknown check {args.check_id!r} (see 'glm5-doctor list')")
    render_explanation(item, registry.sources.get(item.id, "builtin"), out)
    return ExitCode.OK
