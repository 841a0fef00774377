"""``glm5-doctor fit``: the memory of each GPU as a picture, for the GPUs here or for planned ones."""

from __future__ import annotations

import json
from typing import Any, TextIO

from glm5_doctor import knowledge
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.results import ExitCode
from glm5_doctor.knowledge.checkpoints import model_spec
from glm5_doctor.knowledge.cuda_devices import visible_devices
from glm5_doctor.knowledge.memory import GIB, Fit, effective_kv_cache_dtype, plan
from glm5_doctor.probes import ProbeContext
from glm5_doctor.probes.nvml import probe_nvml
from glm5_doctor.report import Format

BAR_WIDTH = 64


class FitError(Exception):
    """Nothing to plan with (no GPUs here and none named, or an unknown model)."""


def run_fit(profile: Profile, gpus: int | None, fmt: Format, out: TextIO) -> int:
    spec = model_spec(profile.model)
    if spec is None:
        raise FitError(f"no numbers for model {profile.model!r}; known: {', '.join(sorted(knowledge_models()))}")
    if profile.detect_gpu and gpus is None:
        name, total, count, source = _detected(profile)
    else:
        gpu = knowledge.GPUS[profile.gpu]
        name, total = gpu.name, gpu.cuda_total_gib
        count = gpus or profile.tensor_parallel_size * profile.pipeline_parallel_size
        source = f"knowledge table, {'measured' if gpu.measured else 'an estimate'}: {gpu.source}"
    capability = knowledge.GPU_COMPUTE_CAPABILITY.get(name.replace("NVIDIA ", "").split()[0].upper())
    kv_dtype = effective_kv_cache_dtype(profile.kv_cache_dtype, None, capability)
    fit = plan(
        spec,
        name,
        total,
        count,
        profile.tensor_parallel_size,
        profile.pipeline_parallel_size,
        profile.gpu_memory_utilization,
        profile.max_model_len,
        kv_dtype,
    )
    if fmt is Format.JSON:
        out.write(json.dumps({**fit.to_dict(), "gpu_source": source, "model_source": spec.source}, indent=2) + "\n")
    else:
        _picture(fit, source, out)
    return ExitCode.OK if fit.fits else ExitCode.CHECKS_FAILED


def knowledge_models() -> list[str]:
    from glm5_doctor.knowledge.checkpoints import MODELS

    return [spec.name for spec in MODELS.values()]


def _detected(profile: Profile) -> tuple[str, float, int, str]:
    nvml = probe_nvml(ProbeContext())
    if nvml["status"] != "ok":
        raise FitError(
            f"no GPUs to measure here ({nvml['status']}: {nvml['error']}); plan instead, e.g. "
            "glm5-doctor fit --gpu B200 --gpus 8"
        )
    visible = visible_devices(nvml["devices"], nvml["cuda_visible_devices"]).devices
    sized = [(d, d["memory"]) for d in visible if d.get("memory")]
    if not sized:
        raise FitError("NVML reported no GPU memory sizes; plan instead with --gpu NAME --gpus N")
    totals = [(memory["total"] - (memory.get("reserved") or 0)) / GIB for _, memory in sized]
    return str(sized[0][0].get("name")), min(totals), len(visible), "NVML on this machine"


def _picture(fit: Fit, source: str, out: TextIO) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, width=None if out.isatty() else 120)
    console.print(
        Text(
            f"{fit.model} at TP {fit.tensor_parallel_size} x PP {fit.pipeline_parallel_size}, "
            f"--gpu-memory-utilization {fit.gpu_memory_utilization:.2f}, --max-model-len {fit.max_model_len}",
            style="bold",
        )
    )
    console.print(
        Text(f"{fit.gpus} x {fit.gpu}, {fit.gpu_total_gib:.2f} GiB each as CUDA sees it ({source})", style="dim")
    )
    console.print()
    shown = min(fit.gpus, fit.tensor_parallel_size * fit.pipeline_parallel_size)
    for index in range(shown):
        console.print(Text(f"GPU {index:<2} ").append_text(_bar(fit)))
    console.print(
        Text("         ")
        .append("█ weights ", style="blue")
        .append("▓ overhead ", style="magenta")
        .append("█ KV cache ", style="green")
        .append("░ outside the budget", style="dim")
    )
    console.print()
    for line in _numbers(fit):
        console.print(line)


def _bar(fit: Fit) -> Any:
    from rich.text import Text

    scale = BAR_WIDTH / fit.gpu_total_gib
    weights = round(fit.weights_gib_per_gpu * scale)
    overhead = round(fit.overhead_gib_per_gpu * scale)
    kv = round(fit.kv_cache_gib_per_gpu * scale)
    bar = Text()
    if weights + overhead > BAR_WIDTH or not fit.weights_fit:
        over = fit.weights_gib_per_gpu + fit.overhead_gib_per_gpu - fit.budget_gib_per_gpu
        bar.append("█" * min(weights, BAR_WIDTH), style="red")
        return bar.append(f"  weights do not fit: {over:.1f} GiB over the budget", style="bold red")
    bar.append("█" * weights, style="blue").append("▓" * overhead, style="magenta").append("█" * kv, style="green")
    bar.append("░" * max(0, BAR_WIDTH - weights - overhead - kv), style="dim")
    return bar.append(f" {fit.gpu_total_gib:.0f} GiB")


def _numbers(fit: Fit) -> list[Any]:
    from rich.text import Text

    rows = [
        ("weights per GPU", f"{fit.weights_gib_per_gpu:.1f} GiB"),
        ("overhead per GPU (estimate)", f"{fit.overhead_gib_per_gpu:.1f} GiB"),
        (
            "budget per GPU",
            f"{fit.budget_gib_per_gpu:.1f} GiB ({fit.gpu_memory_utilization:.2f} x {fit.gpu_total_gib:.2f})",
        ),
        (
            "KV cache per GPU",
            f"{fit.kv_cache_gib_per_gpu:.1f} GiB, {fit.kv_bytes_per_token:,} bytes/token ({fit.kv_cache_dtype})",
        ),
        ("KV tokens", f"{fit.kv_tokens:,}"),
        ("largest --max-model-len that fits", f"{fit.max_model_len_that_fits:,}"),
        (f"sequences of {fit.max_model_len} at once", f"{fit.sequences_at_max_model_len:g}"),
    ]
    lines = [Text(f"  {name:<36}{value}") for name, value in rows]
    if not fit.enough_gpus:
        verdict = Text(
            f"  does not fit: {fit.gpus} GPUs, TP x PP needs {fit.tensor_parallel_size * fit.pipeline_parallel_size}",
            style="bold red",
        )
    elif fit.fits:
        verdict = Text("  fits", style="bold green")
    elif not fit.weights_fit:
        verdict = Text("  does not fit: the weights alone exceed the budget", style="bold red")
    else:
        verdict = Text(
            f"  does not fit: --max-model-len {fit.max_model_len} needs more KV than is left", style="bold red"
        )
    return [*lines, Text(), verdict]
