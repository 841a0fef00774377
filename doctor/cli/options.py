"""The option groups every command shares, and the one grammar their values are read with.

Deployment values go through :mod:`glm5_doctor.deployment.values`, the same functions that read a
``vllm serve`` command, so ``--max-model-len 32K`` means 32,768 on ``run``, ``fit``, ``fix`` and
``preflight`` alike.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TypeVar

from glm5_doctor import knowledge
from glm5_doctor.deployment import values
from glm5_doctor.deployment.profile import BUILTIN_PROFILES, DEFAULT_PROFILE, Profile, build_profile
from glm5_doctor.deployment.values import DeploymentValueError
from glm5_doctor.knowledge.advisories import AdvisoryError, Database, load_builtin, load_file
from glm5_doctor.report import Format

T = TypeVar("T")

EXIT_CODES_HELP = """\
exit codes:
  0  no fail or error results (warnings allowed; --strict makes them count)
  1  at least one fail or error result
  2  usage error or unreadable input (bad option, unknown check, unusable --python)
  3  internal error in glm5-doctor itself
  130, 143  interrupted (SIGINT) or terminated (SIGTERM); child processes were ended first
"""
KV_CACHE_DTYPES = ("auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_ds_mla")


class UsageError(Exception):
    """Bad arguments or unreadable input: exit 2 with one line."""


def argument_type(read: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` from a value reader: its error becomes argparse's usage error."""

    def convert(text: str) -> T:
        try:
            return read(text)
        except DeploymentValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def add_target_options(parser: argparse.ArgumentParser, *, python_help: str | None = None) -> None:
    group = parser.add_argument_group("environment judged")
    group.add_argument(
        "--python",
        metavar="PATH",
        default=None,
        help=python_help or "the Python environment vLLM will run in (default: the one running glm5-doctor)",
    )
    group.add_argument("--no-plugins", action="store_true", help="do not load third-party checks")


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("which checks")
    group.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="IDS",
        help="only these checks: IDs or areas, comma-separated (e.g. vllm,python.version)",
    )
    group.add_argument("--ignore", action="append", default=[], metavar="IDS", help="leave out these checks")
    group.add_argument("--strict", action="store_true", help="warnings make the exit code 1")
    group.add_argument(
        "--deep",
        action="store_true",
        help="also run slow probes: compile a CUTLASS/CuTe kernel with the nvcc DeepGEMM will use",
    )


def add_output_options(parser: argparse.ArgumentParser, *, output_help: str | None = None) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--format", choices=[f.value for f in Format], default=Format.TABLE.value)
    group.add_argument(
        "--output", "-o", metavar="FILE", help=output_help or "write the report to FILE instead of stdout"
    )
    group.add_argument("-v", "--verbose", action="store_true", help="show the evidence under each result")


def add_advisories_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--advisories",
        metavar="FILE",
        help="match this advisory database instead of the one shipped (an offline update; validated, "
        "a bad file is a usage error)",
    )


def advisory_database(args: argparse.Namespace) -> Database:
    """The database ``--advisories FILE`` names (validated), else the one shipped in the package."""
    path = getattr(args, "advisories", None)
    if not path:
        return load_builtin()
    try:
        return load_file(os.path.expanduser(path))
    except AdvisoryError as exc:
        raise UsageError(f"--advisories {exc}") from None


def add_deployment_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "deployment (defaults: the seed deployment; values read as vllm serve reads them: 32k = 32,000, "
        "32K = 32,768, -1/auto = fit to memory)"
    )
    group.add_argument(
        "--profile",
        choices=sorted(BUILTIN_PROFILES),
        default=None,
        help=f"a built-in deployment (default: {DEFAULT_PROFILE.name}; with --from-snapshot, the snapshot's)",
    )
    group.add_argument("--model", help="model id or path (e.g. zai-org/GLM-5-FP8)")
    group.add_argument(
        "--tp",
        "--tensor-parallel-size",
        "-tp",
        dest="tp",
        type=argument_type(lambda text: values.positive_int(text, "--tensor-parallel-size")),
    )
    group.add_argument(
        "--pp",
        "--pipeline-parallel-size",
        "-pp",
        dest="pp",
        type=argument_type(lambda text: values.positive_int(text, "--pipeline-parallel-size")),
    )
    group.add_argument("--max-model-len", type=argument_type(values.max_model_len), metavar="N|auto")
    group.add_argument("--gpu-memory-utilization", type=argument_type(values.utilization))
    group.add_argument("--kv-cache-dtype", choices=KV_CACHE_DTYPES)
    group.add_argument(
        "--gpu", choices=sorted(knowledge.GPUS), help="plan for this GPU instead of judging the ones NVML finds"
    )


def add_snapshot_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from-snapshot",
        metavar="FILE",
        help="judge the facts saved by 'glm5-doctor snapshot' instead of this machine (its deployment unless "
        "flags change it)",
    )


def profile_from(args: argparse.Namespace, gpus: int | None = None, base: Profile | None = None) -> Profile:
    """The named profile (else ``base``, else the default) with every deployment flag the user gave on top."""
    if args.profile is not None or base is None:
        base = BUILTIN_PROFILES[args.profile or DEFAULT_PROFILE.name]
    return build_profile(
        base,
        model=args.model,
        tensor_parallel_size=args.tp,
        pipeline_parallel_size=args.pp,
        max_model_len=args.max_model_len,
        gpu_memory_utilization=args.gpu_memory_utilization,
        kv_cache_dtype=args.kv_cache_dtype,
        gpu=args.gpu,
        gpus=gpus,
    )


def split_ids(values_given: list[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values_given for part in value.split(",") if part.strip())
