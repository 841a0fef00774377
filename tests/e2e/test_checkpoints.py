"""The checkpoint and the stack as they really are: GPUs and KV dtypes read from the installed vLLM's own
files, on a fake NVML playing a GPU that only newer vLLM releases serve."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import WHEELS, TargetEnv, build_fake_nvml, by_id, nvml_env, run_json, scenario_lines

MLA = Path("vllm/v1/attention/backends/mla")
#: RTX PRO 6000 Blackwell Server Edition: compute capability 12.0, 96 GB (NVIDIA's product page).
RTX_PRO_6000 = {
    "count": 4,
    "gpu.*.name": "NVIDIA RTX PRO 6000 Blackwell Server Edition",
    "gpu.*.cc": "12.0",
    "gpu.*.total": 102_642_532_352,
    "gpu.*.free": 101_000_000_000,
    "gpu.*.fabric": "0,0",
    "gpu.*.nvlinks": 0,
}


@pytest.fixture(scope="module")
def fake_nvml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_nvml(tmp_path_factory.mktemp("fake-nvml"))


def vllm_with_real_backends(target: TargetEnv, release: str, registry_release: str = "0.20.0") -> None:
    """vLLM ``release`` as far as these checks read it: its real sparse-MLA backend files."""
    if (WHEELS / f"vllm-{release}" / f"vllm-{release}.dist-info").exists():
        target.add_vllm_release(release)
    else:
        target.add_vllm_release(registry_release, version=release)
    for source in (WHEELS / f"vllm-{release}" / MLA).iterdir():
        destination = target.site / MLA / source.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, destination)


@pytest.mark.parametrize(
    ("release", "status", "said"),
    [
        ("0.19.1", "fail", "needs 9.x or 10.x in vLLM 0.19.1: FLASHINFER_MLA_SPARSE, FLASHMLA_SPARSE"),
        ("0.24.0", "warn", "can serve GLM-5 (sparse-MLA kernels exist for 12.0)"),
    ],
)
def test_an_sm120_gpu_is_served_only_by_a_vllm_whose_files_carry_its_backend(
    fake_nvml: Path, tmp_path: Path, target_env: TargetEnv, release: str, status: str, said: str
) -> None:
    vllm_with_real_backends(target_env, release)
    env = nvml_env(fake_nvml, scenario_lines("b200x8", **RTX_PRO_6000), tmp_path / "nvml")
    _, report = run_json("--python", str(target_env.python), "--tp", "4", "--select", "gpu.architecture", env=env)
    row = by_id(report)["gpu.architecture"]
    assert row["status"] == status, row["message"]
    assert said in row["message"]
    if status == "fail":
        assert "vLLM 0.24.0 and later carry a sparse-MLA backend for 12.x" in row["message"]


@pytest.mark.parametrize(
    ("dtype", "status"),
    [("fp8_ds_mla", "pass"), ("bfloat16", "fail")],  # the SM120 backend takes no bfloat16 KV cache
)
def test_the_kv_cache_dtype_is_judged_against_the_backends_the_installed_vllm_has(
    fake_nvml: Path, tmp_path: Path, target_env: TargetEnv, dtype: str, status: str
) -> None:
    vllm_with_real_backends(target_env, "0.24.0")
    env = nvml_env(fake_nvml, scenario_lines("b200x8", **RTX_PRO_6000), tmp_path / "nvml")
    report_file = tmp_path / "report.json"
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable, "-m", "glm5_doctor", "preflight", "--python", str(target_env.python),
            "--select", "serve.kv-cache-dtype", "--format", "json", "--output", str(report_file), "--",
            "vllm", "serve", "zai-org/GLM-5-FP8", "-tp", "4", "--kv-cache-dtype", dtype,
        ],
        env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    row = by_id(json.loads(report_file.read_text()))["serve.kv-cache-dtype"]
    assert row["status"] == status, row["message"]
    assert "FLASHINFER_MLA_SPARSE_SM120" in row["message"]
