"""Does GLM-5 fit the GPUs: weights, overhead, KV cache and context, per GPU. Pure arithmetic.

Math and worked numbers: the doctor's own arithmetic over GLM-5's tensor shapes. vLLM budgets
``gpu_memory_utilization x CUDA-visible memory`` per GPU; out of that come the weights (replicated
pieces on every TP rank), a non-KV overhead (activations, workspaces, CUDA graphs: 5-8 GiB is an
estimate, not measured for GLM-5; 8 is used, the cautious end), and what is left is KV cache. GLM-5's MLA cache
has one latent head, so every TP rank stores every token: capacity does not grow with TP.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from glm5_doctor.knowledge.checkpoints import ModelSpec
from packaging.version import Version

GIB = 1 << 30
OVERHEAD_GIB = 8.0
VLLM_FP8_KV_DEFAULT = Version("0.32.0")
FP8_KV_DTYPES = frozenset({"fp8", "fp8_e4m3", "fp8_e5m2", "fp8_ds_mla"})


def kv_bytes_per_token_per_layer(model: ModelSpec, kv_cache_dtype: str) -> int:
    """MLA latent + DSA indexer key bytes for one token in one layer.

    bf16 (``auto``): (kv_lora_rank + rope) x 2 = 1,152 B. Any fp8 dtype becomes ``fp8_ds_mla``:
    512 B fp8 latent + 16 B scales + 128 B bf16 rope = 656 B. Indexer keys, always: 128 B fp8 + 4 B
    scale = 132 B. (vLLM's MLAAttentionSpec and DeepseekV32IndexerCache page sizes:
    vllm/v1/kv_cache_interface.py, vllm/model_executor/models/deepseek_v2.py.)
    """
    if kv_cache_dtype in FP8_KV_DTYPES:
        latent = model.kv_lora_rank + (model.kv_lora_rank // 128) * 4 + model.qk_rope_head_dim * 2
    else:
        latent = (model.kv_lora_rank + model.qk_rope_head_dim) * 2
    indexer = model.index_head_dim + 4
    return latent + indexer


def effective_kv_cache_dtype(requested: str, vllm_version: Version | None, capability: tuple[int, int] | None) -> str:
    """What vLLM will really store: from 0.32.0 ``auto`` becomes fp8 for GLM-5 on SM10x.

    vllm 0.32.0/0.33.0 wheels, GlmMoeDsaForCausalLM config hook: "Using fp8 kv-cache for
    GlmMoeDsaForCausalLM on SM10x".
    """
    newer = vllm_version is not None and vllm_version >= VLLM_FP8_KV_DEFAULT
    if requested == "auto" and newer and capability is not None and capability[0] == 10:
        return "fp8_e4m3"
    return requested


@dataclass(frozen=True)
class Fit:
    model: str
    gpu: str
    gpu_total_gib: float
    gpus: int
    tensor_parallel_size: int
    pipeline_parallel_size: int
    gpu_memory_utilization: float
    kv_cache_dtype: str
    max_model_len: int
    #: the checkpoint's position limit: vLLM refuses a longer --max-model-len whatever the memory
    max_position_embeddings: int
    budget_gib_per_gpu: float
    weights_gib_per_gpu: float
    overhead_gib_per_gpu: float
    kv_cache_gib_per_gpu: float
    unbudgeted_gib_per_gpu: float
    kv_bytes_per_token: int
    kv_tokens: int
    max_model_len_that_fits: int
    sequences_at_max_model_len: float
    enough_gpus: bool
    weights_fit: bool
    within_position_limit: bool
    fits: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan(
    model: ModelSpec,
    gpu: str,
    gpu_total_gib: float,
    gpus: int,
    tensor_parallel_size: int,
    pipeline_parallel_size: int,
    gpu_memory_utilization: float,
    max_model_len: int,
    kv_cache_dtype: str = "auto",
    mtp: bool = False,
) -> Fit:
    """The memory picture of one GPU of the deployment (they are all alike)."""
    tp, pp = tensor_parallel_size, pipeline_parallel_size
    weights_total = model.weights_total_gib + (model.mtp_gib if mtp else 0.0)
    weights = model.replicated_gib / pp + (weights_total - model.replicated_gib) / (tp * pp)
    budget = gpu_memory_utilization * gpu_total_gib
    kv_gib = budget - weights - OVERHEAD_GIB
    layers_here = math.ceil(model.num_hidden_layers / pp)
    per_token = kv_bytes_per_token_per_layer(model, kv_cache_dtype) * layers_here
    tokens = max(0, int(kv_gib * GIB // per_token)) if kv_gib > 0 else 0
    weights_fit = weights + OVERHEAD_GIB < budget
    longest = min(tokens, model.max_position_embeddings)
    enough = gpus >= tp * pp
    within_limit = max_model_len <= model.max_position_embeddings
    return Fit(
        model=model.name,
        gpu=gpu,
        gpu_total_gib=round(gpu_total_gib, 2),
        gpus=gpus,
        tensor_parallel_size=tp,
        pipeline_parallel_size=pp,
        gpu_memory_utilization=gpu_memory_utilization,
        kv_cache_dtype=kv_cache_dtype,
        max_model_len=max_model_len,
        max_position_embeddings=model.max_position_embeddings,
        budget_gib_per_gpu=round(budget, 2),
        weights_gib_per_gpu=round(weights, 2),
        overhead_gib_per_gpu=OVERHEAD_GIB,
        kv_cache_gib_per_gpu=round(max(kv_gib, 0.0), 2),
        unbudgeted_gib_per_gpu=round(gpu_total_gib - budget, 2),
        kv_bytes_per_token=per_token,
        kv_tokens=tokens,
        max_model_len_that_fits=longest,
        sequences_at_max_model_len=round(tokens / max_model_len, 2) if max_model_len > 0 else 0.0,
        enough_gpus=enough,
        weights_fit=weights_fit,
        within_position_limit=within_limit,
        fits=enough and weights_fit and within_limit and tokens >= max_model_len,
    )


def deployment_fit(
    model: ModelSpec,
    gpu: str,
    gpu_total_gib: float,
    gpus: int,
    compute_capability: tuple[int, int] | None,
    vllm_version: Version | None,
    *,
    tensor_parallel_size: int,
    pipeline_parallel_size: int,
    gpu_memory_utilization: float,
    max_model_len: int,
    kv_cache_dtype: str,
    mtp: bool,
) -> Fit:
    """The memory calculation with the inputs vLLM would really use: the one place they are assembled.

    ``model`` is the checkpoint as its own files describe it when they are on disk (else the known
    checkpoint's table entry); the KV dtype is the one the installed vLLM will store on this GPU; the
    MTP layer counts when speculative decoding loads it. ``gpu.vram`` and ``glm5-doctor fit`` both
    come through here.
    """
    return plan(
        model,
        gpu,
        gpu_total_gib,
        gpus,
        tensor_parallel_size,
        pipeline_parallel_size,
        gpu_memory_utilization,
        max_model_len,
        effective_kv_cache_dtype(kv_cache_dtype, vllm_version, compute_capability),
        mtp=mtp,
    )
