"""Memory: do the weights and the requested context fit each GPU, and is that memory free."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._checkpoint import checkpoint_here
from glm5_doctor.checks._fixes import longest_context, serve_fix
from glm5_doctor.checks._gpu import GIB, capability, cuda_total_gib, gpus, label
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.knowledge.checkpoints import is_glm5_family
from glm5_doctor.knowledge.memory import deployment_fit
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.model_files import MODEL_FILES
from glm5_doctor.probes.nvml import NVML


@check(
    "gpu.free-memory",
    title="The memory vLLM will ask for is free on every GPU of the group",
    category="gpu",
    facts=(NVML,),
    requires=("gpu.driver",),
    fix="list-gpu-processes.sh",
)
def gpu_free_memory(facts: Facts, profile: Profile) -> Outcome:
    """Free memory >= ``--gpu-memory-utilization`` x CUDA-visible total on each GPU, holders named.

    What it checks:
        NVML's free memory on every GPU vLLM will use against what vLLM requests at start
        (utilization x total). The processes NVML reports on a short GPU are named (PID, command line
        where visible: NVML gives host PIDs, which may not resolve inside a container).

    Why it matters:
        vLLM refuses to start: "Free memory on device cuda:N (A/B GiB) on startup is less than desired
        GPU memory utilization". A leftover vLLM, a notebook, or a monitoring agent is enough.

    How to fix:
        Stop the processes holding memory, or lower ``--gpu-memory-utilization`` (at the cost of KV
        cache): ``glm5-doctor fix gpu.free-memory`` lists them.

    Sources:
        - vllm 0.16.0 and 0.33.0 wheels: vllm/v1/worker/utils.py ``request_memory``
        - https://github.com/NVIDIA/nvidia-docker/issues/1483 (NVML reports host PIDs)
        - https://github.com/llm-d/llm-d-benchmark/blob/main/config_explorer/empirical-vllm-memory-results.md
    """
    found = gpus(facts, profile)
    names = found.nvml["process_names"]
    short = []
    evidence: dict[str, object] = {}
    for device in found.group:
        total = cuda_total_gib(device)
        memory = device.get("memory") or {}
        if total is None or "free" not in memory:
            continue
        free = memory["free"] / GIB
        wanted = profile.gpu_memory_utilization * total
        holders = [
            f"pid {p['pid']} ({names.get(str(p['pid'])) or 'not visible here'}"
            f"{', %.1f GiB' % (p['used_memory'] / GIB) if p.get('used_memory') else ''})"
            for p in device.get("processes") or []
        ]
        evidence[label(device)] = {"free_gib": round(free, 2), "wanted_gib": round(wanted, 2), "holders": holders}
        if free < wanted:
            held = f"; held by {', '.join(holders)}" if holders else ""
            short.append(f"{label(device)}: {free:.1f} GiB free, vLLM wants {wanted:.1f} GiB{held}")
    if short:
        return Outcome.failed(
            f"{len(short)} GPU(s) lack free memory ({knowledge.FREE_MEMORY_ERROR.split(' on startup')[0]}...): "
            + "; ".join(short[:3]),
            evidence,
        )
    return Outcome.passed(
        f"{len(found.group)} GPUs have the {profile.gpu_memory_utilization:.2f} x total that vLLM will request free",
        evidence,
    )


@check(
    "gpu.vram",
    title="Weights and the requested context fit in each GPU's memory budget",
    category="gpu",
    facts=(NVML, DISTRIBUTIONS, MODEL_FILES),
    fix=serve_fix(longest_context),
)
def gpu_vram(facts: Facts, profile: Profile) -> Outcome:
    """The memory math of a GLM-5 deployment, per GPU, with the numbers.

    What it checks:
        Budget = ``--gpu-memory-utilization`` x CUDA-visible memory of the smallest GPU in the group
        (or of the GPU named with ``--gpu``, when planning). Out of it: the weights per GPU at this
        TP/PP (replicated pieces counted on every rank, the MTP layer when speculative decoding loads
        it), an 8 GiB non-KV overhead estimate, and the rest is KV cache. KV bytes per token are MLA
        latent plus DSA indexer keys (100,152 B bf16 / 61,464 B fp8 over 78 layers), stored in full
        on every TP rank. Fails when the weights do not fit, when ``--max-model-len`` tokens do not,
        or when ``--max-model-len`` is beyond the checkpoint's ``max_position_embeddings`` (202,752
        for GLM-5; from config.json when it is on disk, else the known checkpoint's); says the
        largest max-model-len that works. With vLLM >= 0.32 on Blackwell, ``auto`` KV means fp8.

    Why it matters:
        vLLM finds out only after loading the weights: "No available memory for the cache blocks" or
        "To serve at least one request with the models's max seq len (N), (X GiB KV cache is needed,
        which is larger than the available KV cache memory (Y GiB)". A ``--max-model-len`` above the
        position limit is refused with "User-specified max_model_len (N) is greater than the derived
        max_model_len (max_position_embeddings=202752 ...)".

    How to fix:
        Lower ``--max-model-len`` (or ``-1`` for auto-fit), use ``--kv-cache-dtype fp8``, raise
        ``--gpu-memory-utilization``, or add GPUs (``glm5-doctor fit --gpu H100 --gpus 16`` plans it).

    Sources:
        - transformers 5.2.0 wheel: transformers/models/glm_moe_dsa/configuration_glm_moe_dsa.py (shapes)
        - https://github.com/vllm-project/vllm/blob/main/vllm/v1/kv_cache_interface.py (MLA page sizes)
        - https://github.com/vllm-project/vllm/issues/37419 (how vLLM sizes the KV cache)
        - https://github.com/llm-d/llm-d-benchmark/blob/main/config_explorer/empirical-vllm-memory-results.md
        - weights per GPU: the doctor's sum over GLM-5's tensor shapes (FP8 with 128x128 block scales)
        - vllm 0.16.0 wheel: vllm/v1/core/kv_cache_utils.py ; https://github.com/zai-org/GLM-5/issues/25
        - https://docs.vultr.com/inference-cookbook/cuda/model-guides/glm5
        - vllm 0.16.0 wheel: vllm/config/model.py (_get_and_verify_max_len)
    """
    files = facts[MODEL_FILES]
    spec = checkpoint_here(profile, files)
    if spec is None:
        return Outcome.skipped(
            f"{profile.model} is not a checkpoint the doctor knows, and its config.json is not on disk to size it from"
        )
    if not is_glm5_family(spec):
        return Outcome.skipped(
            f"{profile.model} is a {spec.architecture or spec.model_type or 'non-GLM-5'} checkpoint: this memory "
            "math is GLM-5's (MLA latent + DSA indexer cache)"
        )
    vllm = distribution(facts, "vllm")
    vllm_version = parse_version(vllm["version"]) if vllm else None
    if profile.detect_gpu:
        nvml = facts[NVML]
        if nvml["status"] != "ok":
            return Outcome.skipped(
                f"no GPUs to size here (NVML: {nvml['status']}; see gpu.driver); plan with --gpu NAME"
            )
        found = gpus(facts, profile)
        if not found.group:
            return Outcome.skipped("no visible GPUs to size (see gpu.count)")
        totals = [total for total in (cuda_total_gib(d) for d in found.group) if total is not None]
        if not totals:
            return Outcome.errored("NVML reported no memory size for the GPUs")
        gpu_name, total, count = str(found.group[0].get("name")), min(totals), len(found.visible)
        gpu_capability, gpu_source = capability(found.group[0]), "NVML on this machine"
    else:
        planned = knowledge.GPUS[profile.gpu]
        gpu_name, total, count = planned.name, planned.cuda_total_gib, profile.gpus or profile.gpus_needed
        gpu_capability = planned.compute_capability
        gpu_source = f"planned: {'measured' if planned.measured else 'an estimate'}, {planned.source}"
    fit = deployment_fit(
        spec,
        gpu_name,
        total,
        count,
        gpu_capability,
        vllm_version,
        tensor_parallel_size=profile.tensor_parallel_size,
        pipeline_parallel_size=profile.pipeline_parallel_size,
        gpu_memory_utilization=profile.gpu_memory_utilization,
        max_model_len=profile.context_length(spec.max_position_embeddings),
        kv_cache_dtype=profile.kv_cache_dtype,
        mtp=profile.mtp,
    )
    evidence = {**fit.to_dict(), "gpu_source": gpu_source, "model_source": spec.source}
    budget = f"{fit.budget_gib_per_gpu:.1f} GiB budget ({profile.gpu_memory_utilization:.2f} x {total:.2f} GiB)"
    if not fit.weights_fit:
        return Outcome.failed(
            f"weights {fit.weights_gib_per_gpu:.1f} GiB + {fit.overhead_gib_per_gpu:.0f} GiB overhead per GPU exceed "
            f"the {budget} at TP {fit.tensor_parallel_size} x PP {fit.pipeline_parallel_size}: more GPUs needed "
            "(see glm5-doctor fit)",
            evidence,
        )
    if not profile.detect_gpu and not fit.enough_gpus:
        return Outcome.failed(
            f"{fit.gpus} x {gpu_name} planned, but TP {fit.tensor_parallel_size} x PP "
            f"{fit.pipeline_parallel_size} needs {profile.gpus_needed}",
            evidence,
        )
    if profile.max_model_len_auto:
        return Outcome.passed(
            f"--max-model-len auto: vLLM will pick {fit.max_model_len_that_fits:,} tokens (weights "
            f"{fit.weights_gib_per_gpu:.1f} + overhead {fit.overhead_gib_per_gpu:.0f} + "
            f"KV {fit.kv_cache_gib_per_gpu:.1f} GiB of a {budget})",
            evidence,
        )
    if not fit.within_position_limit:
        return Outcome.failed(
            f"--max-model-len {fit.max_model_len:,} is beyond {profile.model}'s {fit.max_position_embeddings:,} "
            f"positions (max_position_embeddings): vLLM refuses it; the largest --max-model-len that works here "
            f"is {fit.max_model_len_that_fits:,}",
            evidence,
        )
    if fit.kv_tokens < fit.max_model_len:
        return Outcome.failed(
            f"KV cache for one {fit.max_model_len}-token sequence needs "
            f"{fit.max_model_len * fit.kv_bytes_per_token / GIB:.1f} GiB, only {fit.kv_cache_gib_per_gpu:.1f} GiB "
            f"is left per GPU; the largest --max-model-len that fits is {fit.max_model_len_that_fits}",
            evidence,
        )
    return Outcome.passed(
        f"per GPU: weights {fit.weights_gib_per_gpu:.1f} + overhead {fit.overhead_gib_per_gpu:.0f} + KV "
        f"{fit.kv_cache_gib_per_gpu:.1f} GiB of a {budget}; {fit.kv_tokens:,} tokens ({fit.kv_cache_dtype} KV) = "
        f"{fit.sequences_at_max_model_len:g} sequences of {fit.max_model_len}",
        evidence,
    )
