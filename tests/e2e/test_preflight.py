"""preflight: the real vllm serve command line read, judged, and then executed (or refused)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from glm5_doctor.deployment.serve_args import ServeArgsError, mask_secrets, parse_serve_command
from glm5_doctor.deployment.values import human_readable_int
from helpers import (
    WHEELS,
    TargetEnv,
    as_hub_cache,
    by_id,
    doctor_env,
    run_json,
    write_glm5_model,
)

SEED = "vllm serve zai-org/GLM-5-FP8 --tensor-parallel-size 8 --max-model-len 32768 --gpu-memory-utilization 0.90"
RECIPE = (
    "vllm serve zai-org/GLM-5-FP8 --tensor-parallel-size 8 --tool-call-parser glm47 --reasoning-parser glm45 "
    "--enable-auto-tool-choice --served-model-name glm-5-fp8 --speculative-config.method mtp "
    "--speculative-config.num_speculative_tokens 1"
)


# --- reading the command line ----------------------------------------------------------------------


def test_the_seed_command() -> None:
    serve = parse_serve_command(SEED.split())
    assert (serve.model, serve.tensor_parallel_size, serve.max_model_len, serve.gpu_memory_utilization) == (
        "zai-org/GLM-5-FP8",
        8,
        32768,
        0.9,
    )
    assert serve.launcher == "vllm serve"


def test_the_recipe_command_with_mtp_in_dotted_form() -> None:
    serve = parse_serve_command(RECIPE.split())
    assert serve.tool_call_parser == "glm47" and serve.reasoning_parser == "glm45"
    assert serve.enable_auto_tool_choice and serve.tool_calling
    assert serve.speculative_config == {"method": "mtp", "num_speculative_tokens": 1}
    assert serve.mtp
    assert serve.served_model_name == ("glm-5-fp8",)


def test_api_server_module_equals_forms_and_unknown_options() -> None:
    serve = parse_serve_command(
        [
            "python3",
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model=zai-org/GLM-5-FP8",
            "-tp",
            "8",
            "--max-num-seqs",
            "64",
            "--enable-expert-parallel",
            "--kv-cache-dtype=fp8",
            "--port=9000",
            "--speculative-config",
            '{"method": "mtp", "num_speculative_tokens": 3}',
        ]
    )
    assert serve.model == "zai-org/GLM-5-FP8" and serve.tensor_parallel_size == 8
    assert serve.kv_cache_dtype == "fp8" and serve.port == 9000
    assert serve.unknown_options == ("--max-num-seqs", "--enable-expert-parallel")
    assert serve.speculative_config == {"method": "mtp", "num_speculative_tokens": 3}


@pytest.mark.parametrize(
    ("text", "value"),
    [("32768", 32768), ("32k", 32000), ("32K", 32768), ("25.6k", 25600), ("1M", 1 << 20), ("-1", -1), ("auto", -1)],
)
def test_max_model_len_as_vllm_reads_it(text: str, value: int) -> None:
    assert human_readable_int(text, allow_auto=True) == value
    assert parse_serve_command(["vllm", "serve", "m", "--max-model-len", text]).max_model_len == value


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("vllm serve m --tensor-parallel-size", "needs a value"),
        ("vllm serve m -tp eight", "not an integer"),
        ("vllm serve m --gpu-memory-utilization 1.5", "(0, 1]"),
        ("vllm serve m --max-model-len 1.5K", "decimals are not allowed"),
        ("vllm serve m --speculative-config {nope", "not valid JSON"),
        ("bash -c vllm", "is not a vLLM server command"),
        ("vllm bench m", "is not a vLLM server command"),
    ],
)
def test_malformed_command_lines(argv: str, message: str) -> None:
    with pytest.raises(ServeArgsError, match=message.replace("(", r"\(").replace("]", r"\]")):
        parse_serve_command(argv.split())


def test_secret_option_values_are_masked_in_what_is_shown() -> None:
    assert mask_secrets(["vllm", "serve", "m", "--api-key", "sk-abc", "--hf-token=hf_x", "--port", "1"]) == [
        "vllm",
        "serve",
        "m",
        "--api-key",
        "***",
        "--hf-token=***",
        "--port",
        "1",
    ]


# --- the exec path ------------------------------------------------------------------------------------


def fake_vllm(bin_dir: Path, python: Path, record: Path, exit_code: int = 7) -> Path:
    """A harmless `vllm` whose shebang is the target env's Python: it records argv and PID, then exits."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "vllm"
    script.write_text(
        f"#!{python}\nimport json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps({{'argv': sys.argv, 'pid': os.getpid()}}))\n"
        f"print('server stdout')\nsys.exit({exit_code})\n"
    )
    script.chmod(0o755)
    return script


def preflight(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "glm5_doctor", "preflight", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or doctor_env(),
        stdin=subprocess.DEVNULL,
    )


def test_success_execs_the_command_with_the_same_pid_and_untouched_argv(target_env: TargetEnv, tmp_path: Path) -> None:
    record = tmp_path / "started.json"
    vllm = fake_vllm(tmp_path / "bin", target_env.python, record)
    command = [str(vllm), "serve", "zai-org/GLM-5-FP8", "-tp", "8", "--weird-flag", "x", "--max-model-len=32k"]
    process = preflight("--select", "serve.tensor-parallel", "--", *command)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 7, stderr  # the server's own exit status: the doctor became the server
    started = json.loads(record.read_text())
    assert started["pid"] == process.pid
    assert started["argv"] == command
    assert stdout == "server stdout\n", "the report must not reach the server's stdout"
    assert "serve.tensor-parallel" in stderr


def test_a_failed_check_refuses_the_launch(target_env: TargetEnv, tmp_path: Path) -> None:
    record = tmp_path / "started.json"
    vllm = fake_vllm(tmp_path / "bin", target_env.python, record)
    process = preflight("--select", "serve.tensor-parallel", "--", str(vllm), "serve", "zai-org/GLM-5-FP8", "-tp", "3")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert not record.exists()
    assert "must be divisible by tensor parallel size (3)" in stderr
    assert "not starting the server" in stderr


def test_warn_only_starts_anyway_and_json_report_is_kept(target_env: TargetEnv, tmp_path: Path) -> None:
    record = tmp_path / "started.json"
    report_file = tmp_path / "report.json"
    vllm = fake_vllm(tmp_path / "bin", target_env.python, record, exit_code=0)
    process = preflight(
        "--warn-only",
        "--format",
        "json",
        "--output",
        str(report_file),
        "--select",
        "serve,vllm",
        "--",
        str(vllm),
        "serve",
        "zai-org/GLM-5-FP8",
        "-tp",
        "3",
        "--api-key",
        "sk-canary-secret",
    )
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0
    assert record.exists()
    report = json.loads(report_file.read_text())
    assert by_id(report)["serve.tensor-parallel"]["status"] == "fail"
    assert report["target"]["python"] == str(target_env.python), "the env judged is the one in vllm's shebang"
    assert report["profile"]["serve"]["argv"][-1] == "***"
    assert "sk-canary-secret" not in report_file.read_text() + stderr


def test_a_command_that_cannot_start_exits_127(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "vllm"
    process = preflight("--select", "serve.tensor-parallel", "--", str(missing), "serve", "zai-org/GLM-5-FP8")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 127
    assert "cannot start" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "needs the server command after --"),
        (["--", "bash", "-c", "true"], "not a vLLM server command"),
        (["--", "vllm", "serve"], "names no model"),
    ],
)
def test_preflight_usage_errors(args: list[str], message: str) -> None:
    process = preflight(*args)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert message in stderr


# --- model files ----------------------------------------------------------------------------------------


def judge_model(target: TargetEnv, model: str, *extra: str, env: dict[str, str] | None = None) -> dict[str, dict]:
    command = ["vllm", "serve", model, "-tp", "8", *extra]
    with_cmd = ["--python", str(target.python), "--select", "model,serve", "--format", "json"]
    completed = subprocess.run(
        [sys.executable, "-m", "glm5_doctor", "preflight", *with_cmd, "--", *command],
        capture_output=True,
        text=True,
        env=env or doctor_env(),
        timeout=120,
        check=False,
    )
    assert completed.returncode in (0, 1, 127), completed.stderr
    return by_id(json.loads(completed.stderr[: completed.stderr.rindex("}") + 1]))


def test_a_complete_local_checkpoint(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_transformers_release("5.2.0")
    write_glm5_model(tmp_path / "GLM-5-FP8")
    results = judge_model(target_env, str(tmp_path / "GLM-5-FP8"), "--max-model-len", "32768")
    assert results["model.config"]["status"] == "pass", results["model.config"]
    assert results["model.files"]["status"] == "pass", results["model.files"]
    assert "all 3 shards complete" in results["model.files"]["message"]
    assert results["model.tokenizer"]["status"] == "pass"


def test_hub_cache_layout_with_missing_truncated_and_broken_shards(target_env: TargetEnv, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    write_glm5_model(staging, shards=4)
    snapshot = as_hub_cache(staging, tmp_path / "hub")
    (snapshot / "model-00001-of-00004.safetensors").unlink()  # never downloaded
    os.truncate(os.path.realpath(snapshot / "model-00002-of-00004.safetensors"), 4096)  # cut short
    os.unlink(os.path.realpath(snapshot / "model-00003-of-00004.safetensors"))  # blob gone, link left
    results = judge_model(target_env, "zai-org/GLM-5-FP8", env=doctor_env(HF_HUB_CACHE=str(tmp_path / "hub")))
    files = results["model.files"]
    assert files["status"] == "fail"
    problems = " ".join(files["evidence"]["problems"])
    assert "model-00001-of-00004.safetensors (missing)" in problems
    assert "model-00002-of-00004.safetensors (truncated: 4,096 of" in problems
    assert "model-00003-of-00004.safetensors (broken link (blob missing))" in problems
    assert files["evidence"]["path"] == str(snapshot)


def test_an_unfinished_download_warns(target_env: TargetEnv, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    write_glm5_model(staging)
    snapshot = as_hub_cache(staging, tmp_path / "hub")
    (snapshot.parent.parent / "blobs" / ("f" * 64 + ".incomplete")).write_bytes(b"partial")
    results = judge_model(target_env, "zai-org/GLM-5-FP8", env=doctor_env(HF_HOME=str(tmp_path)))
    assert results["model.files"]["status"] == "warn"
    assert "unfinished download" in results["model.files"]["message"]


def test_download_dir_is_where_vllm_looks(target_env: TargetEnv, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    write_glm5_model(staging)
    as_hub_cache(staging, tmp_path / "weights")
    results = judge_model(target_env, "zai-org/GLM-5-FP8", "--download-dir", str(tmp_path / "weights"))
    assert results["model.config"]["status"] == "pass"


def test_not_on_disk_and_offline(target_env: TargetEnv, tmp_path: Path) -> None:
    env = doctor_env(HF_HUB_CACHE=str(tmp_path / "empty-hub"), HF_HUB_OFFLINE="1")
    results = judge_model(target_env, "zai-org/GLM-5-FP8", env=env)
    assert results["model.files"]["status"] == "fail"
    assert "HF_HUB_OFFLINE" in results["model.files"]["message"]
    assert results["model.config"]["status"] == "skip"


def test_config_problems(target_env: TargetEnv, tmp_path: Path) -> None:
    model = tmp_path / "GLM-5-FP8"
    write_glm5_model(model)
    results = judge_model(target_env, str(model), "--max-model-len", "300000")
    assert results["model.config"]["status"] == "fail"
    assert "max_position_embeddings=202752" in results["model.config"]["message"]
    (model / "config.json").write_text("{not json")
    assert "not readable JSON" in judge_model(target_env, str(model))["model.config"]["message"]
    (model / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    assert "is not GLM-5" in judge_model(target_env, str(model))["model.config"]["message"]


def test_tokenizers_backend_needs_transformers_5(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_transformers_release("4.57.6")
    write_glm5_model(tmp_path / "GLM-5-FP8")
    tokenizer = judge_model(target_env, str(tmp_path / "GLM-5-FP8"))["model.tokenizer"]
    assert tokenizer["status"] == "fail"
    assert "TokenizersBackend does not exist" in tokenizer["message"]


def test_mtp_requested_on_a_checkpoint_without_the_mtp_layer(target_env: TargetEnv, tmp_path: Path) -> None:
    write_glm5_model(tmp_path / "GLM-5-NVFP4", mtp_layer=False)
    results = judge_model(target_env, str(tmp_path / "GLM-5-NVFP4"), "--speculative-config.method", "mtp")
    assert results["model.mtp-weights"]["status"] == "fail"
    assert "model.layers.78." in results["model.mtp-weights"]["message"]
    write_glm5_model(tmp_path / "GLM-5-NVFP4-MTP", mtp_layer=True)
    results = judge_model(target_env, str(tmp_path / "GLM-5-NVFP4-MTP"), "--speculative-config.method", "mtp")
    assert results["model.mtp-weights"]["status"] == "pass"


# --- serve arguments and host -----------------------------------------------------------------------------


def test_parsers_against_the_installed_vllm(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_vllm_release("0.16.0")
    registry = (WHEELS / "vllm-0.16.0/vllm/tool_parsers/__init__.py").read_text()
    parsers = target_env.site / "vllm" / "tool_parsers"
    parsers.mkdir()
    (parsers / "__init__.py").write_text(registry)
    ok = judge_model(target_env, "zai-org/GLM-5-FP8", "--tool-call-parser", "glm47", "--enable-auto-tool-choice")
    assert ok["serve.parsers"]["status"] == "pass"
    wrong = judge_model(target_env, "zai-org/GLM-5-FP8", "--tool-call-parser", "glm45", "--enable-auto-tool-choice")
    assert "glm45 is GLM-4.5's tool format" in wrong["serve.parsers"]["message"]
    # An older registry without the GLM-4.7 parser (the real 0.16.0 file with that entry removed):
    (parsers / "__init__.py").write_text(registry.replace('"glm47"', '"removed"'))
    missing = judge_model(target_env, "zai-org/GLM-5-FP8", "--tool-call-parser", "glm47")
    assert "invalid choice: 'glm47'" in missing["serve.parsers"]["message"]
    assert (
        judge_model(target_env, "zai-org/GLM-5-FP8", "--enable-auto-tool-choice")["serve.parsers"]["status"] == "fail"
    )


def test_serve_argument_warnings(target_env: TargetEnv) -> None:
    results = judge_model(
        target_env,
        "zai-org/GLM-5-FP8",
        "--tool-call-parser",
        "glm47",
        "--enable-auto-tool-choice",
        "--speculative-config.method",
        "mtp",
        "--trust-remote-code",
        env=doctor_env(VLLM_ATTENTION_BACKEND="FLASHMLA_SPARSE"),
    )
    assert results["serve.chat-template-format"]["status"] == "warn"
    assert results["serve.mtp-with-tools"]["status"] == "warn"
    assert results["serve.attention-backend-env"]["status"] == "warn"
    assert "--attention-backend FLASHMLA_SPARSE" in results["serve.attention-backend-env"]["message"]
    assert results["serve.trust-remote-code"]["status"] == "pass"
    assert "not needed" in results["serve.trust-remote-code"]["message"]


def test_fp8_e4m3_kv_cache_on_hopper_fails(target_env: TargetEnv, tmp_path: Path) -> None:
    from helpers import build_fake_nvml, nvml_env, scenario_lines

    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the fake NVML library")
    library = build_fake_nvml(tmp_path / "nvml-lib")
    env = nvml_env(library, scenario_lines("h200x8"), tmp_path / "nvml")
    result = judge_model(target_env, "zai-org/GLM-5-FP8", "--kv-cache-dtype", "fp8_e4m3", env=env)
    assert result["serve.kv-cache-dtype"]["status"] == "fail"
    assert "NVIDIA H200" in result["serve.kv-cache-dtype"]["message"]


def test_port_held_by_a_real_listener(target_env: TargetEnv) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        command = ["vllm", "serve", "zai-org/GLM-5-FP8", "--host", "127.0.0.1", "--port", str(port)]
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "glm5_doctor",
                "preflight",
                "--select",
                "host.port",
                "--format",
                "json",
                "--",
                *command,
            ],
            capture_output=True,
            text=True,
            env=doctor_env(),
            timeout=60,
            check=False,
        )
    result = by_id(json.loads(completed.stderr[: completed.stderr.rindex("}") + 1]))["host.port"]
    assert result["status"] == "fail"
    assert f"127.0.0.1:{port}: address already in use" in result["message"]
    assert completed.returncode == 1


def test_run_without_a_command_skips_serve_checks(target_env: TargetEnv) -> None:
    _, report = run_json("--python", str(target_env.python), "--select", "serve")
    statuses = {r["id"]: r["status"] for r in report["results"]}
    assert statuses["serve.parsers"] == "skip"
    assert statuses["serve.attention-backend-env"] == "pass"
