"""cuda.*: the nvcc DeepGEMM will run (found its way, new enough for the GPU), and the --deep compile."""

from __future__ import annotations

from typing import Any

import pytest
from glm5_doctor.checks.cuda import cuda_compile_probe, cuda_nvcc
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.compile import COMPILE
from glm5_doctor.probes.distributions import DISTRIBUTIONS, DistributionFact
from glm5_doctor.probes.nvcc import NVCC, NvccFact
from glm5_doctor.probes.nvml import NVML, NvmlFact
from glm5_doctor.probes.torch_build import TORCH_BUILD

from unit.facts import (
    compile_fact,
    device,
    dist,
    distributions,
    facts,
    nvcc_fact,
    nvml_fact,
    nvml_failed,
    profile,
    real_nvml,
    real_run,
    torch_build,
)

H200 = nvml_fact([device(0, "NVIDIA H200", (9, 0))])


def nvcc(
    fact: NvccFact,
    *dists: DistributionFact,
    torch_cuda: str | None = "12.9",
    nvml: NvmlFact | None = None,
    deployment: Profile | None = None,
) -> Outcome:
    values: dict[Any, Any] = {
        NVCC: fact,
        TORCH_BUILD: torch_build(cuda=torch_cuda),
        DISTRIBUTIONS: distributions(*dists),
        NVML: nvml if nvml is not None else nvml_failed("library_not_found"),
    }
    return cuda_nvcc(facts(values), deployment or profile())


# --- cuda.nvcc -------------------------------------------------------------------------------------


def test_a_new_enough_nvcc_with_cuobjdump_passes() -> None:
    outcome = nvcc(nvcc_fact("12.9"))
    assert outcome.status is Status.PASS
    assert outcome.message == (
        "DeepGEMM will use nvcc 12.9 at /usr/local/cuda/bin/nvcc (via CUDA_HOME), cuobjdump beside it"
    )
    assert outcome.evidence["required"] == "12.9"


def test_no_nvcc_anywhere_fails() -> None:
    outcome = nvcc(nvcc_fact(None, cuda_home=None, cuda_home_source=None, nvcc=None, nvcc_exists=False))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("no nvcc where DeepGEMM looks (DG_JIT_NVCC_COMPILER, $CUDA_HOME")


def test_cuda_home_without_nvcc_names_the_one_on_path() -> None:
    fact = nvcc_fact(None, cuda_home="/opt/cuda-empty", nvcc="/opt/cuda-empty/bin/nvcc", nvcc_exists=False)
    fact["nvcc_on_path"] = "/usr/bin/nvcc"
    outcome = nvcc(fact)
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "DeepGEMM would run /opt/cuda-empty/bin/nvcc, which does not exist (CUDA_HOME=/opt/cuda-empty) "
        "(an nvcc is on PATH at /usr/bin/nvcc, but DeepGEMM asks CUDA_HOME=/opt/cuda-empty first)"
    )


def test_a_missing_override_compiler_is_named() -> None:
    fact = nvcc_fact(None, nvcc_override="/opt/nvcc", nvcc="/opt/nvcc", nvcc_exists=False, nvcc_on_path=None)
    outcome = nvcc(fact)
    assert outcome.status is Status.FAIL
    assert outcome.message == "DeepGEMM would run /opt/nvcc, which does not exist (DG_JIT_NVCC_COMPILER)"


def test_an_nvcc_that_does_not_run_fails() -> None:
    outcome = nvcc(nvcc_fact(None, run_failed=True, run_error="cannot run /usr/local/cuda/bin/nvcc: Exec format error"))
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "/usr/local/cuda/bin/nvcc does not work: cannot run /usr/local/cuda/bin/nvcc: Exec format error"
    )


def test_an_nvcc_without_a_release_line_is_an_error() -> None:
    fact = nvcc_fact(None, run_error="nvcc --version printed no 'release X.Y' line", version_output="hello")
    outcome = nvcc(fact)
    assert outcome.status is Status.ERROR
    assert outcome.message.startswith("cannot read the release from '/usr/local/cuda/bin/nvcc --version'")
    assert outcome.evidence["output"] == "hello"


def test_nvcc_128_is_too_old_for_the_profiles_b200() -> None:
    outcome = nvcc(nvcc_fact("12.8"))
    assert outcome.status is Status.FAIL
    assert outcome.message == "DeepGEMM would use nvcc 12.8 (/usr/local/cuda/bin/nvcc); B200 (sm_100) needs 12.9+"


def test_hopper_needs_only_123() -> None:
    assert nvcc(nvcc_fact("12.3"), nvml=H200).status is Status.PASS
    outcome = nvcc(nvcc_fact("12.2"), nvml=H200)
    assert outcome.status is Status.FAIL
    assert outcome.message.endswith("; NVIDIA H200 (detected) (sm_90) needs 12.3+")


def test_vllm_033_needs_129_on_every_gpu() -> None:
    outcome = nvcc(nvcc_fact("12.8"), dist("vllm", "0.33.0"), nvml=H200)
    assert outcome.status is Status.FAIL
    assert outcome.message.endswith("; vLLM 0.33.0's DeepGEMM needs 12.9+")


def test_vllm_before_033_follows_the_gpu() -> None:
    assert nvcc(nvcc_fact("12.8"), dist("vllm", "0.32.1"), nvml=H200).status is Status.PASS


def test_an_unknown_gpu_has_no_floor() -> None:
    outcome = nvcc(nvcc_fact("11.8"), torch_cuda=None, deployment=profile(gpu="A100"))
    assert outcome.status is Status.PASS
    assert outcome.evidence["required"] is None


def test_a_cuda_home_without_cuobjdump_fails() -> None:
    outcome = nvcc(nvcc_fact("12.9", cuobjdump_exists=False))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        "nvcc 12.9 found via CUDA_HOME, but DeepGEMM also runs /usr/local/cuda/bin/cuobjdump, which does not exist"
    )


def test_another_cuda_major_than_torch_warns() -> None:
    outcome = nvcc(nvcc_fact("13.0"), torch_cuda="12.9")
    assert outcome.status is Status.WARN
    assert outcome.message.endswith("cuobjdump beside it; but torch is a CUDA 12.9 build: match the majors")


def test_the_same_major_with_another_minor_passes() -> None:
    assert nvcc(nvcc_fact("13.0"), torch_cuda="13.1").status is Status.PASS


# --- cuda.compile-probe ----------------------------------------------------------------------------


def test_compile_probe_not_asked_for_is_skipped() -> None:
    fact = compile_fact(ran=False, reason="not asked for (run with --deep)", command=[], returncode=None)
    outcome = cuda_compile_probe(facts({COMPILE: fact}), profile())
    assert outcome.status is Status.SKIP
    assert outcome.message == "compile probe not run: not asked for (run with --deep)"
    assert outcome.evidence["command"] is None


def test_a_kernel_that_compiles_passes() -> None:
    outcome = cuda_compile_probe(facts({COMPILE: compile_fact()}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message.startswith("nvcc compiled a CUTLASS/CuTe kernel for sm_100a against")
    assert outcome.message.endswith("in 2300 ms")


@pytest.mark.parametrize(("returncode", "produced"), [(1, False), (0, False), (1, True)])
def test_a_failed_compile_fails_with_the_first_error(returncode: int, produced: bool) -> None:
    fact = compile_fact(
        returncode=returncode,
        produced_object=produced,
        first_error="fatal error: cutlass/arch/barrier.h: No such file or directory",
        output="probe.cu(2): fatal error: cutlass/arch/barrier.h: No such file or directory",
    )
    outcome = cuda_compile_probe(facts({COMPILE: fact}), profile())
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "nvcc could not compile a CUTLASS/CuTe kernel for sm_100a: "
        "fatal error: cutlass/arch/barrier.h: No such file or directory"
    )
    assert outcome.details == "probe.cu(2): fatal error: cutlass/arch/barrier.h: No such file or directory"


def test_the_real_h200_machine() -> None:
    """nvcc 13.0 at /usr/local/cuda via CUDA_HOME, torch cu130 (toolchain.txt), the real NVML fact."""
    real = real_run("h200-gvisor", "run.json")["cuda.nvcc"]
    outcome = nvcc(nvcc_fact("13.0"), torch_cuda="13.0", nvml=real_nvml("h200-gvisor"))
    assert (outcome.status.value, outcome.message) == (real["status"], real["message"])
    assert outcome.evidence["required"] == "12.3"


def test_the_detected_gpu_named_is_the_one_with_the_lowest_capability() -> None:
    mixed = nvml_fact([device(0, "NVIDIA H200", (9, 0)), device(1, "NVIDIA B200", (10, 0))])
    outcome = nvcc(nvcc_fact("12.2"), nvml=mixed)
    assert outcome.status is Status.FAIL
    assert outcome.message.endswith("; NVIDIA H200 (detected) (sm_90) needs 12.3+")


def test_the_lowest_capability_gpu_is_named_even_when_it_is_not_first() -> None:
    mixed = nvml_fact([device(0, "NVIDIA B200", (10, 0)), device(1, "NVIDIA H200", (9, 0))])
    outcome = nvcc(nvcc_fact("12.2"), nvml=mixed)
    assert outcome.message.endswith("; NVIDIA H200 (detected) (sm_90) needs 12.3+")
