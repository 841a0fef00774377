"""The ``python_stack`` fact (``--deep`` only): what the target's own vLLM and transformers do with the checkpoint.

In a child process of the target interpreter, in its own process group, under a deadline: import
vLLM, resolve the checkpoint's architecture through vLLM's registry, build the checkpoint's config
with the target's transformers, and build vLLM's model config with ``load_format="dummy"`` (no
weights, no GPU needed for these steps). The checkpoint is its local directory when it is on disk,
else a config.json written from the doctor's table for the known checkpoint. Nothing is downloaded
(``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TypedDict, cast

from glm5_doctor.engine import deadlines, processes
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.knowledge.checkpoints import ModelSpec, model_spec
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.interpreter import target_interpreter
from glm5_doctor.probes.model_files import probe_model_files
from glm5_doctor.probes.package_files import find_package_dir

#: Quiet vLLM's logging and keep every library off the network.
CHILD_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_LOGGING_LEVEL": "ERROR"}
OUTPUT_LIMIT = 4000


class StageFact(TypedDict):
    stage: str
    ok: bool
    seconds: float | None
    value: Any
    error: str | None
    traceback: str | None


class PythonStackFact(TypedDict):
    #: False when not asked for (no --deep) or nothing to import (no vLLM in the target)
    ran: bool
    why_not: str | None
    #: where the config came from: "<path> (on disk)" or "the doctor's table for <model>"
    checkpoint: str | None
    stages: list[StageFact]
    timed_out: bool
    finished: bool
    output: str | None
    duration_s: float | None


PYTHON_STACK: FactKey[PythonStackFact] = FactKey("python_stack", PythonStackFact)


def probe_python_stack(context: ProbeContext) -> PythonStackFact:
    fact: PythonStackFact = {
        "ran": False,
        "why_not": None,
        "checkpoint": None,
        "stages": [],
        "timed_out": False,
        "finished": False,
        "output": None,
        "duration_s": None,
    }
    if not context.deep:
        fact["why_not"] = "not asked for (run with --deep)"
        return fact
    if find_package_dir(target_interpreter(context)["sys_path"], "vllm") is None:
        fact["why_not"] = "vLLM is not installed in the target environment"
        return fact
    profile = context.profile
    model = profile.model if profile else "zai-org/GLM-5-FP8"
    files = context.shared("model_files", probe_model_files)
    spec = model_spec(model)
    timeout = deadlines.stack_s(context.environ)
    with tempfile.TemporaryDirectory(prefix="glm5-doctor-stack-") as workdir:
        if files["path"] and files["config"] is not None:
            directory, fact["checkpoint"] = files["path"], f"{files['path']} (on disk)"
        elif spec is not None:
            directory, fact["checkpoint"] = workdir, f"the doctor's table for {spec.name} (not on disk)"
            Path(workdir, "config.json").write_text(json.dumps(table_config(spec)), encoding="utf-8")
        else:
            fact["why_not"] = f"{model} is neither on disk nor a checkpoint the doctor knows: no config to build"
            return fact
        architecture = (files["config"] or {}).get("architectures", [None])[0] if files["config"] else None
        length = profile.context_length(spec.max_position_embeddings if spec else 4096) if profile else 4096
        output = os.path.join(workdir, "stack.json")
        child = Path(__file__).with_name("python_stack_child.py").read_text(encoding="utf-8")
        python = context.python or sys.executable
        argv = [python, "-c", child, output, directory, str(architecture or "GlmMoeDsaForCausalLM"), str(length)]
        fact["ran"] = True
        try:
            finished = processes.run_bounded(argv, timeout, env={**context.environ, **CHILD_ENVIRONMENT}, cwd=workdir)
        except OSError as exc:
            fact["output"] = f"cannot start {python}: {exc.strerror or exc}"
            return fact
        fact["timed_out"] = finished.timed_out
        text = (finished.stdout + finished.stderr).decode("utf-8", errors="replace").strip()
        fact["output"] = text[-OUTPUT_LIMIT:] or None
        try:
            answers = json.loads(Path(output).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            answers = {}
    fact["stages"] = [cast(StageFact, stage) for stage in answers.get("stages", []) if isinstance(stage, dict)]
    fact["finished"] = bool(answers.get("done"))
    fact["duration_s"] = round(sum(stage.get("seconds") or 0 for stage in fact["stages"]), 2)
    return fact


def table_config(spec: ModelSpec) -> dict[str, Any]:
    """A config.json for a known checkpoint that is not downloaded yet, from the doctor's table."""
    config: dict[str, Any] = {
        "architectures": [spec.architecture],
        "model_type": spec.model_type,
        "num_hidden_layers": spec.num_hidden_layers,
        "num_attention_heads": spec.num_attention_heads,
        "kv_lora_rank": spec.kv_lora_rank,
        "qk_rope_head_dim": spec.qk_rope_head_dim,
        "index_head_dim": spec.index_head_dim,
        "max_position_embeddings": spec.max_position_embeddings,
        "num_nextn_predict_layers": spec.mtp_layers,
    }
    if spec.layer_types:
        config["layer_types"] = list(spec.layer_types)
    if spec.quantization == "fp8":
        # GLM-5-FP8's block quantization (https://huggingface.co/zai-org/GLM-5-FP8, config.json)
        config["quantization_config"] = {
            "quant_method": "fp8",
            "fmt": "e4m3",
            "activation_scheme": "dynamic",
            "weight_block_size": [128, 128],
        }
    return config
