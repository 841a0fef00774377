"""``glm5-doctor fit``: the memory of each GPU as a picture, for the GPUs here or for planned ones.

It is the ``gpu.vram`` check, judged alone and drawn: the same inputs (the installed vLLM's KV
dtype, the checkpoint's config.json when on disk, its position limit), the same numbers.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from glm5_doctor.cli.options import (
    UsageError,
    add_deployment_options,
    add_snapshot_option,
    add_target_options,
    argument_type,
    profile_from,
)
from glm5_doctor.cli.run import judged, registry_for, snapshot_for
from glm5_doctor.deployment import values
from glm5_doctor.engine.results import ExitCode, Status
from glm5_doctor.engine.session import Request
from glm5_doctor.knowledge.memory import Fit
from glm5_doctor.report import Format

CHECK_ID = "gpu.vram"


def register(commands: Any) -> None:
    parser = commands.add_parser("fit", help="picture the memory of each GPU: weights, overhead, KV cache, free")
    parser.add_argument(
        "--gpus",
        type=argument_type(lambda text: values.positive_int(text, "--gpus")),
        help="plan for this many GPUs (of --gpu, B200 by default), not the ones here",
    )
    parser.add_argument("--format", choices=[Format.TABLE.value, Format.JSON.value], default=Format.TABLE.value)
    add_target_options(parser)
    add_deployment_options(parser)
    add_snapshot_option(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    snapshot = snapshot_for(args)
    base = snapshot.profile if snapshot else None
    profile = profile_from(args, gpus=args.gpus, base=base)
    if args.gpus is not None and args.gpu is None:  # --gpus alone plans for the profile's GPU
        profile = profile_from(argparse.Namespace(**{**vars(args), "gpu": profile.gpu}), gpus=args.gpus, base=base)
    report = judged(registry_for(args), args, Request(profile, args.python, select=(CHECK_ID,)), snapshot)
    result = next(r for r in report.results if r.id == CHECK_ID)
    evidence = dict(result.outcome.evidence)
    if result.status in (Status.SKIP, Status.ERROR) or "kv_tokens" not in evidence:
        raise UsageError(
            f"{result.outcome.message}; plan instead, e.g. glm5-doctor fit --gpu B200 --gpus 8"
            if profile.detect_gpu
            else result.outcome.message
        )
    fit = Fit(**{key: evidence[key] for key in Fit.__dataclass_fields__})
    if Format(args.format) is Format.JSON:
        out.write(json.dumps(evidence, indent=2) + "\n")
    else:
        from glm5_doctor.report.fit_picture import render_fit

        render_fit(fit, str(evidence.get("gpu_source", "")), result.outcome.message, out)
    return ExitCode.OK if result.status is Status.PASS and fit.enough_gpus else ExitCode.CHECKS_FAILED
