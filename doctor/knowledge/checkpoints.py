"""The GLM-5 checkpoints the doctor knows: the numbers memory planning needs, each with its source.

Shapes are from GLM-5's config (transformers' GlmMoeDsaConfig
defaults, https://huggingface.co/zai-org/GLM-5-FP8/blob/main/config.json). Weight totals are computed from the
exact tensor shapes (our arithmetic); ``replicated_gib`` is what every tensor-parallel rank holds in full
(q_a/kv_a projections, the DSA indexer, the router gate), solved from the per-GPU figures at TP 8
and TP 4 (FP8: 88.7 and 175.3 GiB per GPU of 694.9 GiB, so 2.10 GiB replicated).
A ``config.json`` found on disk overrides the shape fields (see ``with_config``).
"""

from __future__ import annotations

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
    source: str = (
        "computed from the tensor shapes of https://huggingface.co/zai-org/GLM-5-FP8 "
        "(config.json, 128x128 FP8 block scales)"
    )

    def with_config(self, config: dict[str, Any]) -> ModelSpec:
        """The same checkpoint with the shape values its own config.json states."""
        fields = (
            "num_hidden_layers",
            "num_attention_heads",
            "kv_lora_rank",
            "qk_rope_head_dim",
            "index_head_dim",
            "max_position_embeddings",
        )
        found: dict[str, Any] = {key: int(config[key]) for key in fields if isinstance(config.get(key), int)}
        if not found:
            return self
        found["source"] = self.source + " + config.json"
        return replace(self, **found)


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


def model_spec(name: str) -> ModelSpec | None:
    """The known checkpoint ``name`` (a hub id, or a local path ending in one)."""
    key = name.rstrip("/").lower()
    if key in MODELS:
        return MODELS[key]
    return next((spec for known, spec in MODELS.items() if key.endswith("/" + known.split("/")[-1])), None)
