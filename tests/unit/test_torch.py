"""torch.cuda-build: a CUDA build, new enough for the target GPU (NVML's or the profile's), at vLLM's pin."""

from __future__ import annotations

from typing import Any

import pytest
from glm5_doctor.checks.torch import torch_cuda_build
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS, DistributionFact
from glm5_doctor.probes.nvml import NVML, NvmlFact
from glm5_doctor.probes.torch_build import TORCH_BUILD, TorchFact

from unit.facts import (
    device,
    dist,
    distributions,
    facts,
    nvml_fact,
    nvml_failed,
    profile,
    real_nvml,
    real_run,
    torch_build,
)

VLLM_0191 = dist("vllm", "0.19.1", requires=["torch==2.10.0", "numpy"])


def judge(
    torch: TorchFact,
    *dists: DistributionFact,
    nvml: NvmlFact | None = None,
    deployment: Profile | None = None,
) -> Outcome:
    values: dict[Any, Any] = {TORCH_BUILD: torch, DISTRIBUTIONS: distributions(*dists)}
    values[NVML] = nvml if nvml is not None else nvml_failed("library_not_found")
    return torch_cuda_build(facts(values), deployment or profile())


def test_the_pinned_cuda_build_passes() -> None:
    outcome = judge(torch_build("2.10.0+cu129", "12.9"), VLLM_0191, dist("torch", "2.10.0+cu129"))
    assert outcome.status is Status.PASS
    assert outcome.message == "torch 2.10.0+cu129, a CUDA 12.9 build, as vLLM 0.19.1 pins"
    assert outcome.evidence["vllm_pin"] == "==2.10.0"


def test_without_vllm_only_the_build_is_judged() -> None:
    outcome = judge(torch_build("2.11.0+cu130", "13.0"))
    assert outcome.status is Status.PASS
    assert outcome.message == "torch 2.11.0+cu130, a CUDA 13.0 build"


def test_not_installed_names_vllms_pin() -> None:
    outcome = judge(torch_build(None, None, package_dir=None, version_file=None), VLLM_0191)
    assert outcome.status is Status.FAIL
    assert outcome.message == "torch is not installed: vLLM 0.19.1 pins torch==2.10.0"


def test_not_installed_without_vllm() -> None:
    outcome = judge(torch_build(None, None, package_dir=None), dist("vllm", "0.19.1"))
    assert outcome.status is Status.FAIL
    assert outcome.message == "torch is not installed"


def test_version_from_metadata_when_version_py_has_none() -> None:
    outcome = judge(torch_build(None, None, error="torch/version.py has no __version__ line"), dist("torch", "2.9.1"))
    assert outcome.status is Status.ERROR
    assert outcome.message == "torch/version.py has no __version__ line"
    assert outcome.evidence["version"] == "2.9.1"


def test_a_rocm_build_fails() -> None:
    outcome = judge(torch_build("2.9.1+rocm6.4", None, hip="6.4.43482"))
    assert outcome.status is Status.FAIL
    assert outcome.message == "torch 2.9.1+rocm6.4 is a ROCm build (HIP 6.4.43482): GLM-5 on vLLM needs CUDA"


def test_a_cpu_build_fails() -> None:
    outcome = judge(torch_build("2.10.0+cpu", None))
    assert outcome.status is Status.FAIL
    assert outcome.message == "torch 2.10.0+cpu is a CPU-only build: vLLM needs a CUDA build"


def test_cu126_on_the_profiles_b200_fails() -> None:
    outcome = judge(torch_build("2.10.0+cu126", "12.6"))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        'torch 2.10.0+cu126 is built for CUDA 12.6, which has no sm_100 kernels for B200: "no kernel image is available'
    )
    assert outcome.message.endswith("install a CUDA 12.8+ build")


def test_cu128_is_enough_for_blackwell() -> None:
    assert judge(torch_build("2.10.0+cu128", "12.8")).status is Status.PASS


def test_the_detected_gpu_wins_over_the_profiles() -> None:
    """On an H200 node a cu126 torch is fine although the profile says B200."""
    h200 = nvml_fact([device(0, "NVIDIA H200", (9, 0))])
    assert judge(torch_build("2.10.0+cu126", "12.6"), nvml=h200).status is Status.PASS


def test_the_detected_blackwell_gpu_is_named() -> None:
    b300 = nvml_fact([device(0, "NVIDIA B300", (10, 3))])
    outcome = judge(torch_build("2.10.0+cu126", "12.6"), nvml=b300, deployment=profile(gpu="H100"))
    assert outcome.status is Status.FAIL
    assert "no sm_103 kernels for NVIDIA B300 (detected)" in outcome.message


def test_a_planned_gpu_is_judged_even_on_other_hardware() -> None:
    """--gpu B200 (detect_gpu False): plan for B200 on an H200 machine."""
    h200 = nvml_fact([device(0, "NVIDIA H200", (9, 0))])
    outcome = judge(torch_build("2.10.0+cu126", "12.6"), nvml=h200, deployment=profile(detect_gpu=False))
    assert outcome.status is Status.FAIL
    assert "kernels for B200:" in outcome.message


@pytest.mark.parametrize(
    "nvml",
    [
        nvml_fact([device(0, "NVIDIA B200", None)]),  # NVML gave no compute capability
        nvml_fact([device(0)], cuda_visible_devices=""),  # no GPU visible to CUDA
        nvml_failed("driver_not_loaded"),
    ],
)
def test_without_a_usable_detection_the_profile_gpu_counts(nvml: NvmlFact) -> None:
    outcome = judge(torch_build("2.10.0+cu126", "12.6"), nvml=nvml, deployment=profile(gpu="h200"))
    assert outcome.status is Status.PASS


def test_an_unknown_profile_gpu_has_no_floor() -> None:
    assert judge(torch_build("2.10.0+cu118", "11.8"), deployment=profile(gpu="A100")).status is Status.PASS


def test_the_smallest_detected_capability_decides() -> None:
    mixed = nvml_fact([device(0, "NVIDIA B200", (10, 0)), device(1, "NVIDIA H100", (9, 0))])
    assert judge(torch_build("2.10.0+cu126", "12.6"), nvml=mixed).status is Status.PASS


def test_a_torch_other_than_vllms_pin_fails() -> None:
    outcome = judge(torch_build("2.9.1+cu129", "12.9"), VLLM_0191)
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "torch 2.9.1+cu129 is not what vLLM 0.19.1 pins (torch==2.10.0): its compiled ops will not load"
    )


def test_the_real_h200_machine() -> None:
    """torch 2.11.0+cu130 (toolchain.txt) and the real NVML fact: the verdict the real run gave."""
    real = real_run("h200-gvisor", "run.json")["torch.cuda-build"]
    outcome = judge(torch_build("2.11.0+cu130", "13.0"), nvml=real_nvml("h200-gvisor"))
    assert (outcome.status.value, outcome.message) == (real["status"], real["message"])


def test_a_torch_pin_behind_a_platform_marker_still_counts() -> None:
    vllm = dist("vllm", "0.19.1", requires=['torch==2.10.0; platform_system == "Linux"'])
    outcome = judge(torch_build("2.9.1+cu129", "12.9"), vllm)
    assert outcome.status is Status.FAIL
    assert outcome.evidence["vllm_pin"] == "==2.10.0"


def test_a_vllm_without_a_torch_pin_is_not_named() -> None:
    outcome = judge(torch_build("2.11.0+cu130", "13.0"), dist("vllm", "0.19.1", requires=["numpy"]))
    assert outcome.status is Status.PASS
    assert outcome.message == "torch 2.11.0+cu130, a CUDA 13.0 build"
