"""The ``glm5-doctor fit`` picture: one bar per GPU (weights / overhead / KV / outside the budget), the numbers."""

from __future__ import annotations

from typing import Any, TextIO

from glm5_doctor.knowledge.memory import Fit

BAR_WIDTH = 64


def render_fit(fit: Fit, source: str, verdict: str, out: TextIO) -> None:
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
    for line in _numbers(fit, verdict):
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


def _numbers(fit: Fit, message: str) -> list[Any]:
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
    else:
        # gpu.vram's own words: weights, position limit or KV, with the largest length that works
        verdict = Text(f"  does not fit: {message}", style="bold red")
    return [*lines, Text(), verdict]
