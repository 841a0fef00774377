"""The CUDA compiler DeepGEMM's JIT will run, and (with --deep) a real compile with it."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._fixes import cuda_floor
from glm5_doctor.checks._gpu import target_capability
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.compile import COMPILE, CompileFact
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.nvcc import NVCC, NvccFact
from glm5_doctor.probes.nvml import NVML
from glm5_doctor.probes.torch_build import TORCH_BUILD, TorchFact
from packaging.version import Version

LOOKED = "DG_JIT_NVCC_COMPILER, $CUDA_HOME, $CUDA_PATH, `which nvcc`, /usr/local/cuda"


@check(
    "cuda.nvcc",
    title="nvcc, where DeepGEMM looks for it, is new enough for the GPU",
    category="toolchain",
    facts=(NVCC, TORCH_BUILD, DISTRIBUTIONS, NVML),
    fix=Fix("install-cuda-toolkit.sh", environment=cuda_floor),
)
def cuda_nvcc(facts: Facts, profile: Profile) -> Outcome:
    """The nvcc DeepGEMM will actually run, its release, and cuobjdump beside it.

    What it checks:
        Resolves the CUDA home the way DeepGEMM does (``CUDA_HOME``, ``CUDA_PATH``, the folder
        above ``which nvcc``, ``/usr/local/cuda``; ``DG_JIT_NVCC_COMPILER`` overrides only the
        compiler), runs ``nvcc --version`` with a timeout, and requires 12.9+ for Blackwell
        (sm_100/sm_103) and 12.3+ for Hopper (12.9+ everywhere for vLLM 0.33's vendored copy),
        plus ``bin/cuobjdump`` in the same CUDA home. A CUDA major other than torch's is a warning.

    Why it matters:
        GLM-5's sparse-attention indexer JIT-compiles DeepGEMM kernels on the first forward pass,
        after the weights are loaded. No nvcc ends in ``assert cuda_home is not None``; CUDA 12.8
        on B200 in "nvcc fatal : Unsupported gpu architecture 'sm_100f'". An nvcc on PATH does not
        help when ``CUDA_HOME`` points elsewhere: DeepGEMM asks ``CUDA_HOME`` first.

    How to fix:
        Install a CUDA 12.9+ toolkit (13.x to match a CUDA 13 torch) and point ``CUDA_HOME`` at it:
        ``glm5-doctor fix cuda.nvcc``.

    Sources:
        - https://github.com/deepseek-ai/DeepGEMM/blob/v2.1.1.post3/deep_gemm/__init__.py (how CUDA is found)
        - https://github.com/vllm-project/vllm/blob/main/tools/install_deepgemm.sh (skips below CUDA 12.8)
        - vllm 0.33.0 wheel: vllm/third_party/deep_gemm/_C_extension.abi3.so (NVCC >= 12.9)
        - https://github.com/deepseek-ai/DeepGEMM (README: CUDA 12.3+ for SM90, 12.9+ for SM100)
        - https://github.com/deepseek-ai/DeepGEMM/pull/173
    """
    nvcc: NvccFact = facts[NVCC]
    evidence: dict[str, object] = {
        "nvcc": nvcc["nvcc"],
        "cuda_home": nvcc["cuda_home"],
        "cuda_home_from": nvcc["cuda_home_source"],
        "nvcc_on_path": nvcc["nvcc_on_path"],
        "release": nvcc["release"],
        "cuobjdump": nvcc["cuobjdump"],
    }
    if nvcc["nvcc"] is None:
        return Outcome.failed(
            f"no nvcc where DeepGEMM looks ({LOOKED}): its JIT cannot compile the indexer kernels", evidence
        )
    if not nvcc["nvcc_exists"]:
        where = "DG_JIT_NVCC_COMPILER" if nvcc["nvcc_override"] else f"{nvcc['cuda_home_source']}={nvcc['cuda_home']}"
        also = (
            f" (an nvcc is on PATH at {nvcc['nvcc_on_path']}, but DeepGEMM asks {where} first)"
            if nvcc["nvcc_on_path"]
            else ""
        )
        return Outcome.failed(f"DeepGEMM would run {nvcc['nvcc']}, which does not exist ({where}){also}", evidence)
    if nvcc["run_failed"]:
        # A release line from an nvcc that then exits non-zero (or hangs) is no working compiler.
        return Outcome.failed(f"{nvcc['nvcc']} does not work: {nvcc['run_error']}", evidence)
    if nvcc["release"] is None:
        return Outcome.errored(
            f"cannot read the release from '{nvcc['nvcc']} --version': {nvcc['run_error']}",
            {**evidence, "output": nvcc["version_output"]},
        )
    release = parse_version(nvcc["release"])
    assert release is not None
    floor, why = _floor(facts, profile)
    evidence["required"] = str(floor) if floor else None
    if floor is not None and release < floor:
        return Outcome.failed(f"DeepGEMM would use nvcc {release} ({nvcc['nvcc']}); {why} needs {floor}+", evidence)
    if not nvcc["cuobjdump_exists"]:
        return Outcome.failed(
            f"nvcc {release} found via {nvcc['cuda_home_source']}, but DeepGEMM also runs {nvcc['cuobjdump']}, which "
            f"does not exist: CUDA_HOME={nvcc['cuda_home']} is not a full toolkit; point CUDA_HOME at one",
            evidence,
        )
    torch: TorchFact = facts[TORCH_BUILD]
    torch_cuda = parse_version(torch["cuda"])
    message = (
        f"DeepGEMM will use nvcc {release} at {nvcc['nvcc']} (via {nvcc['cuda_home_source']}), cuobjdump beside it"
    )
    if torch_cuda is not None and torch_cuda.major != release.major:
        return Outcome.warned(f"{message}; but torch is a CUDA {torch_cuda} build: match the majors", evidence)
    return Outcome.passed(message, evidence)


def _floor(facts: Facts, profile: Profile) -> tuple[Version | None, str]:
    vllm = distribution(facts, "vllm")
    vllm_version = parse_version(vllm["version"]) if vllm else None
    if vllm_version is not None and vllm_version >= knowledge.VLLM_NVCC_FLOOR_EVERYWHERE:
        return knowledge.NVCC_FLOOR_VENDORED_033, f"vLLM {vllm_version}'s DeepGEMM"
    capability, gpu_name = target_capability(facts, profile)
    if capability is None:
        return None, ""
    floor = knowledge.NVCC_FLOOR_BY_MAJOR.get(capability[0])
    return floor, f"{gpu_name} (sm_{capability[0]}{capability[1]})"


@check(
    "cuda.compile-probe",
    title="A CUTLASS/CuTe kernel really compiles (run --deep)",
    category="toolchain",
    facts=(COMPILE,),
    fix=Fix("install-cuda-toolkit.sh", environment=cuda_floor),
    timeout_s=200.0,
)
def cuda_compile_probe(facts: Facts, profile: Profile) -> Outcome:
    """Proof, not inference: compile a tiny kernel the way DeepGEMM's JIT will.

    What it checks:
        With ``glm5-doctor run --deep``: in a temporary directory, the nvcc DeepGEMM would use
        compiles a kernel that includes ``cutlass/arch/barrier.h`` and ``cute/arch/cluster_sm90.hpp``
        from the include tree of the DeepGEMM copy vLLM will import, with ``-std=c++20`` and the
        target GPU's arch flag (``sm_100a`` for B200, ``sm_90a`` for H100/H200), to a cubin.
        Without ``--deep`` it is skipped.

    Why it matters:
        Every static check can pass while the real compile still fails: a host compiler too old
        for C++20, headers from a mismatched CUTLASS, an nvcc that cannot target the GPU. This is
        the same compile that would otherwise fail minutes into ``vllm serve``.

    How to fix:
        Read the first compiler error in the result: missing headers point to
        ``deepgemm.cutlass-headers``, arch errors to ``cuda.nvcc``. ``glm5-doctor fix cuda.compile-probe``.

    Sources:
        - https://github.com/deepseek-ai/DeepGEMM/blob/main/csrc/utils/exception.hpp (error format)
        - https://github.com/deepseek-ai/DeepGEMM/pull/173 (nvcc failure output)
        - https://github.com/deepseek-ai/DeepGEMM#readme (JIT environment variables, DG_JIT_CPP_STANDARD)
        - https://github.com/deepseek-ai/DeepGEMM/blob/main/csrc/jit/compiler.hpp
    """
    compiled: CompileFact = facts[COMPILE]
    evidence: dict[str, object] = {
        "nvcc": compiled["nvcc"],
        "arch": compiled["arch"],
        "include_dir": compiled["include_dir"],
        "duration_ms": compiled["duration_ms"],
        "command": " ".join(compiled["command"]) or None,
    }
    if not compiled["ran"]:
        return Outcome.skipped(f"compile probe not run: {compiled['reason']}", evidence)
    if compiled["returncode"] == 0 and compiled["produced_object"]:
        return Outcome.passed(
            f"nvcc compiled a CUTLASS/CuTe kernel for {compiled['arch']} against {compiled['include_dir']} "
            f"in {compiled['duration_ms']} ms",
            evidence,
        )
    outcome = Outcome.failed(
        f"nvcc could not compile a CUTLASS/CuTe kernel for {compiled['arch']}: {compiled['first_error']}", evidence
    )
    return Outcome(outcome.status, outcome.message, outcome.evidence, details=compiled["output"])
