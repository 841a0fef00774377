"""Deployment profiles: what is going to be served, so checks judge a deployment, not a machine.

The default is the seed's deployment (DESIGN "Deployment profile"): zai-org/GLM-5-FP8 at
tensor parallel 8, ``--max-model-len 32768``, ``--gpu-memory-utilization 0.90``, port 8000, on B200.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from glm5_doctor import knowledge
from glm5_doctor.deployment.serve_args import ServeArgs, ServeArgsError
from glm5_doctor.deployment.values import AUTO
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
    #: no ``--max-model-len`` in a serve command: vLLM takes the checkpoint's own position limit
    #: (its config.json's, when it is on disk), which ``max_model_len`` only estimates from the table
    max_model_len_from_checkpoint: bool = False
    #: the ``vllm serve`` arguments, when preflight judges a real launch command
    serve: ServeArgs | None = None
    #: planning (``--gpu NAME --gpus N``): how many GPUs of that kind; None means TP x PP
    gpus: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def quantization(self) -> str:
        """The checkpoint's quantization from the model table (``unknown`` for other models)."""
        spec = model_spec(self.model)
        return spec.quantization if spec else "unknown"

    def context_length(self, checkpoint_limit: int) -> int:
        """The ``--max-model-len`` vLLM will use, given the checkpoint's own position limit."""
        if self.max_model_len_auto or self.max_model_len_from_checkpoint:
            return checkpoint_limit
        return self.max_model_len

    @property
    def gpus_needed(self) -> int:
        return self.tensor_parallel_size * self.pipeline_parallel_size

    @property
    def mtp(self) -> bool:
        """The MTP draft layer is loaded (``--speculative-config`` method ``mtp``)."""
        return self.serve is not None and self.serve.mtp

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


def position_limit(model: str) -> int:
    """The checkpoint's ``max_position_embeddings`` as the knowledge table has it (GLM-5's without one)."""
    spec = model_spec(model)
    return spec.max_position_embeddings if spec else DEFAULT_MAX_POSITION


#: GLM-5's ``max_position_embeddings`` (zai-org/GLM-5-FP8 config.json), for checkpoints the table lacks.
DEFAULT_MAX_POSITION = 202752


def build_profile(
    base: Profile,
    *,
    name: str | None = None,
    model: str | None = None,
    tensor_parallel_size: int | None = None,
    pipeline_parallel_size: int | None = None,
    max_model_len: int | None = None,
    absent_max_model_len_is_checkpoint_limit: bool = False,
    gpu_memory_utilization: float | None = None,
    kv_cache_dtype: str | None = None,
    port: int | None = None,
    gpu: str | None = None,
    gpus: int | None = None,
    serve: ServeArgs | None = None,
) -> Profile:
    """The one way a deployment is built: ``base`` with every value the user gave applied.

    ``max_model_len`` is read by :func:`glm5_doctor.deployment.values.max_model_len`: a token count,
    or ``AUTO`` (``-1``/``auto``: vLLM fits it to memory; the profile then holds the checkpoint's
    limit as the ceiling). Absent, it is the base profile's, or, for a real ``vllm serve`` command
    (``absent_max_model_len_is_checkpoint_limit``), the checkpoint's own limit, as vLLM does.
    """
    chosen_model = model or base.model
    changes: dict[str, Any] = {
        "name": name,
        "model": model,
        "tensor_parallel_size": tensor_parallel_size,
        "pipeline_parallel_size": pipeline_parallel_size,
        "gpu_memory_utilization": gpu_memory_utilization,
        "kv_cache_dtype": kv_cache_dtype,
        "port": port,
        "serve": serve,
        "gpus": gpus,
    }
    if max_model_len == AUTO:
        changes.update(max_model_len=position_limit(chosen_model), max_model_len_auto=True)
    elif max_model_len is not None:
        changes.update(max_model_len=max_model_len, max_model_len_auto=False, max_model_len_from_checkpoint=False)
    elif absent_max_model_len_is_checkpoint_limit:
        changes.update(max_model_len=position_limit(chosen_model), max_model_len_from_checkpoint=True)
    if gpu is not None:
        changes.update(gpu=gpu, detect_gpu=False)
    return replace(base, **{key: value for key, value in changes.items() if value is not None})


def profile_from_serve(serve: ServeArgs, base: Profile | None = None) -> Profile:
    """The deployment a real ``vllm serve`` command describes, with vLLM's defaults for what it omits."""
    if not serve.model:
        raise ServeArgsError("the command names no model (vLLM would serve its default test model, not GLM-5)")
    return build_profile(
        base or DEFAULT_PROFILE,
        name="preflight",
        model=serve.model,
        tensor_parallel_size=serve.tensor_parallel_size,
        pipeline_parallel_size=serve.pipeline_parallel_size,
        max_model_len=serve.max_model_len,
        absent_max_model_len_is_checkpoint_limit=True,
        gpu_memory_utilization=serve.gpu_memory_utilization,
        kv_cache_dtype=serve.kv_cache_dtype,
        port=serve.port,
        serve=serve,
    )
