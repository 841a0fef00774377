"""Failure signatures for ``glm5-doctor triage``: error text as the real source raises it -> checks/advisories.

Each :class:`Signature` is one fatal error a failed ``vllm serve`` log shows: a regular expression over
the log *message* (ANSI colours, worker prefixes such as ``(VllmWorker rank=3 pid=12)`` and vLLM's
``ERROR 03-02 19:49:00 [core.py:867]`` header already stripped), where that text is raised (a wheel
file and version, or the public thread that shows it), the check IDs and advisory IDs that cover the
cause, and the cause in one line. Order matters: the first signature whose pattern matches a line wins,
so the specific ones (a kv-cache dtype rejection) come before the general ones (no attention backend).

``keywords`` are literal substrings, at least one of which the line must contain before the pattern is
tried: one combined search per line keeps triage linear on gigabyte logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Signature:
    id: str
    keywords: tuple[str, ...]
    pattern: re.Pattern[str]
    #: what failed, in one line
    summary: str
    #: why, in one line
    cause: str
    #: where the text is raised: "<dist> <version> wheel: <path>" or a public thread URL
    raised_at: tuple[str, ...]
    checks: tuple[str, ...] = ()
    advisories: tuple[str, ...] = ()
    #: when set, the signature holds only if one of the lines just before the fatal one (its traceback
    #: frames) matches: the same ``[Errno 98]`` means --port when raised in ``create_server_socket`` and
    #: an internal port when raised in ``get_open_port``
    context: re.Pattern[str] | None = None

    def holds(self, message: str, before: tuple[str, ...]) -> bool:
        if not self.pattern.search(message):
            return False
        return self.context is None or any(self.context.search(line) for line in (*before, message))


def _sig(
    id: str,
    keywords: tuple[str, ...],
    pattern: str,
    summary: str,
    cause: str,
    raised_at: tuple[str, ...],
    checks: tuple[str, ...] = (),
    advisories: tuple[str, ...] = (),
    context: str | None = None,
) -> Signature:
    return Signature(
        id,
        keywords,
        re.compile(pattern),
        summary,
        cause,
        raised_at,
        checks,
        advisories,
        re.compile(context) if context else None,
    )


SIGNATURES: tuple[Signature, ...] = (
    _sig(
        "vllm.architecture-unsupported",
        ("are not supported for now",),
        r"Model architectures \[[^\]]*\] are not supported for now",
        "vLLM does not know the checkpoint's architecture",
        "the installed vLLM predates the model: GLM-5's GlmMoeDsaForCausalLM is registered from vLLM 0.16.0",
        ("vllm 0.15.1 wheel: vllm/model_executor/models/registry.py (_raise_for_unsupported)",),
        checks=("vllm.installed", "vllm.glm5-architecture"),
    ),
    _sig(
        "transformers.glm-moe-dsa-unknown",
        ("glm_moe_dsa",),
        r"model type `glm_moe_dsa` but Transformers does not recognize this architecture|KeyError: 'glm_moe_dsa'",
        "transformers does not know the model type glm_moe_dsa",
        "transformers older than 5.2.0 (or an early git build) has no GlmMoeDsaConfig",
        (
            "transformers 5.5.1 wheel: transformers/models/auto/configuration_auto.py (AutoConfig.from_pretrained)",
            "https://github.com/ggml-org/llama.cpp/pull/19460",
            "https://github.com/sgl-project/sglang/issues/19408",
        ),
        checks=("transformers.glm-moe-dsa", "transformers.vllm-pin"),
        advisories=("GLM5-ADV-0023",),
    ),
    _sig(
        "transformers.tokenizers-backend-missing",
        ("TokenizersBackend",),
        r"Tokenizer class TokenizersBackend does not exist or is not currently imported"
        r"|TokenizersBackend has no attribute",
        "the GLM-5 tokenizer class TokenizersBackend is missing from the installed transformers",
        "GLM-5's tokenizer_config.json names a transformers 5 class; transformers 4.x cannot load it",
        ("https://github.com/ai-dynamo/aiperf/issues/960", "https://github.com/NVIDIA/srt-slurm/pull/20"),
        checks=("model.tokenizer", "transformers.glm-moe-dsa"),
        advisories=("GLM5-ADV-0023",),
    ),
    _sig(
        "deepgemm.unknown-recipe",
        ("Unknown recipe", "Unknown SF transformation"),
        r"Assertion error \(?[^)\s]*layout\.hpp:\d+\)?:? '?Unknown (?:recipe|SF transformation)",
        "DeepGEMM asserted 'Unknown recipe' (no FP8 scale-factor layout for this GPU)",
        "this DeepGEMM has no FP8 scale-factor recipe for the GPU: the DeepGEMM vLLM 0.24+ uses regressed on SM120",
        (
            "https://github.com/vllm-project/vllm/issues/47130",
            "https://github.com/vllm-project/vllm/issues/47169",
            "https://github.com/deepseek-ai/DeepGEMM/pull/403",
        ),
        checks=("gpu.architecture", "deepgemm.shadowing"),
        advisories=("GLM5-ADV-0024",),
    ),
    _sig(
        "deepgemm.unavailable",
        ("DeepGEMM backend is",),
        r"DeepGEMM backend is (?:not available or outdated|unavailable in the current vLLM environment)",
        "DeepGEMM is missing or lacks the kernels GLM-5's sparse indexer calls",
        "vLLM 0.16-0.19 do not bundle DeepGEMM, 0.20.0's bundled copy loads only on Python 3.12, "
        "or an old deep_gemm lacks fp8_mqa_logits",
        (
            "vllm 0.16.0 wheel: vllm/utils/deep_gemm.py (_missing)",
            "vllm 0.33.0 wheel: vllm/utils/deep_gemm.py (_missing)",
            "https://github.com/vllm-project/vllm/issues/29943",
        ),
        checks=("deepgemm.installed", "deepgemm.kernels"),
        advisories=("GLM5-ADV-0017", "GLM5-ADV-0016"),
    ),
    _sig(
        "deepgemm.nvcc-missing",
        ("nvcc_path", "NVCC compiler is not executable", "cuda_home is not None", "nvcc: not found", "isPathValid"),
        r"std::filesystem::exists\(nvcc_path\)|NVCC compiler is not executable|assert cuda_home is not None"
        r"|\bnvcc: not found|!cubin\.empty\(\) \|\| isPathValid\(path_\)",
        "no CUDA toolkit (nvcc) was found for a run-time kernel compile (DeepGEMM, or the DeepGEMM inside FlashInfer)",
        "DeepGEMM compiles kernels at run time and needs a CUDA toolkit (CUDA_HOME, nvcc on PATH or /usr/local/cuda)",
        (
            "DeepGEMM v2.1.1.post3: csrc/jit/compiler.hpp, deep_gemm/__init__.py",
            "vllm 0.33.0 wheel: vllm/third_party/deep_gemm/_C_extension.abi3.so (strings)",
            "https://github.com/kvcache-ai/Mooncake/issues/2162",
        ),
        checks=("cuda.nvcc",),
    ),
    _sig(
        "deepgemm.nvcc-too-old",
        ("sm_100f", "NVCC version"),
        r"Unsupported gpu architecture 'sm_10[03]f'|NVCC version (?:must be at least 12\.9|should be >= 12\.3)",
        "the nvcc DeepGEMM uses is too old for this GPU",
        "DeepGEMM needs NVCC 12.9+ on Blackwell (the sm_100f family target), 12.3+ on Hopper",
        (
            "https://github.com/deepseek-ai/DeepGEMM/pull/173",
            "vllm 0.33.0 wheel: vllm/third_party/deep_gemm/_C_extension.abi3.so (strings)",
        ),
        checks=("cuda.nvcc",),
    ),
    _sig(
        "deepgemm.cutlass-headers-missing",
        ("No such file or directory",),
        r"fatal error: (?:cutlass|cute)/[\w/.]+: No such file or directory",
        "DeepGEMM's JIT compile cannot find the CUTLASS/CuTe headers",
        "DeepGEMM was built without its cutlass submodule, so deep_gemm/include/{cutlass,cute} is empty",
        ("DeepGEMM v2.1.1.post3: setup.py (prepare_includes), deep_gemm/include/deep_gemm/*.cuh #include lines",),
        checks=("deepgemm.cutlass-headers",),
    ),
    _sig(
        "attention.selected-backend-invalid",
        ("is not valid for this configuration", "Unknown attention backend"),
        r"Selected backend \S+ is not valid for this configuration|Unknown attention backend: '",
        "the attention backend vLLM was told to use cannot run GLM-5 here, or does not exist",
        "--attention-backend (or VLLM_ATTENTION_BACKEND, which vLLM honoured before 0.13) names a dense MLA "
        "backend, one for other GPUs, or a name this vLLM lacks; GLM-5's DSA attention needs a sparse-MLA one",
        (
            "vllm 0.19.1 wheel: vllm/platforms/cuda.py (get_attn_backend_cls)",
            "vllm 0.19.1 wheel: vllm/v1/attention/backends/registry.py (_AttentionBackendEnumMeta.__getitem__)",
            "https://github.com/vllm-project/vllm/pull/30195",
        ),
        checks=("serve.attention-backend", "serve.attention-backend-env"),
    ),
    _sig(
        "attention.kv-cache-dtype-rejected",
        ("kv_cache_dtype not supported",),
        r"No valid attention backend found.*kv_cache_dtype not supported",
        "no sparse-MLA attention backend accepts this --kv-cache-dtype",
        "FLASHMLA_SPARSE accepts auto/bfloat16/fp8_ds_mla (fp8 from 0.18) only; fp8_e4m3 needs FlashInfer on SM10x",
        (
            "vllm 0.24.0 wheel: vllm/v1/attention/backends/mla/flashinfer_mla_sparse.py (validate_configuration)",
            "https://github.com/vllm-project/recipes/issues/565",
            "https://github.com/vllm-project/vllm/issues/48406",
        ),
        checks=("serve.kv-cache-dtype",),
        advisories=("GLM5-ADV-0008",),
    ),
    _sig(
        "attention.no-sparse-backend",
        ("No valid attention backend", "FlashMLA Sparse is only supported"),
        r"No valid attention backend found.*use_sparse=True|FlashMLA Sparse is only supported on Hopper and Blackwell",
        "no sparse-MLA attention backend exists for these GPUs",
        "GLM-5's DSA attention has kernels only for compute capability 9.x and 10.x in most vLLM releases",
        (
            "vllm 0.16.0 wheel: vllm/v1/attention/backends/mla/flashmla_sparse.py (supports_compute_capability)",
            "https://github.com/zai-org/GLM-5/issues/13",
            "https://github.com/eugr/spark-vllm-docker/issues/67",
        ),
        checks=("gpu.architecture",),
        advisories=("GLM5-ADV-0006", "GLM5-ADV-0007"),
    ),
    _sig(
        "attention.flashmla-extension-missing",
        ("flashmla_C is not available",),
        r"vllm\.?_flashmla_C is not available",
        "vLLM's FlashMLA extension is not compiled in",
        "a source build of vLLM without sm_90a/sm_100a in TORCH_CUDA_ARCH_LIST or with an old nvcc",
        ("vllm 0.16.0 wheel: vllm/v1/attention/ops/flashmla.py (is_flashmla_supported)",),
        checks=("gpu.architecture", "vllm.cuda-build"),
    ),
    _sig(
        "flashinfer.version-mismatch",
        ("does not match flashinfer version",),
        r"flashinfer-(?:cubin|jit-cache) version \([^)]*\) does not match flashinfer version",
        "flashinfer's companion wheels do not match flashinfer-python",
        "a flashinfer-cubin/-jit-cache left from an older image next to a newer flashinfer-python",
        (
            "https://github.com/vllm-project/vllm/issues/49804",
            "https://github.com/flashinfer-ai/flashinfer/issues/4781",
        ),
        checks=("flashinfer.versions",),
        advisories=("GLM5-ADV-0014", "GLM5-ADV-0015"),
    ),
    _sig(
        "driver.too-old-for-cuda-build",
        ("driver on your system is too old",),
        r"The NVIDIA driver on your system is too old \(found version \d+\)",
        "the NVIDIA driver is too old for the CUDA build of torch/vLLM",
        "vLLM 0.20+ and torch 2.11+ PyPI wheels are CUDA 13 builds and need an R580 driver (>= 580.65.06)",
        (
            "torch 2.11.0 wheel: torch/cuda/__init__.py (_check_driver)",
            "https://github.com/modelscope/FunASR/issues/2973",
        ),
        checks=("gpu.driver", "vllm.cuda-build", "torch.cuda-build"),
        advisories=("GLM5-ADV-0021",),
    ),
    _sig(
        "cuda.no-driver",
        ("Found no NVIDIA driver",),
        r"Found no NVIDIA driver on your system",
        "torch found no NVIDIA driver",
        "the driver is not installed or not loaded, or the container was started without the GPUs "
        "(--gpus / the NVIDIA container runtime)",
        ("torch 2.10.0 wheel: torch/lib/libc10_cuda.so (the driver check behind torch.cuda's lazy init)",),
        checks=("gpu.driver",),
    ),
    _sig(
        "cuda.system-not-initialized-802",
        ("system not yet initialized", "cudaErrorSystemNotReady"),
        r"system not yet initialized|cudaErrorSystemNotReady",
        "CUDA could not initialise the GPUs (error 802: system not yet initialized)",
        "on NVSwitch systems the fabric is not registered: nvidia-fabricmanager (and NVLSM on B200) is not running",
        (
            "torch 2.9.1 wheel: torch/cuda/__init__.py (_lazy_init, cudaGetDeviceCount)",
            "https://github.com/huggingface/huggingface_hub/issues/4128",
        ),
        checks=("gpu.fabric",),
    ),
    _sig(
        "torch.no-kernel-image",
        ("no kernel image is available", "is not compatible with the current PyTorch installation"),
        r"no kernel image is available for execution on the device"
        r"|with CUDA capability sm_\d+ is not compatible with the current PyTorch installation",
        "torch (or a vLLM kernel) has no code for this GPU's architecture",
        "the binary was not compiled for this GPU's architecture: a torch built for CUDA <= 12.6 stops at sm_90 "
        "(nothing for Blackwell), a kernel built for sm_100 only has nothing for Hopper",
        (
            "https://github.com/Comfy-Org/ComfyUI/pull/16438",
            "torch 2.9.1 wheel: torch/cuda/__init__.py (_check_capability)",
        ),
        checks=("torch.cuda-build", "vllm.cuda-build"),
    ),
    _sig(
        "nccl.shm-too-small",
        ("Error while creating shared memory segment",),
        r"Error while creating shared memory segment",
        "NCCL could not create its shared-memory segment in /dev/shm",
        "a container's default /dev/shm (64 MB) is too small for NCCL at this tensor parallelism",
        ("https://github.com/vllm-project/vllm/issues/1710", "NCCL 2.21 src/misc/shmutils.cc (ncclShmOpen)"),
        checks=("host.shm",),
    ),
    _sig(
        "nccl.nvls-multicast",
        ("nvls.cc",),
        r"nvls\.cc:\d+ NCCL WARN Cuda failure",
        "NCCL's NVLink SHARP (NVLS) multicast setup failed",
        "NVLink multicast is not usable here (fabric, IMEX or container limits); NCCL_NVLS_ENABLE=0 avoids it",
        ("https://github.com/NVIDIA/nccl/issues/1788",),
        checks=("gpu.nvlink-multicast", "gpu.fabric"),
    ),
    _sig(
        "flashinfer.allreduce-capture-invalidated",
        (
            "cudaStreamCaptureStatusInvalidated",
            "cudaErrorStreamCaptureInvalidated",
            "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED",
            "previous error during capture",
        ),
        r"cudaStreamCaptureStatusInvalidated|cudaErrorStreamCaptureInvalidated|CUDA_ERROR_STREAM_CAPTURE_INVALIDATED"
        r"|operation failed due to a previous error during capture",
        "CUDA graph capture was invalidated",
        "on GLM-5 deployments FlashInfer's fused all-reduce is the known cause: it needs NVLink multicast, and "
        "without it capture fails",
        ("https://github.com/vllm-project/vllm/issues/48071", "https://github.com/vllm-project/vllm/pull/55973"),
        checks=("gpu.nvlink-multicast",),
        advisories=("GLM5-ADV-0019", "GLM5-ADV-0020"),
    ),
    _sig(
        "memory.free-below-utilization",
        ("on startup is less than desired GPU memory utilization",),
        r"Free memory on device (?:\S+ )?\([\d./ ]+GiB ?\) ?on startup is less than desired GPU memory utilization",
        "less GPU memory is free than --gpu-memory-utilization asks for",
        "another process holds memory on one of the GPUs, or the utilization is set too high",
        (
            "vllm 0.16.0 wheel: vllm/v1/worker/utils.py (request_memory)",
            "https://github.com/pytorch/pytorch/issues/175666",
        ),
        checks=("gpu.free-memory",),
    ),
    _sig(
        "memory.kv-cache-too-small",
        ("To serve at least one request with the model", "stored in KV cache"),
        r"To serve at least one request with the models?'?s max seq len \(\d+\)"
        r"|The model's max seq len \(\d+\) is larger than the maximum number of tokens that can be stored in KV cache",
        "the KV cache cannot hold one request of --max-model-len",
        "the weights leave too little memory for a KV cache of that context length",
        (
            "vllm 0.16.0 wheel: vllm/v1/core/kv_cache_utils.py (check_enough_kv_cache_memory)",
            "https://github.com/gpustack/gpustack/issues/1800",
        ),
        checks=("gpu.vram",),
    ),
    _sig(
        "memory.no-cache-blocks",
        ("No available memory for the cache blocks",),
        r"No available memory for the cache blocks",
        "no GPU memory is left for the KV cache after loading the weights",
        "the weights do not fit in the GPUs at this tensor/pipeline parallelism and utilization",
        ("vllm 0.16.0 wheel: vllm/v1/core/kv_cache_utils.py (check_enough_kv_cache_memory)",),
        checks=("gpu.vram", "gpu.count"),
    ),
    _sig(
        "memory.cuda-oom",
        ("CUDA out of memory", "OutOfMemoryError"),
        r"CUDA out of memory|torch\.OutOfMemoryError",
        "a GPU ran out of memory",
        "the weights and activations do not fit, or other processes hold GPU memory",
        ("torch 2.9.1 wheel: torch/cuda/memory.py (OutOfMemoryError from the caching allocator)",),
        checks=("gpu.vram", "gpu.free-memory"),
    ),
    _sig(
        "transformers.kernels-left-behind",
        ("Either a revision or a version must be specified",),
        r"Either a revision or a version must be specified",
        "importing transformers (inside vLLM's own import) failed in the kernels package",
        "a kernels release outside the range transformers declares under its extra is installed (left behind "
        "by a transformers downgrade); transformers imports it whenever it is present",
        (
            "kernels 0.19.1 wheel: kernels/_internals/layer/layer.py (LayerRepository)",
            "transformers 5.5.1 wheel: transformers/integrations/hub_kernels.py",
            "https://github.com/huggingface/transformers/issues/46291",
        ),
        checks=("vllm.optional-imports", "vllm.stack-import"),
    ),
    _sig(
        "model.max-len-over-config",
        ("is greater than the derived max_model_len",),
        r"User-specified max_model_len \(\d+\) is greater than the derived max_model_len",
        "--max-model-len is above the checkpoint's position limit",
        "GLM-5's config.json allows at most 202752 positions",
        ("vllm 0.16.0 wheel: vllm/config/model.py (_get_and_verify_max_len)",),
        checks=("model.config", "gpu.vram"),
    ),
    _sig(
        "serve.tensor-parallel-heads",
        ("must be divisible by tensor parallel size",),
        r"Total number of attention heads \(\d+\) must be divisible by tensor parallel size",
        "--tensor-parallel-size does not divide the attention heads",
        "GLM-5 has 64 attention heads; TP must divide 64",
        ("vllm 0.16.0 wheel: vllm/config/model.py (verify_with_parallel_config)",),
        checks=("serve.tensor-parallel",),
    ),
    _sig(
        "serve.world-size-over-gpus",
        ("is larger than the number of available GPUs",),
        r"World size \(\d+\) is larger than the number of available GPUs \(\d+\)",
        "tensor x pipeline parallelism needs more GPUs than this node shows",
        "fewer GPUs are visible than --tensor-parallel-size x --pipeline-parallel-size (CUDA_VISIBLE_DEVICES, "
        "the container's GPUs, or a GPU the driver lost)",
        ("vllm 0.19.1 wheel: vllm/config/parallel.py (ParallelConfig.__post_init__)",),
        checks=("gpu.count",),
    ),
    _sig(
        "serve.parser-invalid-choice",
        ("invalid choice", "invalid tool call parser", "invalid reasoning parser"),
        r"argument --(?:tool-call-parser|reasoning-parser): invalid choice"
        r"|invalid (?:tool call|reasoning) parser: \S+ \(chose from",
        "this vLLM has no such tool-call or reasoning parser",
        "GLM-5 uses --tool-call-parser glm47 and --reasoning-parser glm45, present from vLLM 0.16.0",
        (
            "https://github.com/zai-org/GLM-4.5/issues/16",
            "vllm 0.19.1 wheel: vllm/entrypoints/openai/api_server.py (validate_api_server_args)",
        ),
        checks=("serve.parsers",),
    ),
    _sig(
        "host.internal-port-in-use",
        ("already in use", "EADDRINUSE"),
        r"(?i:\[errno 98\].*address already in use)|failed to listen on any local network address.*EADDRINUSE",
        "a port vLLM opens for its own processes is already taken",
        "another process holds a port vLLM picked for itself (get_open_port, torch.distributed's TCPStore at "
        "VLLM_PORT/MASTER_PORT): most often a vLLM from an earlier launch that has not exited",
        (
            "vllm 0.19.1 wheel: vllm/utils/network_utils.py (get_open_port)",
            "torch 2.10.0 wheel: torch/lib/libtorch_cpu.so (c10d TCPStore server socket)",
            "https://github.com/vllm-project/vllm/issues/11617",
        ),
        checks=("gpu.free-memory",),
        context=r"in get_open_port|TCPStore|EADDRINUSE",
    ),
    _sig(
        "host.port-in-use",
        ("already in use",),
        r"(?i:\[errno 98\].*address already in use)",
        "the server's port is already taken",
        "another process listens on --host/--port",
        (
            "CPython socket.bind (errno 98, EADDRINUSE)",
            "vllm 0.19.1 wheel: vllm/entrypoints/openai/api_server.py (create_server_socket)",
            "https://github.com/vllm-project/vllm/issues/8204",
        ),
        checks=("host.port",),
    ),
    _sig(
        "lmcache.sparse-kv-shape",
        ("is invalid for input of size", "could not broadcast input array"),
        r"shape '\[1, 78, \d+, \d+\]' is invalid for input of size"
        r"|could not broadcast input array from shape \(\d+,\) into shape \(78,\)",
        "LMCache could not reshape GLM-5's sparse-MLA KV cache",
        "LMCacheConnectorV1 assumes a dense KV layout that GLM-5's 78-layer sparse-MLA cache does not have",
        ("https://github.com/LMCache/LMCache/issues/2947", "https://github.com/LMCache/LMCache/issues/5002"),
        checks=("advisories.known-bugs",),
        advisories=("GLM5-ADV-0003",),
    ),
    _sig(
        "engine.ready-timeout",
        ("Timed out waiting for engine",),
        r"Timed out waiting for engines? (?:to send ?initial message|core processes to start)",
        "the engine did not become ready within VLLM_ENGINE_READY_TIMEOUT_S",
        "a cold DeepGEMM warm-up plus loading ~700 GB of weights can exceed the default 600 s",
        ("https://github.com/vllm-project/vllm/issues/32116", "https://github.com/vllm-project/vllm/pull/27444"),
        checks=("deepgemm.warmup",),
    ),
    _sig(
        "triton.ptxas-arch",
        ("ptxas",),
        r"ptxas(?:-blackwell)? fatal\s*: Value 'sm_\d+[af]?' is not defined for option 'gpu-name'",
        "Triton's ptxas does not know this GPU's architecture",
        "the ptxas bundled with Triton predates the GPU (e.g. sm_103a on B300); TRITON_PTXAS_PATH fixes it",
        (
            "https://github.com/triton-lang/triton/issues/8539",
            "https://github.com/sgl-project/sglang/pull/22852",
            "triton 3.6.0 wheel: triton/backends/nvidia/compiler.py (get_ptxas: ptxas-blackwell from sm_100)",
        ),
        checks=("triton.ptxas",),
    ),
    _sig(
        "extension.cuda-runtime-symbol",
        ("version libcudart",),
        r"undefined symbol: \w+, version libcudart\.so\.\d+",
        "a compiled extension needs a newer CUDA runtime than the libcudart it loaded",
        "the extension (DeepGEMM, vLLM) was built with a newer CUDA toolkit than the CUDA runtime torch bundles",
        ("https://github.com/deepseek-ai/DeepGEMM/issues/137",),
        checks=("torch.cuda-build",),
    ),
    _sig(
        "extension.undefined-symbol",
        ("undefined symbol",),
        r"(?:vllm|deep_gemm)[\w./-]*\.so: undefined symbol",
        "a compiled extension does not link against the installed torch (undefined symbol)",
        "vLLM or DeepGEMM was built against another torch than the one installed",
        ("https://github.com/deepseek-ai/DeepGEMM/issues/142", "https://github.com/vllm-project/vllm/issues/1344"),
        checks=("vllm.torch-abi", "deepgemm.torch-abi"),
    ),
)


def by_id(signature_id: str) -> Signature | None:
    return next((item for item in SIGNATURES if item.id == signature_id), None)
