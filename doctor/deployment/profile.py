"""Deployment profiles: what is going to be served, so checks judge a deployment, not a machine.

The default is the seed's deployment (DESIGN "Deployment profile"): zai-org/GLM-5-FP8 at
tensor parallel 8, ``--max-model-len 32768``, ``--gpu-memory-utilization 0.90``, port 8000, on B200.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from glm5_doctor import knowledge
from glm5_doctor.deployment.serve_args import ServeArgs
from glm5_doctor.knowledge.checkpoints import model_spec


@dataclass(frozen=True)
class Profile:
    """One deployment: model, parallelism, context and memory settings, target GPU."""

    name: str
    model: str
    tensor_parallel_size: int
    pipeline_parallel_size: int = 1
    max_model_len: int = 32768
    gpu_memory_utilization: float = 0.90
    kv_cache_dtype: str = "auto"
    port: int = 8000
    gpu: str = "B200"
    #: judge the GPUs NVML finds rather than ``gpu`` (False when the user named the GPU: planning)
    detect_gpu: bool = True
    #: ``--max-model-len -1``/``auto``: vLLM picks the largest length that fits
    max_model_len_auto: bool = False
    #: the ``vllm serve`` arguments, when preflight judges a real launch command
    serve: ServeArgs | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def quantization(self) -> str:
        """The checkpoint's quantization from the model table (``unknown`` for other models)."""
        spec = model_spec(self.model)
        return spec.quantization if spec else "unknown"

    def compute_capability(self) -> tuple[int, int] | None:
        """The profile GPU's compute capability, or None for a GPU the knowledge table lacks."""
        return knowledge.GPU_COMPUTE_CAPABILITY.get(self.gpu.upper())

    def arch_flag(self) -> str | None:
        """The nvcc arch DeepGEMM-style kernels need: the 'a' (architecture-specific) variant."""
        capability = self.compute_capability()
        return f"sm_{capability[0]}{capability[1]}a" if capability else None


DEFAULT_PROFILE = Profile(
    name="glm5-fp8-b200-tp8",
    model="zai-org/GLM-5-FP8",
    tensor_parallel_size=8,
)

BUILTIN_PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        DEFAULT_PROFILE,
        Profile(name="glm5-fp8-h200-tp8", model="zai-org/GLM-5-FP8", tensor_parallel_size=8, gpu="H200"),
        Profile(name="glm5-nvfp4-b200-tp4", model="lukealonso/GLM-5-NVFP4", tensor_parallel_size=4),
    )
}
