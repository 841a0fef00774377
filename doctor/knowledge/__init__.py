"""What is known about GLM-5 on vLLM, each fact with where it comes from.

Checks take their thresholds from here, never from literals of their own, so a fact that
turns out wrong is fixed in one place. Unless a line says otherwise,
facts were read from the published PyPI wheels (https://pypi.org/project/vllm/<version>/,
https://pypi.org/project/transformers/<version>/), unpacked and read as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version

#: The architecture name in GLM-5's config.json (all GLM-5, 5.1, 5.2 checkpoints).
GLM5_ARCHITECTURE = "GlmMoeDsaForCausalLM"
GLM5_MODEL_TYPE = "glm_moe_dsa"

#: First vLLM release whose registry has GLM-5 (0.15.1 has no entry). vllm 0.15.1 vs 0.16.0 wheels: registry.py
VLLM_FIRST_GLM5 = Version("0.16.0")

#: The registry line, in both known forms: module ``deepseek_v2`` for 0.16.0-0.28.0, the
#: package ``vllm.models.deepseek_v32`` from 0.29.0 (still in 0.33.0). A relative module name is
#: under ``vllm.model_executor.models``. vllm 0.16.0-0.33.0 wheels: registry.py
VLLM_REGISTRY_GLM5_LINE = re.compile(r'"GlmMoeDsaForCausalLM"\s*:\s*\(\s*"([\w.]+)"\s*,\s*"GlmMoeDsaForCausalLM"\s*\)')
VLLM_KNOWN_GLM5_MODULES = ("deepseek_v2", "vllm.models.deepseek_v32")

#: What ``vllm serve`` prints on a vLLM without the entry. vllm 0.16.0 wheel: registry.py
VLLM_UNSUPPORTED_ARCH_ERROR = (
    "Model architectures ['GlmMoeDsaForCausalLM'] are not supported for now. Supported architectures: ..."
)

#: First transformers release with model type ``glm_moe_dsa`` (huggingface/transformers#43858).
#: The transformers 5.1.0 wheel lacks it, 5.2.0 has ``transformers/models/glm_moe_dsa/``.
TRANSFORMERS_FIRST_GLM5 = Version("5.2.0")
TRANSFORMERS_GLM5_CONFIG_FILE = "transformers/models/glm_moe_dsa/configuration_glm_moe_dsa.py"
TRANSFORMERS_AUTO_CONFIG_FILE = "transformers/models/auto/configuration_auto.py"
TRANSFORMERS_AUTO_MAPPING_LINE = '("glm_moe_dsa", "GlmMoeDsaConfig")'

#: ``layer_types`` values GLM-5-family configs use, with the first transformers release that accepts
#: them (where the installed transformers' own ALLOWED_LAYER_TYPES cannot be read). GLM-5.2 configs list
#: ``deepseek_sparse_attention`` for every layer (https://github.com/coreweave/ml-containers/issues/206);
#: transformers 5.10.4 wheel: configuration_utils.py lacks it, 5.11.0 wheel: adds it.
TRANSFORMERS_FIRST_LAYER_TYPE: dict[str, Version] = {"deepseek_sparse_attention": Version("5.11.0")}
#: What transformers raises for a value it does not accept (transformers 5.5.1-5.10.4 wheels:
#: configuration_utils.py, validate_layer_type).
TRANSFORMERS_LAYER_TYPE_ERROR = "ValueError: The `layer_types` entries must be in (...) but got [...]"

#: The floor the GLM-5 recipe asks for on top of vLLM 0.16-0.18 (vllm-project/recipes GLM5.md).
TRANSFORMERS_RECIPE_FLOOR = Version("5.4.0")

#: First vLLM release checked whose transformers pin admits a transformers that knows GLM-5
#: (``!=5.0.*,...,!=5.5.0,>=4.56.0``, i.e. >=5.5.1). vllm 0.19.1 wheel: METADATA
VLLM_FIRST_GLM5_TRANSFORMERS_PIN = Version("0.19.1")

#: What transformers < 5.2.0 raises on GLM-5's config. transformers 4.57.6/5.1.0 wheels: configuration_auto.py
TRANSFORMERS_UNKNOWN_TYPE_ERROR = (
    "ValueError: The checkpoint you are trying to load has model type `glm_moe_dsa` "
    "but Transformers does not recognize this architecture."
)

#: Pythons vLLM supports when no vLLM is installed to ask: every release 0.16-0.19 says
#: ``>=3.10,<3.14``; 3.12 is the only one every release 0.16-0.33 accepts. vllm wheels' METADATA
FALLBACK_REQUIRES_PYTHON = SpecifierSet(">=3.10,<3.14")
RECOMMENDED_PYTHON = "3.12"

#: vLLM's own Requires-Dist names judged by dedicated checks rather than ``vllm.dependencies``.
DEPENDENCIES_JUDGED_ELSEWHERE = frozenset(
    {"transformers", "torch", "flashinfer-python", "flashinfer-cubin", "flashinfer-jit-cache"}
)

#: Distributions a package imports whenever they are installed, whatever the user asked for: declared
#: only under an extra (so pip never checks them), yet a version outside that extra's range breaks the
#: importing package at import time. transformers 5.5.1 declares ``kernels<0.13,>=0.12.0; extra ==
#: "kernels"`` and imports ``kernels`` when present; with vLLM 0.19.1's kernels 0.19.1 left behind, vLLM's
#: own import fails with "ValueError: Either a revision or a version must be specified." (kernels'
#: LayerRepository). transformers 5.5.1 wheel: METADATA, transformers/integrations/hub_kernels.py.
IMPORTED_WHEN_INSTALLED: dict[str, frozenset[str]] = {
    "transformers": frozenset({"kernels"}),
}

# --- CUDA toolchain and kernels (issue: toolchain checks) ------------------------------------


@dataclass(frozen=True)
class GpuSpec:
    """A GPU as planning needs it. ``cuda_total_gib`` is what CUDA sees (NVML total minus reserved):
    vLLM budgets ``gpu_memory_utilization`` x this. ``measured`` False marks an estimate."""

    name: str
    compute_capability: tuple[int, int]
    cuda_total_gib: float
    measured: bool
    source: str


#: B200: 183,359 MiB in NVML (sglang#27487), 178.35 GiB to CUDA (pytorch/ao#4002); H200: 139.80 GiB,
#: measured on NVIDIA H200 (driver 580.159.04), 2026-11; H100 80GB: 79.18 GiB in vLLM logs (llm-d-benchmark).
#: GB200 and B300 totals are estimates, not measured (~184 GiB; B300 288 GB = ~268 GiB).
GPUS: dict[str, GpuSpec] = {
    spec.name: spec
    for spec in (
        GpuSpec("B200", (10, 0), 178.35, True, "https://github.com/pytorch/ao/pull/4002 (CUDA total)"),
        GpuSpec(
            "B300",
            (10, 3),
            268.0,
            False,
            "estimate: 288 GB HBM3e = ~268 GiB, "
            "https://developer.nvidia.com/blog/inside-nvidia-blackwell-ultra-the-chip-powering-the-ai-factory-era/",
        ),
        GpuSpec(
            "GB200",
            (10, 0),
            184.0,
            False,
            "estimate: ~184 GiB (HBM3e, ~186 GB class), https://www.nvidia.com/en-us/data-center/gb200-nvl72/",
        ),
        GpuSpec("H200", (9, 0), 139.80, True, "measured on NVIDIA H200 (driver 580.159.04), 2026-11"),
        GpuSpec(
            "H100",
            (9, 0),
            79.18,
            True,
            "vLLM logs in "
            "https://github.com/llm-d/llm-d-benchmark/blob/main/config_explorer/empirical-vllm-memory-results.md",
        ),
    )
}
GPU_COMPUTE_CAPABILITY: dict[str, tuple[int, int]] = {name: spec.compute_capability for name, spec in GPUS.items()}

#: Oldest nvcc DeepGEMM's JIT accepts per GPU major: README "CUDA 12.3+ for SM90, 12.9+ for
#: SM100" (sm_100f needs 12.9; 12.8 dies with "Unsupported gpu architecture 'sm_100f'").
#: vLLM 0.33's vendored copy refuses anything below 12.9 on every GPU.
#: DeepGEMM README, https://github.com/deepseek-ai/DeepGEMM/pull/173; vllm 0.33.0 wheel: vendored _C strings.
NVCC_FLOOR_BY_MAJOR: dict[int, Version] = {9: Version("12.3"), 10: Version("12.9")}
NVCC_FLOOR_VENDORED_033 = Version("12.9")
VLLM_NVCC_FLOOR_EVERYWHERE = Version("0.33.0")

#: torch must be built for CUDA 12.8+ to have sm_100 kernels (cu126 wheels stop at 9.0; pytorch/pytorch#182849).
TORCH_CUDA_FLOOR_BLACKWELL = Version("12.8")

#: vLLM vendors DeepGEMM under vllm/third_party/deep_gemm from 0.20.0 (PR vllm#37980); before
#: that an external deep_gemm is required (vllm#29943). 0.20.0 shipped its _C for CPython 3.12 only.
VLLM_FIRST_VENDORED_DEEPGEMM = Version("0.20.0")

#: The DeepGEMM functions GLM-5's sparse-attention indexer resolves, by vLLM generation. Read
#: from vllm/utils/deep_gemm.py when possible; these are the fallback. The vllm 0.16.0 wheel resolves
#: fp8_mqa_logits/fp8_paged_mqa_logits; 0.20.0 and 0.33.0 resolve fp8_fp4_mqa_logits and
#: fp8_fp4_paged_mqa_logits (the names "fp8_mqa_logits"/"fp8_paged_mqa_logits" hold for 0.16-0.19 only).
DEEPGEMM_KERNELS_BEFORE_020 = ("fp8_mqa_logits", "fp8_paged_mqa_logits")
DEEPGEMM_KERNELS_FROM_020 = ("fp8_fp4_mqa_logits", "fp8_fp4_paged_mqa_logits")

#: Headers DeepGEMM's kernels include from the single ``-I<deep_gemm>/include`` it passes to nvcc.
#: DeepGEMM setup.py copies them from its third-party/cutlass submodule.
DEEPGEMM_SENTINEL_HEADERS = ("cutlass/arch/barrier.h", "cute/arch/cluster_sm90.hpp")
DEEPGEMM_OWN_INCLUDE = "deep_gemm"

#: How vllm/utils/deep_gemm.py resolves the indexer kernels: ``getattr(_dg, "fp8_fp4_mqa_logits", None)``.
VLLM_DEEP_GEMM_LOOKUP = re.compile(r'getattr\(\s*_dg\s*,\s*"(fp8(?:_fp4)?_(?:paged_)?mqa_logits)"')

#: An entry of vLLM's lazy parser registries (tool_parsers/__init__.py, reasoning/__init__.py):
#: ``    "glm47": (``. GLM-5 uses the GLM-4.7 tool format and the GLM-4.5 reasoning format; both keys
#: exist from 0.16.0 (absent "glm47" means "invalid choice: 'glm47'"). vllm 0.15.1/0.16.0/0.33.0 wheels.
VLLM_REGISTRY_KEY = re.compile(r'^\s*"([\w.-]+)"\s*:\s*\(', re.MULTILINE)
GLM5_TOOL_PARSER = "glm47"
#: FlashMLA sparse accepts "fp8" as an alias of fp8_ds_mla from vLLM 0.18.0 ("fp8",  # alias):
#: vllm 0.18.0 wheel, vllm/v1/attention/backends/mla/flashmla_sparse.py.
VLLM_FP8_ALIAS = Version("0.18.0")
GLM5_REASONING_PARSER = "glm45"

#: vLLM's compiled extension, newest name first: ``_C_stable_libtorch.abi3.so`` (0.20+; the only
#: one in 0.33) and ``_C.abi3.so`` (<= 0.23). Its DT_NEEDED libcudart.so.N is the wheel's CUDA
#: major: .so.12 for 0.16-0.19, .so.13 from 0.20 (DT_NEEDED read in the vllm 0.16.0-0.23.0 and 0.33.0 wheels).
VLLM_C_EXTENSIONS = ("_C_stable_libtorch.abi3.so", "_C.abi3.so")

#: What vLLM prints when DeepGEMM is missing or too old (vllm 0.16.0 wheel: vllm/utils/deep_gemm.py ``_missing``).
DEEPGEMM_MISSING_ERROR = (
    "DeepGEMM backend is not available or outdated. Please install or update the `deep_gemm` "
    "to a newer version to enable FP8 kernels."
)

#: flashinfer's own refusal when its wheels disagree (vllm#49804, flashinfer#4781).
FLASHINFER_MISMATCH_ERROR = (
    "RuntimeError: {name} version ({have}) does not match flashinfer version ({want}). "
    "Please install the same version of both packages."
)


# --- GPUs, driver, memory (issue: GPU checks) --------------------------------------------------

#: Sparse-MLA attention backends exist for compute capability 9.x and 10.x only
#: (vllm 0.16.0 wheel: vllm/v1/attention/backends/mla/flashmla_sparse.py).
SPARSE_MLA_MAJORS = frozenset({9, 10})
#: The first release with a sparse-MLA backend for SM120/SM121 (FLASHINFER_MLA_SPARSE_SM120, vllm#43477):
#: vllm 0.23.0 wheel has none, vllm 0.24.0 wheel: vllm/v1/attention/backends/mla/flashinfer_mla_sparse.py.
VLLM_FIRST_SM120_SPARSE_MLA = Version("0.24.0")
SPARSE_MLA_ERROR = "No valid attention backend found for cuda with AttentionSelectorConfig(... use_sparse=True ...)"
VALIDATED_GPU = "B200"

#: HGX B200 driver floor (GPU Operator); CUDA 13 builds need the R580 branch (>= 580.65.06):
#: NVIDIA/cloud-native-docs#184, pytorch/pytorch#162531.
DRIVER_FLOOR_BLACKWELL = "570.133.20"
DRIVER_FLOOR_CUDA13 = "580.65.06"

#: NVML fabric states (nvmlGpuFabricState_t) and the CUDA error an unfinished fabric gives
#: (NVML docs, structnvmlGpuFabricInfo; NVIDIA/gpu-operator#2781).
FABRIC_STATES = {0: "NOT_SUPPORTED", 1: "NOT_STARTED", 2: "IN_PROGRESS", 3: "COMPLETED"}
FABRIC_NOT_READY_ERROR = "Error 802: system not yet initialized"

#: vLLM's refusal when other processes hold GPU memory. vllm 0.16.0 wheel: vllm/v1/worker/utils.py
FREE_MEMORY_ERROR = "Free memory on device cuda:N (A/B GiB) on startup is less than desired GPU memory utilization"

#: Clock-event reason bits worth a warning (nvmlClocksEventReason*): slowdowns, not idle/app clocks.
THROTTLE_BITS = {0x8: "HW slowdown", 0x20: "SW thermal", 0x40: "HW thermal", 0x80: "HW power brake"}
