"""GPU checks through the real nvidia-ml-py, loading a fake libnvidia-ml.so.1 built here with gcc.

Each scenario (tests/fixtures/nvml/scenarios.json) is what the fake library answers; the doctor
runs as a subprocess exactly as on a GPU node, with the fake first on LD_LIBRARY_PATH.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import shutil
from pathlib import Path

import pytest
from glm5_doctor.knowledge.cuda_devices import visible_devices
from helpers import (
    TargetEnv,
    add_torch,
    build_fake_nvml,
    build_shared_object,
    by_id,
    doctor_env,
    nvml_env,
    real_h200_scenario,
    run_doctor,
    run_json,
    scenario_lines,
)

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the fake NVML library")


@pytest.fixture(scope="module")
def fake_nvml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_nvml(tmp_path_factory.mktemp("fake-nvml"))


def judge(
    fake_nvml: Path, tmp_path: Path, target: TargetEnv, scenario: dict, *args: str, **environ: str | None
) -> tuple[int, dict[str, dict]]:
    env = nvml_env(fake_nvml, scenario, tmp_path / "nvml", **environ)
    code, report = run_json("--python", str(target.python), "--select", "gpu", *args, env=env)
    return code, by_id(report)


def test_healthy_hgx_b200(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    devices = tmp_path / "devices"  # a container that passes /dev/nvidia-caps through (NVLS needs it)
    (devices / "dev" / "nvidia-caps").mkdir(parents=True)
    code, results = judge(
        fake_nvml, tmp_path, target_env, scenario_lines("b200x8"), GLM5_DOCTOR_DEVICE_ROOT=str(devices)
    )
    statuses = {check_id: result["status"] for check_id, result in results.items()}
    assert statuses.pop("gpu.imex") == "skip", "one HGX node is no multi-node NVLink domain"
    assert statuses == {check_id: "pass" for check_id in statuses}, statuses
    assert code == 0
    assert "8 x NVIDIA B200" in results["gpu.count"]["message"]
    assert results["gpu.p2p"]["evidence"] == {"pairs": 56, "broken": [], "unanswered": [], "nvlink_pairs": 56}
    vram = results["gpu.vram"]["evidence"]
    assert vram["weights_gib_per_gpu"] == pytest.approx(88.7, abs=0.1)
    assert vram["kv_cache_gib_per_gpu"] == pytest.approx(63.8, abs=0.2)
    assert vram["kv_tokens"] == pytest.approx(684_000, rel=0.01)


def test_hgx_h200_fits_but_is_not_the_validated_gpu(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("h200x8"))
    assert results["gpu.architecture"]["status"] == "warn"
    assert "validated setup is B200" in results["gpu.architecture"]["message"]
    assert results["gpu.vram"]["status"] == "pass"
    assert results["gpu.vram"]["evidence"]["kv_tokens"] == pytest.approx(312_000, rel=0.01)


def test_hgx_h100_cannot_hold_the_weights(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    code, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("h100x8"))
    vram = results["gpu.vram"]
    assert vram["status"] == "fail"
    assert "weights 88.7 GiB" in vram["message"] and "71.3 GiB budget" in vram["message"]
    assert code == 1


def test_four_b200_for_a_tp8_profile(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("b200x4"))
    assert results["gpu.count"]["status"] == "fail"
    assert results["gpu.count"]["message"] == "4 GPU(s) visible, but TP 8 x PP 1 needs 8"
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("b200x4"), "--profile", "glm5-nvfp4-b200-tp4")
    assert results["gpu.count"]["status"] == "pass"
    assert results["gpu.vram"]["status"] == "pass"


def test_fabric_still_training(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("fabric-in-progress"))
    fabric = results["gpu.fabric"]
    assert fabric["status"] == "fail"
    for words in ("nvidia-fabricmanager", "NVLSM", "ib_umad", "Error 802: system not yet initialized"):
        assert words in fabric["message"]
    assert fabric["fix"]["script"] == "start-fabric-manager.sh"
    assert set(fabric["evidence"].values()) == {"IN_PROGRESS"}


def test_fabric_completed_with_an_error_status(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("fabric-failed"))
    assert results["gpu.fabric"]["status"] == "fail"
    assert "GPU 6" in results["gpu.fabric"]["message"]


def test_driver_570_with_a_cuda13_vllm(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.20.0")
    so = build_shared_object(tmp_path / "so", "_C_stable_libtorch.abi3.so", "libcudart.so.13")
    shutil.copy(so, target_env.site / "vllm" / "_C_stable_libtorch.abi3.so")
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("driver-570-cuda128"))
    driver = results["gpu.driver"]
    assert driver["status"] == "fail"
    assert driver["message"] == "driver 570.133.20 is older than 580.65.06, which vLLM's kernels (CUDA 13) need"


def test_driver_older_than_the_b200_floor(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("driver-570-86"))
    assert "older than 570.133.20, which Blackwell GPUs (HGX B200) need" in results["gpu.driver"]["message"]


def test_driver_cuda_older_than_torch(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    add_torch(target_env, "2.11.0+cu130", "13.0")
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("b200x8", driver="580.95.05", cuda_driver=12080))
    assert results["gpu.driver"]["status"] == "fail"
    assert "supports CUDA 12.8 but torch is a CUDA 13.0 build" in results["gpu.driver"]["message"]


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("driver-not-loaded", "kernel driver is not loaded"),
        ("driver-mismatch", "upgraded without a reboot"),
        ("no-permission", "no permission"),
    ],
)
def test_nvml_init_failures_are_named(
    fake_nvml: Path, tmp_path: Path, target_env: TargetEnv, scenario: str, expected: str
) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines(scenario))
    assert results["gpu.driver"]["status"] == "fail"
    assert expected in results["gpu.driver"]["message"]
    assert results["gpu.count"]["status"] == "skip"


def test_library_missing(tmp_path: Path, target_env: TargetEnv) -> None:
    if ctypes.util.find_library("nvidia-ml"):
        pytest.skip("a real libnvidia-ml is installed on this machine")
    empty = tmp_path / "empty"
    empty.mkdir()
    env = doctor_env(LD_LIBRARY_PATH=str(empty))
    _, report = run_json("--python", str(target_env.python), "--select", "gpu.driver", env=env)
    assert "libnvidia-ml.so.1 was not found" in by_id(report)["gpu.driver"]["message"]


def test_a_hung_nvml_call_is_abandoned_and_named(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("hang"), GLM5_DOCTOR_NVML_TIMEOUT_S="2")
    driver = results["gpu.driver"]
    assert driver["status"] == "fail"
    assert "device 3: memory" in driver["message"]
    assert "did not answer within 2 s" in driver["message"]


def test_uncorrected_ecc_and_pending_remap(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("ecc-errors"))
    ecc = results["gpu.ecc"]
    assert ecc["status"] == "fail"
    assert "GPU 3 (NVIDIA B200): 2 uncorrected ECC error(s)" in ecc["message"]
    assert "GPU 5 (NVIDIA B200): a row remap is pending" in ecc["message"]


def test_mig_on(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("mig-on"))
    assert results["gpu.mig"]["status"] == "fail"


def test_busy_gpu_names_the_process_holding_memory(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    """The holder is this test process: psutil resolves its real command line."""
    scenario = scenario_lines("busy-gpu")
    scenario["gpu.2.procs"] = scenario["gpu.2.procs"].format(pid=os.getpid())
    _, results = judge(fake_nvml, tmp_path, target_env, scenario)
    free = results["gpu.free-memory"]
    assert free["status"] == "fail"
    assert "GPU 2 (NVIDIA B200): 30.0 GiB free, vLLM wants 160.5 GiB" in free["message"]
    assert f"pid {os.getpid()} (" in free["message"] and "python" in free["message"]
    assert "139.7 GiB" in free["message"]


def test_broken_p2p_pair_is_named(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("p2p-broken"))
    assert results["gpu.p2p"]["status"] == "fail"
    assert "GPU 2->GPU 5: disabled by registry key" in results["gpu.p2p"]["message"]


def test_persistence_off_and_thermal_slowdown_warn(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("persistence-off"))
    assert results["gpu.persistence"]["status"] == "warn"
    assert "GPU 4" in results["gpu.persistence"]["message"]
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("thermal"))
    assert results["gpu.throttle"]["status"] == "warn"
    assert "GPU 1 (NVIDIA B200): HW thermal" in results["gpu.throttle"]["message"]


def test_mixed_and_unsupported_gpus(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("mixed"))
    assert results["gpu.count"]["status"] == "fail"
    assert "different models" in results["gpu.count"]["message"]
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("a100x8"))
    assert results["gpu.architecture"]["status"] == "fail"
    assert "compute capability 8.0" in results["gpu.architecture"]["message"]


def test_cuda_visible_devices_narrows_the_group(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    _, results = judge(fake_nvml, tmp_path, target_env, scenario_lines("b200x8"), CUDA_VISIBLE_DEVICES="0,1,9,2")
    count = results["gpu.count"]
    assert count["status"] == "fail"
    assert count["evidence"]["visible"] == 2
    assert "'9' matches no GPU" in count["message"]


def test_visible_devices_by_uuid_prefix_and_empty() -> None:
    devices = [{"index": i, "uuid": f"GPU-{i}{i}aa-bbbb"} for i in range(4)]
    assert [d["index"] for d in visible_devices(devices, "GPU-33,GPU-11").devices] == [3, 1]
    assert visible_devices(devices, "").devices == []
    assert visible_devices(devices, None).devices == devices
    assert visible_devices(devices, "1,1").problem is not None


def test_the_real_single_h200_vm(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    """Answers captured on the real H200 (driver 580.159.04): one GPU, no NVSwitch fabric."""
    _, results = judge(fake_nvml, tmp_path, target_env, real_h200_scenario())
    assert results["gpu.driver"]["status"] == "pass"
    assert results["gpu.driver"]["evidence"]["driver"] == "580.159.04"
    assert results["gpu.count"]["status"] == "fail"
    assert results["gpu.count"]["message"] == "1 GPU(s) visible, but TP 8 x PP 1 needs 8"
    assert results["gpu.fabric"]["status"] == "skip"
    assert "NOT_SUPPORTED" in results["gpu.fabric"]["message"]
    assert results["gpu.p2p"]["status"] == "skip"
    assert results["gpu.architecture"]["status"] == "warn"


def test_toolchain_checks_target_the_detected_gpu(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    """On an H200 node nvcc 12.8 is enough for DeepGEMM (12.3+ for sm_90); --gpu B200 plans for B200."""
    home = tmp_path / "cuda"
    (home / "bin").mkdir(parents=True)
    for tool in ("nvcc", "cuobjdump"):
        (home / "bin" / tool).write_text("#!/bin/sh\necho 'Cuda compilation tools, release 12.8, V12.8.93'\n")
        (home / "bin" / tool).chmod(0o755)
    env = nvml_env(fake_nvml, scenario_lines("h200x8"), tmp_path / "nvml", CUDA_HOME=str(home))
    _, report = run_json("--python", str(target_env.python), "--select", "cuda.nvcc", env=env)
    assert by_id(report)["cuda.nvcc"]["status"] == "pass"
    _, report = run_json("--python", str(target_env.python), "--select", "cuda.nvcc", "--gpu", "B200", env=env)
    assert by_id(report)["cuda.nvcc"]["status"] == "fail"


# --- glm5-doctor fit ------------------------------------------------------------------------------


def test_fit_plans_eight_b200_like_the_seed_table() -> None:
    completed = run_doctor("fit", "--gpu", "B200", "--gpus", "8", "--format", "json")
    assert completed.returncode == 0
    fit = json.loads(completed.stdout)
    for key in (
        "weights_gib_per_gpu",
        "overhead_gib_per_gpu",
        "kv_cache_gib_per_gpu",
        "kv_tokens",
        "fits",
        "max_model_len_that_fits",
    ):
        assert key in fit
    assert fit["weights_gib_per_gpu"] == pytest.approx(89, rel=0.03)  # seed: ~89 GB per GPU
    assert fit["kv_cache_gib_per_gpu"] == pytest.approx(64, rel=0.03)  # seed: ~64 GB KV per GPU
    assert fit["fits"] is True


@pytest.mark.parametrize(("gpu", "fits", "code"), [("H200", True, 0), ("H100", False, 1), ("B300", True, 0)])
def test_fit_plans_other_gpus(gpu: str, fits: bool, code: int) -> None:
    completed = run_doctor("fit", "--gpu", gpu, "--gpus", "8", "--format", "json")
    assert completed.returncode == code
    assert json.loads(completed.stdout)["fits"] is fits


def test_fit_picture_draws_one_bar_per_gpu() -> None:
    text = run_doctor("fit", "--gpu", "B200", "--gpus", "8").stdout
    bars = [line for line in text.splitlines() if line.startswith("GPU ")]
    assert len(bars) == 8
    assert "█ weights" in text and "KV tokens" in text and "684,168" in text


def test_fit_from_the_gpus_here(fake_nvml: Path, tmp_path: Path) -> None:
    env = nvml_env(fake_nvml, scenario_lines("h200x8"), tmp_path / "nvml")
    completed = run_doctor("fit", "--format", "json", env=env)
    fit = json.loads(completed.stdout)
    assert fit["gpu"] == "NVIDIA H200"
    assert fit["gpu_total_gib"] == pytest.approx(139.8, abs=0.01)
    assert fit["gpus"] == 8


def test_fit_without_gpus_or_a_plan_is_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    if ctypes.util.find_library("nvidia-ml"):
        pytest.skip("a real libnvidia-ml is installed on this machine")
    completed = run_doctor("fit", env=doctor_env(LD_LIBRARY_PATH=str(empty)))
    assert completed.returncode == 2
    assert "--gpu B200 --gpus 8" in completed.stderr


def test_answers_before_a_hang_are_kept(fake_nvml: Path, tmp_path: Path) -> None:
    from glm5_doctor.probes import ProbeContext
    from glm5_doctor.probes.nvml import probe_nvml

    env = nvml_env(fake_nvml, scenario_lines("hang"), tmp_path / "nvml", GLM5_DOCTOR_NVML_TIMEOUT_S="1.5")
    fact = probe_nvml(ProbeContext(environ=env))
    assert fact["status"] == "hung"
    assert fact["hung_at"] == "device 3: memory"
    assert [device["index"] for device in fact["devices"]] == [0, 1, 2]
    assert fact["driver_version"] == "580.95.05"


@pytest.mark.slow
def test_compile_probe_targets_the_detected_gpu(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    """On an H200 node --deep compiles for sm_90a, whatever the profile's default GPU says."""
    cuda_home = next(
        (
            home
            for home in ("/usr/local/cuda", os.environ.get("CUDA_HOME"))
            if home and os.path.isfile(os.path.join(home, "bin", "nvcc"))
        ),
        None,
    )
    if cuda_home is None:
        pytest.skip("no real nvcc (CUDA toolkit) on this machine")
    from helpers import WHEELS, add_deep_gemm

    target_env.add_vllm_release("0.33.0")
    add_deep_gemm(
        target_env.site / "vllm" / "third_party" / "deep_gemm",
        init=(WHEELS / "vllm-0.33.0/vllm/third_party/deep_gemm/__init__.py").read_text(),
        extensions=["_C_extension.abi3.so"],
    )
    env = nvml_env(fake_nvml, scenario_lines("h200x8"), tmp_path / "nvml", CUDA_HOME=cuda_home)
    _, report = run_json("--python", str(target_env.python), "--select", "cuda.compile-probe", "--deep", env=env)
    result = by_id(report)["cuda.compile-probe"]
    assert result["evidence"]["arch"] == "sm_90a"
    assert result["status"] == "pass", result


def test_the_real_two_h200_nvlink_node(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    """Answers captured on a real 2 x H200 node (NV18 between them, fabric trained): replayed at TP 2."""
    from helpers import REAL_H200X2, real_scenario

    _, results = judge(fake_nvml, tmp_path, target_env, real_scenario(REAL_H200X2, p2p=0), "--tp", "2")
    assert results["gpu.count"]["message"] == "2 x NVIDIA H200 for TP 2 x PP 1"
    assert results["gpu.fabric"]["status"] == "pass"
    assert results["gpu.fabric"]["message"] == "fabric COMPLETED on all 2 GPUs"
    assert results["gpu.p2p"]["evidence"]["nvlink_pairs"] == 2
    assert results["gpu.vram"]["status"] == "fail"
    assert "weights 348.5 GiB" in results["gpu.vram"]["message"]


def test_what_the_doctor_said_on_the_real_two_h200_node() -> None:
    """The doctor's own JSON from that node (tests/fixtures/real/h200x2-gvisor/run-tp2.json)."""
    real = json.loads((Path(__file__).parents[1] / "fixtures/real/h200x2-gvisor/run-tp2.json").read_text())
    results = by_id(real)
    assert real["target"]["gpus"] == "2 x NVIDIA H200"
    assert results["gpu.p2p"]["message"] == "P2P read works for all 2 pairs (2 over NVLink)"
    assert results["gpu.fabric"]["evidence"] == {"GPU 0 (NVIDIA H200)": "COMPLETED", "GPU 1 (NVIDIA H200)": "COMPLETED"}
    assert results["gpu.driver"]["evidence"]["driver"] == "580.159.04"
