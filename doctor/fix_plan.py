"""The values a fix script needs, filled in from the failing result and this machine.

Every script reads its inputs from the environment (``PYTHON``, ``TRANSFORMERS_SPEC``, ...; see
each script's header). This module turns a finished result (its evidence) and the report's
target into those variables, so ``glm5-doctor fix ID`` shows, and runs, exactly the commands
this machine needs. Pure: results in, a mapping out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from glm5_doctor.engine.results import Report, Result
from glm5_doctor.knowledge import TRANSFORMERS_RECIPE_FLOOR
from glm5_doctor.serve_fixes import planner_environment

Planner = Callable[[Result, Report], dict[str, str]]


def _pin(evidence: Mapping[str, Any], key: str) -> str | None:
    value = evidence.get(key)
    return str(value) if value else None


def _transformers(result: Result, report: Report) -> dict[str, str]:
    window = _pin(result.outcome.evidence, "glm5_window")
    return {"TRANSFORMERS_SPEC": f"transformers{window}" if window else f"transformers>={TRANSFORMERS_RECIPE_FLOOR}"}


def _torch(result: Result, report: Report) -> dict[str, str]:
    evidence = result.outcome.evidence
    plan = {}
    pin = _pin(evidence, "vllm_pin")
    if pin:
        plan["TORCH_SPEC"] = f"torch{pin}"
    major = evidence.get("cuda_major")
    if major == 13:
        plan["TORCH_INDEX_URL"] = "https://download.pytorch.org/whl/cu130"
    return plan


def _flashinfer(result: Result, report: Report) -> dict[str, str]:
    pin = _pin(result.outcome.evidence, "vllm_pin")
    return {"FLASHINFER_VERSION": pin.lstrip("=")} if pin and pin.startswith("==") else {}


def _cuda(result: Result, report: Report) -> dict[str, str]:
    required = _pin(result.outcome.evidence, "required")
    return {"CUDA_MIN": required} if required else {}


def _model(result: Result, report: Report) -> dict[str, str]:
    plan = {"MODEL": str(report.profile.get("model"))}
    serve = report.profile.get("serve") or {}
    if isinstance(serve, Mapping) and serve.get("download_dir"):
        plan["DOWNLOAD_DIR"] = str(serve["download_dir"])
    return plan


def _port(result: Result, report: Report) -> dict[str, str]:
    return {"PORT": str(result.outcome.evidence.get("port") or report.profile.get("port") or 8000)}


def _first_gpu(result: Result, report: Report) -> dict[str, str]:
    for name in result.outcome.evidence:
        if name.startswith("GPU "):
            return {"GPU": name.split()[1]}
    return {}


PLANNERS: dict[str, Planner] = {
    "suggest-serve-command.sh": planner_environment,
    "install-transformers.sh": _transformers,
    "install-torch.sh": _torch,
    "install-flashinfer.sh": _flashinfer,
    "install-cuda-toolkit.sh": _cuda,
    "download-model.sh": _model,
    "free-port.sh": _port,
    "reset-gpu.sh": _first_gpu,
}


def fix_environment(result: Result, report: Report) -> dict[str, str]:
    """Variables for the result's fix script: the target Python always, the rest per script."""
    if result.fix is None:
        return {}
    plan = {"PYTHON": str(report.target.get("python"))}
    planner = PLANNERS.get(result.fix.script)
    if planner is not None:
        plan.update(planner(result, report))
    return plan
