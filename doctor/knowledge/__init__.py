"""What is known about GLM-5 on vLLM, each fact with where it comes from.

Checks take their thresholds from here, never from literals of their own, so a fact that
turns out wrong is fixed in one place. Sources are in ``../shared/reference/glm5-failure-modes.md``
(read from the published wheels) unless a line says otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version

#: The architecture name in GLM-5's config.json (all GLM-5, 5.1, 5.2 checkpoints).
GLM5_ARCHITECTURE = "GlmMoeDsaForCausalLM"
GLM5_MODEL_TYPE = "glm_moe_dsa"

#: First vLLM release whose registry has GLM-5 (0.15.1 has no entry). [wheel] vllm 0.15.1 vs 0.16.0
VLLM_FIRST_GLM5 = Version("0.16.0")

#: The registry line, in both known forms: module ``deepseek_v2`` for 0.16.0-0.28.0, the
#: package ``vllm.models.deepseek_v32`` from 0.29.0 (still in 0.33.0). A relative module name is
#: under ``vllm.model_executor.models``. [wheel] vllm 0.16.0 ... 0.33.0 registry.py
VLLM_REGISTRY_GLM5_LINE = re.compile(r'"GlmMoeDsaForCausalLM"\s*:\s*\(\s*"([\w.]+)"\s*,\s*"GlmMoeDsaForCausalLM"\s*\)')
VLLM_KNOWN_GLM5_MODULES = ("deepseek_v2", "vllm.models.deepseek_v32")

#: What ``vllm serve`` prints on a vLLM without the entry. [wheel] 0.16.0 registry.py
VLLM_UNSUPPORTED_ARCH_ERROR = (
    "Model architectures ['GlmMoeDsaForCausalLM'] are not supported for now. Supported architectures: ..."
)

#: First transformers release with model type ``glm_moe_dsa`` (huggingface/transformers#43858).
#: [wheel] transformers 5.1.0 lacks it, 5.2.0 has ``transformers/models/glm_moe_dsa/``.
TRANSFORMERS_FIRST_GLM5 = Version("5.2.0")
TRANSFORMERS_GLM5_CONFIG_FILE = "transformers/models/glm_moe_dsa/configuration_glm_moe_dsa.py"
TRANSFORMERS_AUTO_CONFIG_FILE = "transformers/models/auto/configuration_auto.py"
TRANSFORMERS_AUTO_MAPPING_LINE = '("glm_moe_dsa", "GlmMoeDsaConfig")'

#: The floor the GLM-5 recipe asks for on top of vLLM 0.16-0.18 (vllm-project/recipes GLM5.md).
TRANSFORMERS_RECIPE_FLOOR = Version("5.4.0")

#: First vLLM release checked whose transformers pin admits a transformers that knows GLM-5
#: (``!=5.0.*,...,!=5.5.0,>=4.56.0``, i.e. >=5.5.1). [wheel] vllm 0.19.1 METADATA
VLLM_FIRST_GLM5_TRANSFORMERS_PIN = Version("0.19.1")

#: What transformers < 5.2.0 raises on GLM-5's config. [wheel] configuration_auto.py 4.57.6/5.1.0
TRANSFORMERS_UNKNOWN_TYPE_ERROR = (
    "ValueError: The checkpoint you are trying to load has model type `glm_moe_dsa` "
    "but Transformers does not recognize this architecture."
)

#: Pythons vLLM supports when no vLLM is installed to ask: every release 0.16-0.19 says
#: ``>=3.10,<3.14``; 3.12 is the only one every release 0.16-0.33 accepts. [wheel] METADATA
FALLBACK_REQUIRES_PYTHON = SpecifierSet(">=3.10,<3.14")
RECOMMENDED_PYTHON = "3.12"

#: vLLM's own Requires-Dist names judged by dedicated checks rather than ``vllm.dependencies``.
DEPENDENCIES_JUDGED_ELSEWHERE = frozenset(
    {"transformers", "torch", "flashinfer-python", "flashinfer-cubin", "flashinfer-jit-cache"}
)

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


#: nvml-blackwell-memory.md B.1 (B200 183,359 MiB NVML / 178.35 GiB CUDA; H200 measured 139.80 GiB;
#: H100 80GB 79.18 GiB from vLLM logs). GB200 and B300 totals are leads (C.5: ~184 GiB, ~268 GiB).
GPUS: dict[str, GpuSpec] = {
    spec.name: spec
    for spec in (
        GpuSpec("B200", (10, 0), 178.35, True, "nvml-blackwell-memory.md B.1 (pytorch/ao#4002)"),
        GpuSpec("B300", (10, 3), 268.0, False, "nvml-blackwell-memory.md C.5 (lead: ~268 GiB)"),
        GpuSpec("GB200", (10, 0), 184.0, False, "nvml-blackwell-memory.md C.5 (lead: ~184 GiB)"),
        GpuSpec("H200", (9, 0), 139.80, True, "measured on an H200 (nvml-blackwell-memory.md B.1)"),
        GpuSpec("H100", (9, 0), 79.18, True, "nvml-blackwell-memory.md B.1 (llm-d-benchmark vLLM logs)"),
    )
}
GPU_COMPUTE_CAPABILITY: dict[str, tuple[int, int]] = {name: spec.compute_capability for name, spec in GPUS.items()}

#: Oldest nvcc DeepGEMM's JIT accepts per GPU major: README "CUDA 12.3+ for SM90, 12.9+ for
#: SM100" (sm_100f needs 12.9; 12.8 dies with "Unsupported gpu architecture 'sm_100f'").
#: vLLM 0.33's vendored copy refuses anything below 12.9 on every GPU. glm5-failure-modes.md DG-04.
NVCC_FLOOR_BY_MAJOR: dict[int, Version] = {9: Version("12.3"), 10: Version("12.9")}
NVCC_FLOOR_VENDORED_033 = Version("12.9")
VLLM_NVCC_FLOOR_EVERYWHERE = Version("0.33.0")

#: torch must be built for CUDA 12.8+ to have sm_100 kernels (cu126 wheels stop at 9.0). PKG-08
TORCH_CUDA_FLOOR_BLACKWELL = Version("12.8")

#: vLLM vendors DeepGEMM under vllm/third_party/deep_gemm from 0.20.0 (PR vllm#37980); before
#: that an external deep_gemm is required (DG-01). 0.20.0 shipped its _C for CPython 3.12 only.
VLLM_FIRST_VENDORED_DEEPGEMM = Version("0.20.0")

#: The DeepGEMM functions GLM-5's sparse-attention indexer resolves, by vLLM generation. Read
#: from vllm/utils/deep_gemm.py when possible; these are the fallback. [wheel] 0.16.0 resolves
#: fp8_mqa_logits/fp8_paged_mqa_logits; 0.20.0 and 0.33.0 resolve fp8_fp4_mqa_logits and
#: fp8_fp4_paged_mqa_logits (the reference's "fp8_mqa_logits" holds for 0.16-0.19 only).
DEEPGEMM_KERNELS_BEFORE_020 = ("fp8_mqa_logits", "fp8_paged_mqa_logits")
DEEPGEMM_KERNELS_FROM_020 = ("fp8_fp4_mqa_logits", "fp8_fp4_paged_mqa_logits")

#: Headers DeepGEMM's kernels include from the single ``-I<deep_gemm>/include`` it passes to nvcc.
#: DeepGEMM setup.py copies them from its third-party/cutlass submodule. DG-05
DEEPGEMM_SENTINEL_HEADERS = ("cutlass/arch/barrier.h", "cute/arch/cluster_sm90.hpp")
DEEPGEMM_OWN_INCLUDE = "deep_gemm"

#: How vllm/utils/deep_gemm.py resolves the indexer kernels: ``getattr(_dg, "fp8_fp4_mqa_logits", None)``.
VLLM_DEEP_GEMM_LOOKUP = re.compile(r'getattr\(\s*_dg\s*,\s*"(fp8(?:_fp4)?_(?:paged_)?mqa_logits)"')

#: An entry of vLLM's lazy parser registries (tool_parsers/__init__.py, reasoning/__init__.py):
#: ``    "glm47": (``. GLM-5 uses the GLM-4.7 tool format and the GLM-4.5 reasoning format; both keys
#: exist from 0.16.0 (absent "glm47" means "invalid choice: 'glm47'"). [wheel] 0.15.1/0.16.0/0.33.0. CFG-01
VLLM_REGISTRY_KEY = re.compile(r'^\s*"([\w.-]+)"\s*:\s*\(', re.MULTILINE)
GLM5_TOOL_PARSER = "glm47"
#: FlashMLA sparse accepts "fp8" as an alias of fp8_ds_mla from vLLM 0.18.0 ("fp8",  # alias). 1.5
VLLM_FP8_ALIAS = Version("0.18.0")
GLM5_REASONING_PARSER = "glm45"

#: vLLM's compiled extension, newest name first: ``_C_stable_libtorch.abi3.so`` (0.20+; the only
#: one in 0.33) and ``_C.abi3.so`` (<= 0.23). Its DT_NEEDED libcudart.so.N is the wheel's CUDA
#: major: .so.12 for 0.16-0.19, .so.13 from 0.20 (glm5-failure-modes.md 1.1 and PKG-07).
VLLM_C_EXTENSIONS = ("_C_stable_libtorch.abi3.so", "_C.abi3.so")

#: What vLLM prints when DeepGEMM is missing or too old (0.16 text). DG-01
DEEPGEMM_MISSING_ERROR = (
    "DeepGEMM backend is not available or outdated. Please install or update the `deep_gemm` "
    "to a newer version to enable FP8 kernels."
)

#: flashinfer's own refusal when its wheels disagree. PKG-06 (vllm#49804)
FLASHINFER_MISMATCH_ERROR = (
    "RuntimeError: {name} version ({have}) does not match flashinfer version ({want}). "
    "Please install the same version of both packages."
)


# --- GPUs, driver, memory (issue: GPU checks) --------------------------------------------------

#: Sparse-MLA attention backends exist for compute capability 9.x and 10.x only. ATTN-01
SPARSE_MLA_MAJORS = frozenset({9, 10})
SPARSE_MLA_ERROR = "No valid attention backend found for cuda with AttentionSelectorConfig(... use_sparse=True ...)"
VALIDATED_GPU = "B200"

#: HGX B200 driver floor (GPU Operator); CUDA 13 builds need the R580 branch (>= 580.65.06). DRV-01, PKG-07
DRIVER_FLOOR_BLACKWELL = "570.133.20"
DRIVER_FLOOR_CUDA13 = "580.65.06"

#: NVML fabric states (nvmlGpuFabricState_t) and the CUDA error an unfinished fabric gives. DRV-02
FABRIC_STATES = {0: "NOT_SUPPORTED", 1: "NOT_STARTED", 2: "IN_PROGRESS", 3: "COMPLETED"}
FABRIC_NOT_READY_ERROR = "Error 802: system not yet initialized"

#: vLLM's refusal when other processes hold GPU memory. MEM-01 [wheel] 0.16.0 vllm/v1/worker/utils.py
FREE_MEMORY_ERROR = "Free memory on device cuda:N (A/B GiB) on startup is less than desired GPU memory utilization"

#: Clock-event reason bits worth a warning (nvmlClocksEventReason*): slowdowns, not idle/app clocks.
THROTTLE_BITS = {0x8: "HW slowdown", 0x20: "SW thermal", 0x40: "HW thermal", 0x80: "HW power brake"}
