"""The GLM-5 checkpoints the doctor knows: the numbers memory planning needs, each with its source.

Shapes are from GLM-5's config (transformers' GlmMoeDsaConfig
defaults, https://huggingface.co/zai-org/GLM-5-FP8/blob/main/config.json). Weight totals are computed from the
exact tensor shapes (our arithmetic); ``replicated_gib`` is what every tensor-parallel rank holds in full
(q_a/kv_a projections, the DSA indexer, the router gate), solved from the per-GPU figures at TP 8
and TP 4 (FP8: 88.7 and 175.3 GiB per GPU of 694.9 GiB, so 2.10 GiB replicated).
A checkpoint on disk is judged from its own files instead (see :func:`from_files`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    name: str
    quantization: str
    #: main model as vLLM loads it (MTP layer skipped), GiB
    weights_total_gib: float
    replicated_gib: float
    #: the MTP layer, loaded only with --speculative-config method mtp
    mtp_gib: float
    num_hidden_layers: int = 78
    num_attention_heads: int = 64
    kv_lora_rank: int = 512
    qk_rope_head_dim: int = 64
    index_head_dim: int = 128
    max_position_embeddings: int = 202752
    family: str = "GLM-5"
    architecture: str = "GlmMoeDsaForCausalLM"
    model_type: str = "glm_moe_dsa"
    #: per-layer attention kinds a config may list (GLM-5.2 style); empty when the config has none
    layer_types: tuple[str, ...] = ()
    #: MTP (next-token prediction) layers after the main ones: config.json num_nextn_predict_layers
    mtp_layers: int = 1
    #: True when the numbers come from the checkpoint's own files rather than the table
    from_files: bool = False
    source: str = (
        "computed from the tensor shapes of https://huggingface.co/zai-org/GLM-5-FP8 "
        "(config.json, 128x128 FP8 block scales)"
    )


GLM5_FP8 = ModelSpec("zai-org/GLM-5-FP8", "fp8", weights_total_gib=694.9, replicated_gib=2.10, mtp_gib=9.3)
#: Routed experts NVFP4, the rest BF16 (ModelOpt style): 415 GiB, 55.4 / 106.8 GiB per GPU at TP 8 / 4 (computed).
GLM5_NVFP4 = ModelSpec("lukealonso/GLM-5-NVFP4", "nvfp4", weights_total_gib=415.0, replicated_gib=4.03, mtp_gib=0.0)
#: BF16: twice the FP8 checkpoint's bytes for the FP8 parts; an estimate (the doctor's own arithmetic).
GLM5_BF16 = ModelSpec(
    "zai-org/GLM-5",
    "bf16",
    weights_total_gib=1385.9,
    replicated_gib=4.2,
    mtp_gib=18.6,
    source="estimate: 744B parameters x 2 bytes",
)

MODELS: dict[str, ModelSpec] = {
    spec.name.lower(): spec
    for spec in (
        GLM5_FP8,
        GLM5_NVFP4,
        replace(GLM5_NVFP4, name="nvidia/GLM-5-NVFP4"),
        replace(GLM5_NVFP4, name="festr2/GLM-5-NVFP4-MTP", mtp_gib=18.6),
        GLM5_BF16,
        replace(GLM5_FP8, name="zai-org/GLM-5.1-FP8"),
        replace(GLM5_BF16, name="zai-org/GLM-5.1"),
    )
}


GIB = 1 << 30
#: Config keys whose integer values replace the table's shapes.
SHAPE_KEYS = (
    "num_hidden_layers",
    "num_attention_heads",
    "kv_lora_rank",
    "qk_rope_head_dim",
    "index_head_dim",
    "max_position_embeddings",
)


def quantization_of(config: Mapping[str, Any], hf_quant_config: Mapping[str, Any] | None) -> str:
    """``fp8``, ``nvfp4``, ``bf16`` or what the files name, from ``quantization_config`` or ModelOpt's file.

    FP8 block checkpoints say ``quant_method: fp8`` (GLM-5-FP8); ModelOpt NVFP4 builds say
    ``quant_algo: NVFP4`` in ``hf_quant_config.json`` or ``quantization_config`` (nvidia/GLM-5-NVFP4).
    """
    for source in (config.get("quantization_config"), (hf_quant_config or {}).get("quantization"), hf_quant_config):
        if not isinstance(source, Mapping):
            continue
        algo = str(source.get("quant_algo") or source.get("quant_method") or "").lower()
        if "nvfp4" in algo or "fp4" in algo:
            return "nvfp4"
        if "fp8" in algo:
            return "fp8"
        if algo:
            return algo
    dtype = str(config.get("torch_dtype") or config.get("dtype") or "").lower()
    return "bf16" if dtype in ("bfloat16", "bf16") else (dtype or "unknown")


def from_files(
    name: str,
    config: Mapping[str, Any],
    index_total_size: int | None,
    hf_quant_config: Mapping[str, Any] | None,
    known: ModelSpec | None,
) -> ModelSpec:
    """The checkpoint as its own files describe it; the table fills in only what the files cannot say.

    Shapes, position limit, layer kinds and MTP layers come from config.json; the weight bytes from
    the safetensors index's ``total_size`` (the MTP layer's share split off, as vLLM skips it unless
    speculative decoding loads it); the replicated share per TP rank scales with the known
    checkpoint's (or GLM-5-FP8's) fraction.
    """
    base = known or replace(GLM5_FP8, name=name)
    found: dict[str, Any] = {key: int(config[key]) for key in SHAPE_KEYS if _whole(config.get(key))}
    layers = found.get("num_hidden_layers", base.num_hidden_layers)
    nextn = config.get("num_nextn_predict_layers")
    mtp_layers = nextn if isinstance(nextn, int) and nextn >= 0 and not isinstance(nextn, bool) else base.mtp_layers
    architectures = config.get("architectures")
    layer_types = config.get("layer_types")
    changes: dict[str, Any] = {
        **found,
        "name": name,
        "quantization": quantization_of(config, hf_quant_config),
        # what the files do not say, the table (or GLM-5-FP8's entry) says
        "architecture": str(architectures[0])
        if isinstance(architectures, list) and architectures
        else base.architecture,
        "model_type": str(config.get("model_type") or base.model_type),
        "layer_types": tuple(str(kind) for kind in layer_types) if isinstance(layer_types, list) else (),
        "mtp_layers": mtp_layers,
        "from_files": True,
        "source": f"{name}: its config.json" + (" and safetensors index" if index_total_size else ""),
    }
    if index_total_size:
        total_gib = index_total_size / GIB
        mtp_gib = total_gib * mtp_layers / (layers + mtp_layers) if mtp_layers else 0.0
        weights = total_gib - mtp_gib
        share = base.replicated_gib / base.weights_total_gib if base.weights_total_gib else 0.0
        changes.update(weights_total_gib=round(weights, 2), mtp_gib=round(mtp_gib, 2), replicated_gib=weights * share)
    return replace(base, **changes)


def is_glm5_family(spec: ModelSpec) -> bool:
    return spec.architecture == GLM5_FP8.architecture or spec.model_type == GLM5_FP8.model_type


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def model_spec(name: str) -> ModelSpec | None:
    """The known checkpoint ``name`` (a hub id, or a local path ending in one)."""
    key = name.rstrip("/").lower()
    if key in MODELS:
        return MODELS[key]
    return next((spec for known, spec in MODELS.items() if key.endswith("/" + known.split("/")[-1])), None)
