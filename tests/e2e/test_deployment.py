"""One deployment, one truth: the same deployment values give the same memory verdict on every command.

Run on a fake 8 x B200 node (the fake libnvidia-ml played by the real nvidia-ml-py), so ``run``,
``fit``, ``fix`` and ``preflight`` all size the GPUs NVML reports, through the one gpu.vram path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import TargetEnv, build_fake_nvml, by_id, nvml_env, scenario_lines

GLM5_POSITIONS = 202_752


@pytest.fixture(scope="module")
def fake_nvml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_nvml(tmp_path_factory.mktemp("fake-nvml"))


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glm5_doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def vram_on_every_command(env: dict[str, str], python: str, value: str, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """gpu.vram's result (or fit's JSON) for ``--max-model-len value`` on run, fit, fix and preflight."""
    found: dict[str, dict[str, Any]] = {}
    run = doctor(env, "run", "--python", python, "--select", "gpu.vram", "--format", "json", "--max-model-len", value)
    found["run"] = {**by_id(json.loads(run.stdout))["gpu.vram"], "exit": run.returncode}
    fit = doctor(env, "fit", "--python", python, "--format", "json", "--max-model-len", value)
    assert fit.returncode in (0, 1), fit.stderr
    found["fit"] = {"evidence": json.loads(fit.stdout), "exit": fit.returncode}
    report = tmp_path / f"preflight-{value}.json"
    vllm = tmp_path / "bin" / "vllm"  # never started: the launch is refused or the test ends first
    vllm.parent.mkdir(exist_ok=True)
    vllm.write_text("#!/bin/sh\nexit 0\n")
    vllm.chmod(0o755)
    preflight = doctor(
        env,
        "preflight",
        "--python",
        python,
        "--select",
        "gpu.vram",
        "--format",
        "json",
        "--output",
        str(report),
        "--",
        str(vllm),
        "serve",
        "zai-org/GLM-5-FP8",
        "--tensor-parallel-size",
        "8",
        "--max-model-len",
        value,
    )
    found["preflight"] = {**by_id(json.loads(report.read_text()))["gpu.vram"], "exit": preflight.returncode}
    fix = doctor(env, "fix", "gpu.vram", "--python", python, "--max-model-len", value)
    found["fix"] = {"stdout": fix.stdout, "exit": fix.returncode}
    return found


def test_max_model_len_beyond_the_positions_fails_everywhere_with_the_largest_that_works(
    fake_nvml: Path, tmp_path: Path, target_env: TargetEnv
) -> None:
    env = nvml_env(fake_nvml, scenario_lines("b200x8"), tmp_path / "nvml")
    found = vram_on_every_command(env, str(target_env.python), "300000", tmp_path)
    for command in ("run", "preflight"):
        assert found[command]["status"] == "fail", (command, found[command])
        assert "largest --max-model-len that works here is 202,752" in found[command]["message"]
        assert found[command]["exit"] == 1
    assert found["fit"]["exit"] == 1
    assert found["fit"]["evidence"]["within_position_limit"] is False
    assert found["fit"]["evidence"]["max_model_len_that_fits"] == GLM5_POSITIONS
    assert found["fix"]["exit"] == 1
    assert "--max-model-len 202752" in found["fix"]["stdout"] or "202,752" in found["fix"]["stdout"]


@pytest.mark.parametrize(("value", "tokens"), [("32k", 32_000), ("32K", 32_768), ("auto", GLM5_POSITIONS)])
def test_one_grammar_gives_the_same_numbers_on_all_four_commands(
    fake_nvml: Path, tmp_path: Path, target_env: TargetEnv, value: str, tokens: int
) -> None:
    env = nvml_env(fake_nvml, scenario_lines("b200x8"), tmp_path / "nvml")
    found = vram_on_every_command(env, str(target_env.python), value, tmp_path)
    numbers = {
        command: (
            (found[command]["evidence"]["max_model_len"], found[command]["evidence"]["kv_tokens"])
            if command != "fix"
            else None
        )
        for command in ("run", "fit", "preflight")
    }
    assert set(numbers.values()) == {(tokens, numbers["run"][1])}, numbers  # type: ignore[index]
    assert found["run"]["status"] == found["preflight"]["status"] == "pass"
    assert found["fit"]["exit"] == 0
    assert found["fix"]["exit"] == 0 and "gpu.vram: nothing to fix (pass" in found["fix"]["stdout"]


def test_fit_plans_without_a_download_and_still_honours_the_position_limit() -> None:
    env = {"GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    fit = doctor(env, "fit", "--gpu", "B200", "--gpus", "8", "--max-model-len", "300000")
    assert fit.returncode == 1
    assert "largest --max-model-len that works here is 202,752" in " ".join(fit.stdout.split())


@pytest.mark.parametrize("bad", ["0", "-2", "9" * 40 + "k", "12.5K", "lots"])
def test_absurd_deployment_values_are_usage_errors_on_every_command(bad: str, tmp_path: Path) -> None:
    env = {"GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"}
    for command in (["run"], ["fit", "--gpu", "B200"], ["fix", "gpu.vram"]):
        completed = doctor(env, *command, "--max-model-len", bad)
        assert completed.returncode == 2, (command, completed.stderr)
        assert "Traceback" not in completed.stderr
    preflight = doctor(env, "preflight", "--", "vllm", "serve", "zai-org/GLM-5-FP8", "--max-model-len", bad)
    assert preflight.returncode == 2, preflight.stderr
    assert "Traceback" not in preflight.stderr


def _all_check_ids() -> list[str]:
    from glm5_doctor.engine.registry import load_registry

    return [item.id for item in load_registry(autoload_plugins=False).checks]


@pytest.mark.parametrize("check_id", _all_check_ids())
def test_fix_of_every_listed_check_exits_0_1_or_2(check_id: str, tmp_path: Path) -> None:
    env = {"GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    completed = doctor(env, "fix", check_id)
    assert completed.returncode in (0, 1, 2), completed.stderr
    assert "internal error" not in completed.stderr
    assert check_id in completed.stdout


def test_the_header_states_the_memory_inputs_the_verdict_used(target_env: TargetEnv) -> None:
    """vLLM >= 0.32 stores GLM-5's KV cache as fp8 on Blackwell: header, gpu.vram and fit all say so."""
    target_env.add_dist("vllm", "0.33.0")
    env = {"GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"}
    python = str(target_env.python)
    table = doctor(env, "run", "--python", python, "--gpu", "B200", "--select", "gpu.vram", "--max-model-len", "auto")
    assert "Context: --max-model-len auto of the checkpoint's 202,752 positions, KV cache fp8_e4m3" in table.stdout
    fit = doctor(env, "fit", "--python", python, "--gpu", "B200", "--format", "json")
    assert json.loads(fit.stdout)["kv_cache_dtype"] == "fp8_e4m3"
    older = doctor(env, "fit", "--gpu", "B200", "--format", "json")  # the doctor's own Python: no vLLM
    assert json.loads(older.stdout)["kv_cache_dtype"] == "auto"


def test_a_local_checkpoint_of_another_family_member_is_sized_from_its_own_files(
    fake_nvml: Path, tmp_path: Path
) -> None:
    """A GLM-5-family checkpoint the table does not know: 92 layers, 131,072 positions, 600 GiB in its index."""
    from helpers import GLM5_CONFIG, write_glm5_model

    model = tmp_path / "GLM-5-Next-FP8"
    write_glm5_model(model, shards=2, shard_bytes=1 << 20)
    config = {**GLM5_CONFIG, "num_hidden_layers": 92, "max_position_embeddings": 131072, "num_nextn_predict_layers": 1}
    (model / "config.json").write_text(json.dumps(config))
    index = json.loads((model / "model.safetensors.index.json").read_text())
    index["metadata"]["total_size"] = 600 * (1 << 30)
    (model / "model.safetensors.index.json").write_text(json.dumps(index))
    env = {"GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"}
    fit = doctor(env, "fit", "--model", str(model), "--gpu", "B200", "--gpus", "8", "--format", "json")
    numbers = json.loads(fit.stdout)
    assert numbers["max_position_embeddings"] == 131072
    assert numbers["kv_bytes_per_token"] == (1152 + 132) * 92  # its own 92 layers, bf16 latent + indexer keys
    weights = 600 * 92 / 93  # GiB: the index's total less the MTP layer's share (1 of 93 layers)
    replicated = weights * 2.10 / 694.9  # every TP rank's full copy, at GLM-5-FP8's share
    assert numbers["weights_gib_per_gpu"] == pytest.approx(replicated + (weights - replicated) / 8, abs=0.05)
    assert "its config.json and safetensors index" in numbers["model_source"]
    # vLLM, given no --max-model-len, takes this checkpoint's own limit (131,072): so does preflight
    report = tmp_path / "preflight.json"
    doctor(
        nvml_env(fake_nvml, scenario_lines("b200x8"), tmp_path / "nvml"),
        "preflight",
        "--format",
        "json",
        "--output",
        str(report),
        "--select",
        "gpu.vram,model.config",
        "--",
        "vllm",
        "serve",
        str(model),
        "-tp",
        "8",
    )
    results = by_id(json.loads(report.read_text()))
    assert results["model.config"]["status"] == "pass"
    assert results["gpu.vram"]["status"] == "pass"
    assert results["gpu.vram"]["evidence"]["max_model_len"] == 131072
