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


def _glm52_checkpoint(directory: Path) -> Path:
    """A GLM-5.2-style checkpoint: its config lists deepseek_sparse_attention for every layer (coreweave#206)."""
    from helpers import GLM5_CONFIG, write_glm5_model

    write_glm5_model(directory, shards=1, shard_bytes=1 << 20)
    config = {**GLM5_CONFIG, "layer_types": ["deepseek_sparse_attention"] * 78, "transformers_version": "5.11.0"}
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.mark.parametrize(
    ("release", "status"),
    [("5.10.4", "fail"), ("5.11.0", "pass")],  # the real configuration_utils.py of each wheel decides
)
def test_a_glm52_config_needs_a_transformers_that_accepts_its_layer_types(
    tmp_path: Path, target_env: TargetEnv, release: str, status: str
) -> None:
    model = _glm52_checkpoint(tmp_path / "GLM-5.2-NVFP4")
    target_env.add_transformers_release(release)
    utils = WHEELS / f"transformers-{release}" / "transformers" / "configuration_utils.py"
    shutil.copy(utils, target_env.site / "transformers" / "configuration_utils.py")
    args = ("--python", str(target_env.python), "--model", str(model), "--select", "transformers.checkpoint-config")
    _, report = run_json(*args)
    row = by_id(report)["transformers.checkpoint-config"]
    assert row["status"] == status, row["message"]
    if status == "fail":
        assert "transformers 5.10.4 does not accept layer_types deepseek_sparse_attention" in row["message"]
        assert "transformers 5.11.0 or newer accepts it" in row["message"]
        assert row["fix"]["script"] == "install-transformers.sh"
    assert row["evidence"]["layer_types"] == ["deepseek_sparse_attention"]


def test_without_readable_allowed_types_the_release_table_decides(tmp_path: Path, target_env: TargetEnv) -> None:
    """transformers 5.9-style: no configuration_utils.py the doctor can read, so 5.11.0 from the table rules."""
    model = _glm52_checkpoint(tmp_path / "GLM-5.2")
    target_env.add_transformers_release("5.5.1", version="5.9.0")
    _, report = run_json("--python", str(target_env.python), "--model", str(model), "--select", "transformers")
    row = by_id(report)["transformers.checkpoint-config"]
    assert row["status"] == "fail" and "transformers 5.11.0 or newer accepts it" in row["message"]
    assert by_id(report)["transformers.glm-moe-dsa"]["status"] == "pass", "5.9 knows glm_moe_dsa: the old false pass"
