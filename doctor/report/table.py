"""The table people read: results grouped by category, one line of reason each, the fix to run.

Colour comes from rich, which already honours ``NO_COLOR`` and prints plain text when the
stream is not a terminal; the width then is fixed so CI logs do not wrap at 80 columns.
"""

from __future__ import annotations

import json
from typing import TextIO

from glm5_doctor.engine.results import STATUS_ORDER, Report, Result, Status
from rich.console import Console
from rich.table import Table
from rich.text import Text

STYLES = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.SKIP: "dim",
    Status.ERROR: "bold magenta",
}
CATEGORY_TITLES = {
    "python-stack": "Python stack (vLLM, transformers)",
    "toolchain": "CUDA toolchain and kernels",
    "gpu": "GPUs, driver and interconnect",
    "model": "Model files",
    "serve": "Serve arguments",
    "host": "Host",
    "advisories": "Known upstream bugs (advisories)",
    "plugins": "Plugins",
}
PLAIN_WIDTH = 140


def render_table(report: Report, stream: TextIO, *, verbose: bool = False, strict: bool = False) -> None:
    interactive = stream.isatty()
    console = Console(
        file=stream,
        width=None if interactive else PLAIN_WIDTH,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )
    id_width = max((len(result.id) for result in report.results), default=10)
    with console.capture() as captured:
        console.print(_header(report))
        for category in _categories(report):
            console.print(Text(CATEGORY_TITLES.get(category, category), style="bold underline"))
            table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1), expand=False)
            table.add_column("status", no_wrap=True, width=5)
            table.add_column("check", no_wrap=True, style="bold", width=id_width)
            table.add_column("result", overflow="fold")
            for result in (r for r in report.results if r.category == category):
                status = Text(result.status.value.upper(), style=STYLES[result.status])
                table.add_row(status, result.id, _body(result, verbose))
            console.print(table)
            console.print()
        console.print(_summary(report, strict))
    # Cells are padded to the table's width; trailing blanks only clutter logs and diffs.
    stream.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")


def _header(report: Report) -> Text:
    profile = report.profile
    target = report.target
    header = Text(f"glm5-doctor {report.tool_version}", style="bold")
    gpus = target.get("gpus")
    planned = f" on {profile.get('gpu')}" if not gpus or not profile.get("detect_gpu", True) else ""
    header.append(
        f"  {profile.get('model')} at TP {profile.get('tensor_parallel_size')} x PP "
        f"{profile.get('pipeline_parallel_size', 1)}{planned} (profile {profile.get('name')})\n"
    )
    if gpus:
        header.append(f"GPUs here: {gpus}\n", style="dim")
    memory = _memory_line(report)
    if memory:
        header.append(memory + "\n", style="dim")
    python = f"Python environment: {target.get('python')}"
    if target.get("python_version"):
        python += f" (Python {target['python_version']})"
    header.append(python + "\n", style="dim")
    snapshot = target.get("snapshot")
    if isinstance(snapshot, dict):
        header.append(
            f"Judged from the snapshot {snapshot.get('file')} (taken {snapshot.get('taken_at')} by glm5-doctor "
            f"{snapshot.get('tool_version')}), not this machine\n",
            style="bold",
        )
    database = report.advisories
    if database:
        source = "" if database.get("source") in (None, "builtin") else f" from {database.get('source')}"
        header.append(
            f"Advisory database {database.get('version')} ({database.get('date')}){source}, "
            f"{database.get('count')} advisories\n",
            style="dim",
        )
    return header


def _memory_line(report: Report) -> str | None:
    """The context and KV cache the memory verdict was computed for, as gpu.vram judged them.

    Read from gpu.vram's evidence, so the header can never state other inputs than the verdict used
    (the installed vLLM's KV dtype, the checkpoint's own position limit from config.json).
    """
    vram = next((r for r in report.results if r.id == "gpu.vram"), None)
    evidence = vram.outcome.evidence if vram else {}
    if "max_model_len" not in evidence or "kv_cache_dtype" not in evidence:
        return None
    length = "auto" if report.profile.get("max_model_len_auto") else f"{evidence['max_model_len']:,}"
    limit_from = " (its config.json)" if "+ config.json" in str(evidence.get("model_source", "")) else ""
    return (
        f"Context: --max-model-len {length} of the checkpoint's {evidence.get('max_position_embeddings', 0):,} "
        f"positions{limit_from}, KV cache {evidence['kv_cache_dtype']} as vLLM will store it"
    )


def _categories(report: Report) -> list[str]:
    return list(dict.fromkeys(result.category for result in report.results))


def _body(result: Result, verbose: bool) -> Text:
    body = Text(result.outcome.message)
    if result.fix is not None:
        body.append(f"\nfix: {result.fix.command}  ({result.fix.script})", style="cyan")
    if verbose:
        for key, value in result.outcome.evidence.items():
            if value is None:
                continue
            shown = value if isinstance(value, str) else json.dumps(value, default=str)
            body.append(f"\n  {key}: {shown}", style="dim")
        if result.outcome.details:
            body.append("\n" + result.outcome.details.rstrip(), style="dim")
    return body


def _summary(report: Report, strict: bool) -> Text:
    counts = report.counts()
    words = {
        Status.PASS: "passed",
        Status.WARN: "warning",
        Status.FAIL: "failed",
        Status.SKIP: "skipped",
        Status.ERROR: "error",
    }
    parts = Text()
    for index, status in enumerate(STATUS_ORDER):
        if index:
            parts.append(", ")
        word = words[status] + ("s" if status in (Status.WARN, Status.ERROR) and counts[status] != 1 else "")
        parts.append(f"{counts[status]} {word}", style=STYLES[status] if counts[status] else "")
    if report.ok(strict):
        parts.append("  ready: nothing here stops vllm serve", style="bold green")
    else:
        parts.append("  NOT READY: fix the failures above before vllm serve", style="bold red")
    parts.append("\nglm5-doctor explain ID tells why a check matters; glm5-doctor fix ID shows its fix.", style="dim")
    return parts
