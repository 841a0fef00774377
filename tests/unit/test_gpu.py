"""gpu.* (gpu.py, gpu_health.py, gpu_memory.py): driver, count, architecture, fabric, P2P, health, memory.

The real captures come first: the NVML facts of the real H200 machines (facts-nvml.json, made by
scripts/capture_facts.py from their recorded NVML answers) must get the verdicts, word for word,
that the doctor gave on those machines.
"""

from __future__ import annotations

from typing import Any

import pytest
from glm5_doctor.checks.gpu import gpu_architecture, gpu_count, gpu_driver, gpu_fabric, gpu_p2p
from glm5_doctor.checks.gpu_health import gpu_ecc, gpu_mig, gpu_persistence, gpu_throttle
from glm5_doctor.checks.gpu_memory import gpu_free_memory, gpu_vram
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Check
from glm5_doctor.engine.registry import load_registry
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.model_files import MODEL_FILES, ModelFilesFact
from glm5_doctor.probes.nvml import NVML, NvmlFact
from glm5_doctor.probes.torch_build import TORCH_BUILD, TorchFact
from glm5_doctor.probes.vllm_files import VLLM_FILES, VllmFilesFact

from unit.facts import (
    GIB,
    device,
    dist,
    distributions,
    facts,
    gpus,
    model_files,
    nvml_fact,
    nvml_failed,
    p2p_matrix,
    profile,
    real_nvml,
    real_run,
    real_vllm_files,
    torch_build,
    vllm_files,
)

NO_VLLM = vllm_files(
    package_dir=None,
    registry_path=None,
    registry_state=None,
    glm5_module=None,
    glm5_module_file=None,
    glm5_module_file_exists=None,
    c_extension=None,
    c_extension_needed=None,
    deep_gemm_kernel_names=None,
    tool_parsers=None,
    reasoning_parsers=None,
)
#: torch on the real H200 machines (toolchain.txt: torch 2.11.0+cu130's version.py)
REAL_TORCH = torch_build("2.11.0+cu130", "13.0")
GPU_CHECKS = [item for item in load_registry(autoload_plugins=False).checks if item.area == "gpu"]


def judge(
    check: Check,
    nvml: NvmlFact,
    deployment: Profile | None = None,
    *,
    torch: TorchFact | None = None,
    files: VllmFilesFact | None = None,
    vllm: str | None = None,
    model: ModelFilesFact | None = None,
) -> Outcome:
    """Every fact a gpu.* check may declare; each check reads only its own."""
    values: dict[Any, Any] = {
        NVML: nvml,
        TORCH_BUILD: torch or torch_build(),
        VLLM_FILES: files or NO_VLLM,
        DISTRIBUTIONS: distributions(*([dist("vllm", vllm)] if vllm else [])),
        MODEL_FILES: model or model_files(on_disk=False),
    }
    return check(facts(values), deployment or profile())


# --- the real H200 machines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("machine", "report", "deployment"),
    [
        ("h200-gvisor", "run.json", profile()),
        ("h200x2-gvisor", "run-tp2.json", profile(tensor_parallel_size=2)),
    ],
    ids=["1xH200-TP8", "2xH200-TP2"],
)
def test_real_nvml_facts_get_the_real_verdicts(machine: str, report: str, deployment: Profile) -> None:
    real = real_run(machine, report)
    nvml = real_nvml(machine)
    judged_then = [check for check in GPU_CHECKS if check.id in real]  # checks added since read other facts
    assert len(judged_then) == 11
    for check in judged_then:
        outcome = judge(check, nvml, deployment, torch=REAL_TORCH)
        assert (check.id, outcome.status.value) == (check.id, real[check.id]["status"])
        assert outcome.message == real[check.id]["message"], check.id


def test_real_single_h200_verdicts() -> None:
    nvml = real_nvml("h200-gvisor")
    assert judge(gpu_count, nvml).status is Status.FAIL
    assert judge(gpu_architecture, nvml).status is Status.WARN
    assert judge(gpu_fabric, nvml).status is Status.SKIP
    assert judge(gpu_p2p, nvml).status is Status.SKIP
    vram = judge(gpu_vram, nvml)
    assert vram.status is Status.PASS
    assert vram.evidence["kv_tokens"] == 312_206
    assert vram.evidence["gpu_total_gib"] == 139.8


def test_real_two_h200_verdicts_at_tp2() -> None:
    nvml, tp2 = real_nvml("h200x2-gvisor"), profile(tensor_parallel_size=2)
    assert judge(gpu_count, nvml, tp2).message == "2 x NVIDIA H200 for TP 2 x PP 1"
    assert judge(gpu_fabric, nvml, tp2).evidence == {
        "GPU 0 (NVIDIA H200)": "COMPLETED",
        "GPU 1 (NVIDIA H200)": "COMPLETED",
    }
    assert judge(gpu_p2p, nvml, tp2).evidence == {"pairs": 2, "broken": [], "unanswered": [], "nvlink_pairs": 2}
    vram = judge(gpu_vram, nvml, tp2)
    assert vram.status is Status.FAIL
    assert vram.evidence["weights_gib_per_gpu"] == 348.5


def test_real_two_h200_hold_glm5_fp8_nowhere_near_tp8_but_fit_a_planned_tp8_node() -> None:
    """The same GPUs at TP 8: two are visible, so the count fails; per GPU the FP8 weights fit."""
    nvml = real_nvml("h200x2-gvisor")
    assert judge(gpu_count, nvml).message == "2 GPU(s) visible, but TP 8 x PP 1 needs 8"
    assert judge(gpu_vram, nvml).status is Status.PASS


# --- gpu.driver ------------------------------------------------------------------------------------


def test_driver_answers_and_meets_every_floor() -> None:
    outcome = judge(gpu_driver, nvml_fact(), torch=torch_build("2.11.0+cu130", "13.0"))
    assert outcome.status is Status.PASS
    assert outcome.message == "driver 580.95.05 (CUDA 13.0), 8 GPU(s) answer NVML in 120 ms"
    assert outcome.evidence["torch_cuda"] == "13.0"


def test_driver_without_a_cuda_version_says_nothing_about_it() -> None:
    outcome = judge(gpu_driver, nvml_fact(cuda_driver_version=None))
    assert outcome.status is Status.PASS
    assert outcome.message == "driver 580.95.05, 8 GPU(s) answer NVML in 120 ms"
    assert "torch_cuda" not in outcome.evidence


def test_hung_nvml_fails_naming_the_call() -> None:
    nvml = nvml_failed("hung", "NVML did not answer within 15 s", hung_at="device 3: memory")
    outcome = judge(gpu_driver, nvml)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("NVML hung in 'device 3: memory': NVML did not answer within 15 s; the GPU")


def test_nvml_py_missing_is_an_error() -> None:
    outcome = judge(gpu_driver, nvml_failed("nvml_py_missing"))
    assert outcome.status is Status.ERROR
    assert outcome.message == "nvidia-ml-py is missing from the doctor's own environment"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("library_not_found", "libnvidia-ml.so.1 was not found"),
        ("driver_not_loaded", "the NVIDIA kernel driver is not loaded"),
        ("driver_library_mismatch", "Driver/library version mismatch"),
        ("no_permission", "NVML has no permission"),
        ("error", "NVML failed: the NVML survey stopped early: Segmentation fault"),
    ],
)
def test_nvml_failures_fail_with_their_explanation(status: str, words: str) -> None:
    outcome = judge(gpu_driver, nvml_failed(status, "the NVML survey stopped early: Segmentation fault"))
    assert outcome.status is Status.FAIL
    assert words in outcome.message


def test_blackwell_needs_the_r570_floor() -> None:
    outcome = judge(gpu_driver, nvml_fact(driver_version="570.124.06", cuda_driver_version=12080))
    assert outcome.status is Status.FAIL
    assert outcome.message == "driver 570.124.06 is older than 570.133.20, which Blackwell GPUs (HGX B200) need"


def test_blackwell_at_the_r570_floor_passes() -> None:
    outcome = judge(
        gpu_driver, nvml_fact(driver_version="570.133.20", cuda_driver_version=12080), torch=torch_build(cuda="12.8")
    )
    assert outcome.status is Status.PASS


def test_hopper_has_no_r570_floor() -> None:
    h100 = nvml_fact(gpus(8, "NVIDIA H100 80GB HBM3", (9, 0)), driver_version="550.54.15", cuda_driver_version=12040)
    assert judge(gpu_driver, h100, torch=torch_build(cuda=None)).status is Status.PASS


def test_a_cuda13_vllm_needs_r580() -> None:
    files = vllm_files(c_extension_needed=["libcudart.so.13"])
    nvml = nvml_fact(driver_version="575.57.08", cuda_driver_version=12090)
    outcome = judge(gpu_driver, nvml, files=files, torch=torch_build(cuda=None))
    assert outcome.status is Status.FAIL
    assert outcome.message == "driver 575.57.08 is older than 580.65.06, which vLLM's kernels (CUDA 13) need"


def test_a_cuda13_torch_needs_r580() -> None:
    nvml = nvml_fact(driver_version="575.57.08", cuda_driver_version=12090)
    outcome = judge(gpu_driver, nvml, torch=torch_build(cuda="13.0"))
    assert outcome.status is Status.FAIL
    assert outcome.message == "driver 575.57.08 is older than 580.65.06, which torch (CUDA 13.0) (CUDA 13) need"


def test_r580_at_its_floor_runs_cuda13() -> None:
    nvml = nvml_fact(driver_version="580.65.06")
    assert judge(gpu_driver, nvml, torch=torch_build(cuda="13.0")).status is Status.PASS


def test_an_unparseable_driver_version_skips_the_floors() -> None:
    nvml = nvml_fact(driver_version="570.beta", cuda_driver_version=None)
    assert judge(gpu_driver, nvml, torch=torch_build(cuda="13.0")).status is Status.PASS


def test_a_driver_older_than_torchs_cuda_major_fails() -> None:
    nvml = nvml_fact(gpus(8, "NVIDIA H200", (9, 0)), driver_version="560.35.03", cuda_driver_version=12060)
    outcome = judge(gpu_driver, nvml, torch=torch_build(cuda="13.0"))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("driver 560.35.03 is older than 580.65.06")
    nvml = nvml_fact(gpus(8, "NVIDIA H200", (9, 0)), driver_version="590.1", cuda_driver_version=12060)
    outcome = judge(gpu_driver, nvml, torch=torch_build(cuda="13.0"))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("the driver supports CUDA 12.6 but torch is a CUDA 13.0 build")


def test_a_driver_older_than_torchs_cuda_minor_warns() -> None:
    outcome = judge(gpu_driver, nvml_fact(cuda_driver_version=12080), torch=torch_build(cuda="12.9"))
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("the driver supports CUDA 12.8, older than torch's CUDA 12.9")


def test_a_driver_newer_than_torchs_cuda_passes() -> None:
    outcome = judge(gpu_driver, nvml_fact(cuda_driver_version=13010), torch=torch_build(cuda="12.9"))
    assert outcome.status is Status.PASS
    assert "(CUDA 13.1)" in outcome.message


# --- gpu.count -------------------------------------------------------------------------------------


def test_count_exactly_tp_passes() -> None:
    outcome = judge(gpu_count, nvml_fact())
    assert outcome.status is Status.PASS
    assert outcome.message == "8 x NVIDIA B200 for TP 8 x PP 1"


def test_count_names_extra_gpus() -> None:
    outcome = judge(gpu_count, nvml_fact(gpus(8)), profile(tensor_parallel_size=4))
    assert outcome.status is Status.PASS
    assert outcome.message == "4 x NVIDIA B200 for TP 4 x PP 1 (4 more visible)"


def test_count_tp_times_pp() -> None:
    outcome = judge(gpu_count, nvml_fact(gpus(8)), profile(tensor_parallel_size=4, pipeline_parallel_size=4))
    assert outcome.status is Status.FAIL
    assert outcome.message == "8 GPU(s) visible, but TP 4 x PP 4 needs 16"
    assert outcome.evidence["needed"] == 16


def test_count_with_too_few_visible_names_the_bad_entry() -> None:
    outcome = judge(gpu_count, nvml_fact(cuda_visible_devices="0,1,2,3,9,4"))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("4 GPU(s) visible, but TP 8 x PP 1 needs 8; CUDA_VISIBLE_DEVICES entry '9'")
    assert outcome.evidence["nvml_count"] == 8


def test_count_passes_with_a_visibility_note() -> None:
    outcome = judge(
        gpu_count,
        nvml_fact(gpus(8)),
        profile(tensor_parallel_size=2),
    )
    assert outcome.status is Status.PASS
    cut = judge(gpu_count, nvml_fact(cuda_visible_devices="0,1,x"), profile(tensor_parallel_size=2))
    assert cut.status is Status.PASS
    assert cut.message.startswith("2 x NVIDIA B200 for TP 2 x PP 1; CUDA_VISIBLE_DEVICES entry 'x' matches no GPU")


def test_a_mixed_group_fails() -> None:
    mixed = [device(0), device(1, "NVIDIA H200", (9, 0))]
    outcome = judge(gpu_count, nvml_fact(mixed), profile(tensor_parallel_size=2))
    assert outcome.status is Status.FAIL
    assert outcome.message == "the 2 GPUs vLLM would use are of different models: NVIDIA B200, NVIDIA H200"


def test_only_the_group_counts_for_mixing() -> None:
    mixed = [device(0), device(1), device(2, "NVIDIA H200", (9, 0))]
    assert judge(gpu_count, nvml_fact(mixed), profile(tensor_parallel_size=2)).status is Status.PASS


# --- gpu.architecture ------------------------------------------------------------------------------


def test_b200_is_the_validated_gpu() -> None:
    outcome = judge(gpu_architecture, nvml_fact())
    assert outcome.status is Status.PASS
    assert outcome.message == "8 x NVIDIA B200: compute capability 10.0, the validated GPU"
    assert outcome.evidence["GPU 0 (NVIDIA B200)"] == "10.0"


@pytest.mark.parametrize(("name", "cc"), [("NVIDIA H100 80GB HBM3", (9, 0)), ("NVIDIA B300 SXM6 AC", (10, 3))])
def test_other_sparse_mla_gpus_warn(name: str, cc: tuple[int, int]) -> None:
    outcome = judge(gpu_architecture, nvml_fact(gpus(8, name, cc)))
    assert outcome.status is Status.WARN
    shown = f"{cc[0]}.{cc[1]}"
    assert outcome.message == (
        f"{name} can serve GLM-5 (sparse-MLA kernels exist for {shown}), but the validated setup is B200"
    )


@pytest.mark.parametrize(("name", "cc"), [("NVIDIA A100-SXM4-80GB", (8, 0)), ("NVIDIA RTX PRO 6000", (12, 0))])
def test_gpus_without_sparse_mla_fail(name: str, cc: tuple[int, int]) -> None:
    outcome = judge(gpu_architecture, nvml_fact(gpus(8, name, cc)))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"GPU 0 ({name}) has compute capability {cc[0]}.{cc[1]} (needs 9.x or 10.x)")


def test_one_unsupported_gpu_in_the_group_fails() -> None:
    group = [*gpus(7), device(7, "NVIDIA A100-SXM4-80GB", (8, 0))]
    outcome = judge(gpu_architecture, nvml_fact(group))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("GPU 7 (NVIDIA A100-SXM4-80GB) has compute capability 8.0")


def test_nvfp4_needs_blackwell() -> None:
    nvfp4 = profile(model="lukealonso/GLM-5-NVFP4", tensor_parallel_size=4)
    outcome = judge(gpu_architecture, nvml_fact(gpus(4, "NVIDIA H200", (9, 0))), nvfp4)
    assert outcome.status is Status.FAIL
    assert (
        outcome.message == "lukealonso/GLM-5-NVFP4 is an NVFP4 checkpoint: it needs Blackwell (10.x), not NVIDIA H200"
    )
    assert judge(gpu_architecture, nvml_fact(gpus(4)), nvfp4).status is Status.PASS


def test_a_gpu_without_compute_capability_is_an_error() -> None:
    outcome = judge(gpu_architecture, nvml_fact([device(0, cc=None), device(1)]), profile(tensor_parallel_size=2))
    assert outcome.status is Status.ERROR
    assert outcome.message == "NVML gave no compute capability for GPU 0 (NVIDIA B200)"
    assert outcome.evidence == {"GPU 0 (NVIDIA B200)": None, "GPU 1 (NVIDIA B200)": "10.0"}


def test_architecture_without_visible_gpus_is_skipped() -> None:
    outcome = judge(gpu_architecture, nvml_fact(cuda_visible_devices=""))
    assert outcome.status is Status.SKIP
    assert outcome.message == "no visible GPUs to judge (see gpu.count)"


# --- gpu.fabric ------------------------------------------------------------------------------------


def fabric(state: int, status: int | None = 0) -> dict[str, Any]:
    return {"state": state, "status": status, "clique_id": 0, "health_mask": 0}


def test_trained_fabric_passes() -> None:
    outcome = judge(gpu_fabric, nvml_fact())
    assert outcome.status is Status.PASS
    assert outcome.message == "fabric COMPLETED on all 8 GPUs"


def test_fabric_not_supported_everywhere_is_skipped() -> None:
    outcome = judge(gpu_fabric, nvml_fact(gpus(8, fabric=fabric(0))))
    assert outcome.status is Status.SKIP
    assert outcome.message.startswith("no NVSwitch fabric here (state NOT_SUPPORTED on every GPU)")
    assert outcome.evidence["GPU 0 (NVIDIA B200)"] == "NOT_SUPPORTED"


def test_fabric_unreported_is_skipped_with_the_drivers_answer() -> None:
    devices = gpus(8, fabric=None, errors={"fabric_info_v": "NVMLError_FunctionNotFound"})
    outcome = judge(gpu_fabric, nvml_fact(devices))
    assert outcome.status is Status.SKIP
    assert outcome.message == "the driver does not report fabric state (NVMLError_FunctionNotFound)"
    assert outcome.evidence["GPU 3 (NVIDIA B200)"] is None
    silent = judge(gpu_fabric, nvml_fact(gpus(2, fabric=None)), profile(tensor_parallel_size=2))
    assert silent.message == "the driver does not report fabric state (no answer)"


def test_fabric_without_visible_gpus_is_skipped() -> None:
    outcome = judge(gpu_fabric, nvml_fact(cuda_visible_devices=""))
    assert outcome.status is Status.SKIP
    assert outcome.message == "no visible GPUs to judge (see gpu.count)"


def test_fabric_falls_back_to_the_visible_gpus_when_the_group_is_empty() -> None:
    outcome = judge(gpu_fabric, nvml_fact(gpus(2)), profile(tensor_parallel_size=0))
    assert outcome.status is Status.PASS
    assert outcome.message == "fabric COMPLETED on all 2 GPUs"


@pytest.mark.parametrize("state", [1, 2])
def test_fabric_not_ready_on_blackwell_names_nvlsm(state: int) -> None:
    devices = gpus(8, fabric=fabric(state, None))
    outcome = judge(gpu_fabric, nvml_fact(devices))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        "fabric not ready on 8 GPU(s) (GPU 0 (NVIDIA B200), GPU 1 (NVIDIA B200), GPU 2 (NVIDIA B200)...): "
        "start nvidia-fabricmanager and NVLSM (with the ib_umad/mlx5_ib modules loaded) at the driver's version"
    )
    assert outcome.message.endswith('"Error 802: system not yet initialized"')


def test_fabric_not_ready_on_hopper_names_only_fabric_manager() -> None:
    devices = [device(0, "NVIDIA H200", (9, 0)), device(1, "NVIDIA H200", (9, 0), fabric=fabric(1))]
    outcome = judge(gpu_fabric, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        "fabric not ready on 1 GPU(s) (GPU 1 (NVIDIA H200)): start nvidia-fabricmanager at the driver's version"
    )


def test_three_waiting_gpus_are_listed_without_an_ellipsis() -> None:
    devices = [device(i, fabric=fabric(1)) for i in range(3)]
    outcome = judge(gpu_fabric, nvml_fact(devices), profile(tensor_parallel_size=3))
    assert "(GPU 0 (NVIDIA B200), GPU 1 (NVIDIA B200), GPU 2 (NVIDIA B200)):" in outcome.message


def test_fabric_completed_with_an_error_fails() -> None:
    devices = [device(0), device(1, fabric=fabric(3, 0x11))]
    outcome = judge(gpu_fabric, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "fabric registration failed on GPU 1 (NVIDIA B200) (state COMPLETED, error status): see the Fabric Manager log"
    )


def test_fabric_completed_without_a_status_passes() -> None:
    devices = [device(0, fabric=fabric(3, None)), device(1, fabric=fabric(0))]
    assert judge(gpu_fabric, nvml_fact(devices), profile(tensor_parallel_size=2)).status is Status.PASS


# --- gpu.p2p ---------------------------------------------------------------------------------------


def test_p2p_on_every_pair_passes() -> None:
    outcome = judge(gpu_p2p, nvml_fact())
    assert outcome.status is Status.PASS
    assert outcome.message == "P2P read works for all 56 pairs (56 over NVLink)"


def test_p2p_over_pcie_counts_no_nvlink_pairs() -> None:
    devices = gpus(4)
    outcome = judge(gpu_p2p, nvml_fact(devices, p2p=p2p_matrix(devices, nvlink=5)), profile(tensor_parallel_size=4))
    assert outcome.status is Status.PASS
    assert outcome.message == "P2P read works for all 12 pairs (0 over NVLink)"


def test_p2p_with_one_gpu_is_skipped() -> None:
    outcome = judge(gpu_p2p, nvml_fact(gpus(1)), profile(tensor_parallel_size=1))
    assert outcome.status is Status.SKIP
    assert outcome.message == "1 GPU in the group: no pairs to check"


def test_broken_pairs_fail_with_the_reason() -> None:
    devices = gpus(2)
    pairs = {"0-1": {"read": 2, "nvlink": 5}, "1-0": {"read": 9, "nvlink": 5}}
    outcome = judge(gpu_p2p, nvml_fact(devices, p2p=pairs), profile(tensor_parallel_size=2))
    assert outcome.status is Status.FAIL
    assert outcome.message == "P2P is not available for 2 of 2 pairs: GPU 0->GPU 1: GPU not supported; GPU 1->GPU 0: 9"


def test_broken_pairs_beat_unanswered_ones() -> None:
    devices = gpus(2)
    pairs = {"0-1": {"read": 4}}
    outcome = judge(gpu_p2p, nvml_fact(devices, p2p=pairs), profile(tensor_parallel_size=2))
    assert outcome.status is Status.FAIL
    assert outcome.evidence["unanswered"] == ["1-0"]


def test_unanswered_pairs_are_an_error() -> None:
    devices = gpus(4)
    outcome = judge(gpu_p2p, nvml_fact(devices, p2p={}), profile(tensor_parallel_size=4))
    assert outcome.status is Status.ERROR
    assert outcome.message == "NVML did not answer P2P for 12 pair(s): 0-1, 0-2, 0-3, 1-0"


# --- gpu.mig, gpu.ecc, gpu.persistence, gpu.throttle -----------------------------------------------


def test_mig_off_passes() -> None:
    outcome = judge(gpu_mig, nvml_fact([device(0), device(1, mig_mode=None)]), profile(tensor_parallel_size=2))
    assert outcome.status is Status.PASS
    assert outcome.message == "MIG off (or not supported) on all 2 GPUs"


def test_mig_on_fails() -> None:
    devices = [device(0), device(1, mig_mode=[1, 1]), device(2, mig_mode=[0, 1])]
    outcome = judge(gpu_mig, nvml_fact(devices), profile(tensor_parallel_size=3))
    assert outcome.status is Status.FAIL
    assert outcome.message == "MIG is enabled on GPU 1 (NVIDIA B200): vLLM needs whole GPUs"


def test_mig_pending_warns() -> None:
    devices = [device(0), device(1, mig_mode=[0, 1])]
    outcome = judge(gpu_mig, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.WARN
    assert outcome.message == "MIG will be enabled at the next reset of GPU 1 (NVIDIA B200)"


def test_mig_outside_the_group_does_not_count() -> None:
    devices = [device(0), device(1, mig_mode=[1, 1])]
    assert judge(gpu_mig, nvml_fact(devices), profile(tensor_parallel_size=1)).status is Status.PASS


def test_healthy_ecc_passes() -> None:
    outcome = judge(
        gpu_ecc, nvml_fact([device(0), device(1, remapped_rows=None, ecc_mode=None)]), profile(tensor_parallel_size=2)
    )
    assert outcome.status is Status.PASS
    assert outcome.message == "no uncorrected ECC errors or pending remaps on 2 GPUs"
    assert outcome.evidence["GPU 0 (NVIDIA B200)"] == {
        "ecc_mode": [1, 1],
        "uncorrected_volatile": 0,
        "remapped_rows": [0, 0, 0, 0],
    }


def test_ecc_problems_fail_together() -> None:
    devices = [
        device(0, ecc_volatile_uncorrected=3),
        device(1, remapped_rows=[2, 0, 1, 0]),
        device(2, remapped_rows=[2, 0, 1, 1]),
        device(3, ecc_mode=[0, 0]),
    ]
    outcome = judge(gpu_ecc, nvml_fact(devices), profile(tensor_parallel_size=4))
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "GPU 0 (NVIDIA B200): 3 uncorrected ECC error(s) since the last reset; "
        "GPU 1 (NVIDIA B200): a row remap is pending (reset the GPU); "
        "GPU 2 (NVIDIA B200): row remapping failed (the GPU needs service)"
    )


def test_ecc_off_warns() -> None:
    devices = [device(0, ecc_mode=[0, 1]), device(1, ecc_mode=[1, 0])]
    outcome = judge(gpu_ecc, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.WARN
    assert outcome.message == "GPU 0 (NVIDIA B200): ECC is off"


def test_ecc_ignores_a_remap_answer_of_another_shape() -> None:
    outcome = judge(gpu_ecc, nvml_fact([device(0, remapped_rows=[0, 0, 1])]), profile(tensor_parallel_size=1))
    assert outcome.status is Status.PASS


def test_persistence_on_or_unreported_passes() -> None:
    devices = [device(0), device(1, persistence_mode=None)]
    outcome = judge(gpu_persistence, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.PASS
    assert outcome.message == "persistence mode on (or not reported) on 2 GPUs"


def test_persistence_off_warns() -> None:
    devices = [device(0), device(1, persistence_mode=0)]
    outcome = judge(gpu_persistence, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.WARN
    assert outcome.message == "persistence mode is off on GPU 1 (NVIDIA B200): slower CUDA start for every worker"
    assert outcome.evidence == {"GPU 0 (NVIDIA B200)": 1, "GPU 1 (NVIDIA B200)": 0}


def test_idle_and_application_clock_bits_pass() -> None:
    devices = [device(0, clocks_event_reasons=0x1 | 0x2 | 0x4), device(1, clocks_event_reasons=None)]
    outcome = judge(gpu_throttle, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.PASS
    assert outcome.message == "no thermal or power-brake slowdown on 2 GPUs"


@pytest.mark.parametrize(
    ("bits", "named"),
    [
        (0x8, "HW slowdown"),
        (0x20, "SW thermal"),
        (0x40, "HW thermal"),
        (0x80, "HW power brake"),
        (0x8 | 0x40 | 0x1, "HW slowdown, HW thermal"),
    ],
)
def test_slowdown_bits_warn(bits: int, named: str) -> None:
    devices = [device(0), device(1, clocks_event_reasons=bits)]
    outcome = judge(gpu_throttle, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.WARN
    assert outcome.message == f"clock slowdown: GPU 1 (NVIDIA B200): {named}"


# --- gpu.vram --------------------------------------------------------------------------------------


def test_glm5_fp8_fits_eight_b200() -> None:
    outcome = judge(gpu_vram, nvml_fact())
    assert outcome.status is Status.PASS
    assert outcome.message == (
        "per GPU: weights 88.7 + overhead 8 + KV 63.8 GiB of a 160.5 GiB budget (0.90 x 178.35 GiB); "
        "684,168 tokens (auto KV) = 20.88 sequences of 32768"
    )


def test_vllm_032_stores_fp8_kv_on_blackwell() -> None:
    outcome = judge(gpu_vram, nvml_fact(), vllm="0.32.0")
    assert outcome.evidence["kv_cache_dtype"] == "fp8_e4m3"
    assert "(fp8_e4m3 KV)" in outcome.message
    assert judge(gpu_vram, nvml_fact(), vllm="0.31.0").evidence["kv_cache_dtype"] == "auto"


def test_the_smallest_gpu_sets_the_budget() -> None:
    devices = [*gpus(7), device(7, total_gib=139.8)]
    outcome = judge(gpu_vram, nvml_fact(devices))
    assert outcome.evidence["gpu_total_gib"] == 139.8


def test_reserved_memory_is_not_cuda_visible() -> None:
    devices = gpus(8, total_gib=179.35)
    for item in devices:
        item["memory"]["reserved"] = GIB
    assert judge(gpu_vram, nvml_fact(devices)).evidence["gpu_total_gib"] == 178.35


def test_weights_that_do_not_fit_fail() -> None:
    outcome = judge(gpu_vram, nvml_fact(gpus(8, "NVIDIA H100 80GB HBM3", (9, 0), total_gib=79.18)))
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "weights 88.7 GiB + 8 GiB overhead per GPU exceed the 71.3 GiB budget (0.90 x 79.18 GiB) at TP 8 x PP 1: "
        "more GPUs needed (see glm5-doctor fit)"
    )


def test_auto_max_model_len_reports_what_vllm_will_pick() -> None:
    outcome = judge(gpu_vram, nvml_fact(), profile(max_model_len_auto=True, max_model_len=-1))
    assert outcome.status is Status.PASS
    assert outcome.message.startswith("--max-model-len auto: vLLM will pick 202,752 tokens (weights 88.7 + overhead 8")


def test_a_context_that_does_not_fit_fails_with_the_largest_that_does() -> None:
    h200 = nvml_fact(gpus(8, "NVIDIA H200", (9, 0), total_gib=139.8))
    outcome = judge(gpu_vram, h200, profile(gpu_memory_utilization=0.75, max_model_len=131072))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        "KV cache for one 131072-token sequence needs 12.2 GiB, only 8.2 GiB is left per GPU"
    )
    assert outcome.message.endswith(f"the largest --max-model-len that fits is {outcome.evidence['kv_tokens']}")


def test_a_context_of_exactly_the_kv_tokens_fits() -> None:
    # a checkpoint with positions to spare, so the KV cache is the only limit
    roomy = model_files(config={"max_position_embeddings": 10_000_000})
    tokens = judge(gpu_vram, nvml_fact(), model=roomy).evidence["kv_tokens"]
    assert judge(gpu_vram, nvml_fact(), profile(max_model_len=tokens), model=roomy).status is Status.PASS
    assert judge(gpu_vram, nvml_fact(), profile(max_model_len=tokens + 1), model=roomy).status is Status.FAIL


def test_a_context_beyond_the_positions_fails_even_when_the_kv_cache_would_hold_it() -> None:
    outcome = judge(gpu_vram, nvml_fact(), profile(max_model_len=300_000))
    assert outcome.status is Status.FAIL
    assert "beyond zai-org/GLM-5-FP8's 202,752 positions" in outcome.message
    assert "the largest --max-model-len that works here is 202,752" in outcome.message
    assert outcome.evidence["within_position_limit"] is False


def test_the_config_on_disk_overrides_the_model_table() -> None:
    config = {"num_hidden_layers": 39}
    outcome = judge(gpu_vram, nvml_fact(), model=model_files(config=config))
    assert outcome.evidence["kv_bytes_per_token"] == 39 * 1284


def test_vram_of_an_unknown_model_is_skipped() -> None:
    outcome = judge(gpu_vram, nvml_fact(), profile(model="meta-llama/Llama-3.1-8B"))
    assert outcome.status is Status.SKIP
    assert outcome.message == (
        "meta-llama/Llama-3.1-8B is not a checkpoint the doctor knows, "
        "and its config.json is not on disk to size it from"
    )


def test_vram_of_another_architecture_on_disk_is_skipped() -> None:
    llama = model_files(config={"architectures": ["LlamaForCausalLM"], "model_type": "llama"})
    outcome = judge(gpu_vram, nvml_fact(), profile(model="/models/llama"), model=llama)
    assert outcome.status is Status.SKIP
    assert outcome.message.startswith("/models/llama is a LlamaForCausalLM checkpoint")


def test_vram_without_visible_gpus_is_skipped() -> None:
    outcome = judge(gpu_vram, nvml_fact(cuda_visible_devices=""))
    assert outcome.status is Status.SKIP
    assert outcome.message == "no visible GPUs to size (see gpu.count)"


def test_vram_without_memory_sizes_is_an_error() -> None:
    outcome = judge(gpu_vram, nvml_fact(gpus(8, memory=None)))
    assert outcome.status is Status.ERROR
    assert outcome.message == "NVML reported no memory size for the GPUs"


# --- gpu.free-memory -------------------------------------------------------------------------------


def test_free_memory_passes() -> None:
    outcome = judge(gpu_free_memory, nvml_fact())
    assert outcome.status is Status.PASS
    assert outcome.message == "8 GPUs have the 0.90 x total that vLLM will request free"
    assert outcome.evidence["GPU 0 (NVIDIA B200)"] == {"free_gib": 178.35, "wanted_gib": 160.51, "holders": []}


def test_memory_held_by_other_processes_fails_and_names_them() -> None:
    holder = [{"pid": 4242, "used_memory": 40 * GIB}, {"pid": 77, "used_memory": None}]
    devices = [device(0, free_gib=138.35, processes=holder), *gpus(7)[1:], device(7, free_gib=100.0)]
    for index, item in enumerate(devices):
        item["index"] = index
    nvml = nvml_fact(devices, process_names={"4242": "python -m vllm.entrypoints.openai.api_server"})
    outcome = judge(gpu_free_memory, nvml)
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "2 GPU(s) lack free memory (Free memory on device cuda:N (A/B GiB)...): "
        "GPU 0 (NVIDIA B200): 138.3 GiB free, vLLM wants 160.5 GiB; held by "
        "pid 4242 (python -m vllm.entrypoints.openai.api_server, 40.0 GiB), pid 77 (not visible here); "
        "GPU 7 (NVIDIA B200): 100.0 GiB free, vLLM wants 160.5 GiB"
    )


def test_at_most_three_short_gpus_are_listed() -> None:
    outcome = judge(gpu_free_memory, nvml_fact(gpus(8, free_gib=10.0)))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("8 GPU(s) lack free memory")
    assert outcome.message.count("vLLM wants") == 3


def test_exactly_the_wanted_memory_free_passes() -> None:
    devices = gpus(8)
    for item in devices:
        item["memory"]["free"] = int(0.9 * item["memory"]["total"]) + 1
    assert judge(gpu_free_memory, nvml_fact(devices)).status is Status.PASS


def test_gpus_without_free_memory_answers_are_not_judged() -> None:
    devices = gpus(2, memory=None)
    devices[1]["memory"] = {"total": 100 * GIB}
    outcome = judge(gpu_free_memory, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.status is Status.PASS
    assert outcome.evidence == {}


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (1, "chipset not supported"),
        (2, "GPU not supported"),
        (3, "IOH topology not supported"),
        (4, "disabled by registry key"),
        (5, "not supported"),
        (6, "unknown"),
    ],
)
def test_every_p2p_status_is_named(code: int, text: str) -> None:
    devices = gpus(2)
    pairs = {"0-1": {"read": code}, "1-0": {"read": 0}}
    outcome = judge(gpu_p2p, nvml_fact(devices, p2p=pairs), profile(tensor_parallel_size=2))
    assert outcome.message == f"P2P is not available for 1 of 2 pairs: GPU 0->GPU 1: {text}"


def test_driver_cuda_minor_nine_is_shown_as_such() -> None:
    outcome = judge(gpu_driver, nvml_fact(cuda_driver_version=12090), torch=torch_build(cuda="12.9"))
    assert outcome.message == "driver 580.95.05 (CUDA 12.9), 8 GPU(s) answer NVML in 120 ms"
    nvml = nvml_fact(gpus(8, "NVIDIA H200", (9, 0)), driver_version="590.1", cuda_driver_version=12090)
    outcome = judge(gpu_driver, nvml, torch=torch_build(cuda="13.0"))
    assert outcome.message.startswith("the driver supports CUDA 12.9 but torch is a CUDA 13.0 build")


def test_nvfp4_on_a_mixed_group_names_the_first_gpu() -> None:
    nvfp4 = profile(model="lukealonso/GLM-5-NVFP4", tensor_parallel_size=2)
    group = [device(0, "NVIDIA H200", (9, 0)), device(1)]
    outcome = judge(gpu_architecture, nvml_fact(group), nvfp4)
    assert outcome.status is Status.FAIL
    assert outcome.message.endswith("it needs Blackwell (10.x), not NVIDIA H200")


def test_a_mixed_sparse_mla_group_warns_with_the_first_gpus_capability() -> None:
    group = [device(0, "NVIDIA H100 80GB HBM3", (9, 0)), device(1, "NVIDIA B300 SXM6 AC", (10, 3))]
    outcome = judge(gpu_architecture, nvml_fact(group), profile(tensor_parallel_size=2))
    assert outcome.status is Status.WARN
    assert outcome.message.startswith(
        "NVIDIA B300 SXM6 AC, NVIDIA H100 80GB HBM3 can serve GLM-5 (sparse-MLA kernels exist for 9.0)"
    )


def test_every_b200_name_is_the_validated_gpu() -> None:
    group = [device(0), device(1, "NVIDIA GB200")]
    outcome = judge(gpu_architecture, nvml_fact(group), profile(tensor_parallel_size=2))
    assert outcome.status is Status.PASS
    assert outcome.message == "2 x NVIDIA B200: compute capability 10.0, the validated GPU"


def test_fabric_unreported_names_the_first_gpus_answer() -> None:
    devices = [
        device(0, fabric=None, errors={"fabric_info_v": "NVMLError_NotSupported"}),
        device(1, fabric=None, errors={"fabric_info_v": "NVMLError_Unknown"}),
    ]
    outcome = judge(gpu_fabric, nvml_fact(devices), profile(tensor_parallel_size=2))
    assert outcome.message == "the driver does not report fabric state (NVMLError_NotSupported)"


def test_four_waiting_gpus_are_cut_to_three() -> None:
    devices = [device(i, "NVIDIA H200", (9, 0), fabric=fabric(2)) for i in range(4)]
    outcome = judge(gpu_fabric, nvml_fact(devices), profile(tensor_parallel_size=4))
    assert outcome.message.startswith(
        "fabric not ready on 4 GPU(s) (GPU 0 (NVIDIA H200), GPU 1 (NVIDIA H200), GPU 2 (NVIDIA H200)...): "
    )


def test_at_most_three_broken_pairs_are_listed() -> None:
    devices = gpus(3)
    outcome = judge(gpu_p2p, nvml_fact(devices, p2p=p2p_matrix(devices, read=5)), profile(tensor_parallel_size=3))
    assert outcome.message == (
        "P2P is not available for 6 of 6 pairs: GPU 0->GPU 1: not supported; GPU 0->GPU 2: not supported; "
        "GPU 1->GPU 0: not supported"
    )


def test_a_mixed_group_is_sized_by_its_first_gpu() -> None:
    group = [device(0, "NVIDIA H200", (9, 0), total_gib=139.8), *gpus(8)[1:]]
    outcome = judge(gpu_vram, nvml_fact(group), vllm="0.32.0")
    assert outcome.evidence["gpu"] == "NVIDIA H200"
    assert outcome.evidence["kv_cache_dtype"] == "auto"


def test_free_memory_evidence_is_rounded_to_two_decimals() -> None:
    outcome = judge(gpu_free_memory, nvml_fact([device(0, free_gib=100.1234)]), profile(tensor_parallel_size=1))
    assert outcome.evidence["GPU 0 (NVIDIA B200)"]["free_gib"] == 100.12


def test_free_memory_exactly_what_vllm_wants_passes() -> None:
    nvml = nvml_fact([device(0, total_gib=100.0, free_gib=50.0)])
    outcome = judge(gpu_free_memory, nvml, profile(tensor_parallel_size=1, gpu_memory_utilization=0.5))
    assert outcome.status is Status.PASS
    assert outcome.evidence["GPU 0 (NVIDIA B200)"]["wanted_gib"] == 50.0


def test_one_b200_is_the_validated_gpu() -> None:
    outcome = judge(gpu_architecture, nvml_fact(gpus(1)), profile(tensor_parallel_size=1))
    assert outcome.status is Status.PASS
    assert outcome.message == "1 x NVIDIA B200: compute capability 10.0, the validated GPU"


def test_nvfp4_on_a_mixed_group_names_the_gpu_that_is_not_blackwell() -> None:
    nvfp4 = profile(model="lukealonso/GLM-5-NVFP4", tensor_parallel_size=2)
    outcome = judge(gpu_architecture, nvml_fact([device(0), device(1, "NVIDIA H200", (9, 0))]), nvfp4)
    assert outcome.message.endswith("not NVIDIA H200")


# --- gpu.architecture against the installed vLLM's own sparse-MLA backends ----------------------------


SM120 = [device(index, "NVIDIA RTX PRO 6000 Blackwell Server Edition", (12, 0)) for index in range(4)]


def test_sm120_without_its_backend_in_the_installed_vllm_fails_and_names_the_release_that_has_it() -> None:
    outcome = judge(
        gpu_architecture, nvml_fact(SM120), profile(tensor_parallel_size=4), files=real_vllm_files("0.19.1")
    )
    assert outcome.status is Status.FAIL
    assert "needs 9.x or 10.x in vLLM" in outcome.message
    assert "vLLM 0.24.0 and later carry a sparse-MLA backend for 12.x" in outcome.message
    assert outcome.evidence["sparse_mla_majors"] == [9, 10]


def test_sm120_with_its_backend_in_the_installed_vllm_can_serve() -> None:
    outcome = judge(
        gpu_architecture, nvml_fact(SM120), profile(tensor_parallel_size=4), files=real_vllm_files("0.24.0")
    )
    assert outcome.status is Status.WARN
    assert outcome.evidence["sparse_mla_majors"] == [9, 10, 12]


def test_an_ampere_gpu_is_refused_by_the_backends_read_from_files_without_the_12x_hint() -> None:
    ampere = [device(index, "NVIDIA A100-SXM4-80GB", (8, 0)) for index in range(8)]
    outcome = judge(gpu_architecture, nvml_fact(ampere), files=real_vllm_files("0.24.0"))
    assert outcome.status is Status.FAIL
    assert "needs 9.x, 10.x or 12.x in vLLM" in outcome.message
    assert "carry a sparse-MLA backend for 12.x" not in outcome.message
