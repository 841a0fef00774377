"""Hostile input: each case here crashed, hung, leaked, left a process behind or ended green before.

Every case runs the real CLI in a subprocess, against real files, executables and environments.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from helpers import TargetEnv, by_id, doctor_env, make_toolkit, run_doctor, write_glm5_model

CANARY = "hunter2-canary-5ecret"


def doctor(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_doctor(*args, env=env if env is not None else doctor_env(), timeout=timeout)


def report_of(completed: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    return by_id(json.loads(completed.stdout))


def no_traceback(completed: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in completed.stderr and "internal error" not in completed.stderr, completed.stderr
    assert completed.returncode in (0, 1, 2), (completed.returncode, completed.stderr)


# --- no false green ------------------------------------------------------------------------------


def test_a_selection_that_cancels_out_is_a_usage_error_and_preflight_does_not_start(tmp_path: Path) -> None:
    completed = doctor("run", "--select", "gpu", "--ignore", "gpu")
    assert completed.returncode == 2 and "leaves no check to run" in completed.stderr
    marker = tmp_path / "started"
    vllm = tmp_path / "vllm"
    vllm.write_text(f"#!/bin/sh\ntouch {marker}\n")
    vllm.chmod(0o755)
    preflight = doctor("preflight", "--select", "host", "--ignore", "host", "--", str(vllm), "serve", "m")
    assert preflight.returncode == 2
    assert not marker.exists()


def test_fix_of_an_area_covers_its_failing_checks(target_env: TargetEnv) -> None:
    completed = doctor("fix", "vllm", "--python", str(target_env.python))
    assert completed.returncode == 1  # vLLM is not installed: the area's checks fail, shown not fixed
    assert "vllm.installed (fail)" in completed.stdout and "install-vllm.sh" in completed.stdout


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("import sys\nsys.exit(0)\n", "sys.exit(0)"),
        ("import time\ntime.sleep(120)\n", "did not finish within"),
        ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ],
)
def test_a_plugin_that_exits_blocks_or_interrupts_at_import_is_an_error_row(
    source: str, said: str, tmp_path: Path, target_env: TargetEnv
) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "evil_checks.py").write_text(source)
    dist = root / "evil_checks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evil-checks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[glm5_doctor.checks]\nevil = evil_checks\n")
    env = {k: v for k, v in doctor_env().items() if k != "GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = str(root)
    started = time.monotonic()
    completed = doctor("run", "--format", "json", "--python", str(target_env.python), "--select", "python", env=env)
    assert time.monotonic() - started < 30  # a hang guard, not a speed claim
    assert completed.returncode == 1, completed.stderr
    row = report_of(completed)["plugin.evil"]
    assert row["status"] == "error" and said in row["message"]


def test_an_nvcc_that_prints_a_release_but_exits_non_zero_is_not_a_pass(tmp_path: Path) -> None:
    release = (Path(__file__).parents[1] / "fixtures" / "nvcc" / "13.0.txt").read_text()
    (tmp_path / "release.txt").write_text(release)
    home = make_toolkit(tmp_path / "cuda", None, script=f"#!/bin/sh\ncat '{tmp_path / 'release.txt'}'\nexit 1\n")
    env = doctor_env(CUDA_HOME=str(home))
    completed = doctor("run", "--format", "json", "--gpu", "B200", "--select", "cuda.nvcc", env=env)
    row = report_of(completed)["cuda.nvcc"]
    assert row["status"] == "fail" and "exited with status 1" in row["message"]


# --- bad input degrades only the check that reads it ---------------------------------------------


def test_an_elf_offset_beyond_any_file_costs_only_the_cuda_build_check(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.19.1")
    package = target_env.site / "vllm"
    header = bytearray(64)
    header[:4], header[4], header[5] = b"\x7fELF", 2, 1
    header[40:48] = (2**64 - 1).to_bytes(8, "little")  # e_shoff: past what seek() can even express
    header[58:60], header[60:62] = (64).to_bytes(2, "little"), (3).to_bytes(2, "little")
    (package / "_C.abi3.so").write_bytes(bytes(header))
    completed = doctor("run", "--format", "json", "--python", str(target_env.python), "--select", "vllm")
    no_traceback(completed)
    results = report_of(completed)
    assert results["vllm.glm5-architecture"]["status"] == "pass"
    assert "outside any file" in json.dumps(results["vllm.cuda-build"])


def test_a_registry_nested_past_the_parser_is_an_invalid_file_not_a_crash(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.19.1")
    (target_env.site / "vllm" / "model_executor" / "models" / "registry.py").write_text(
        "x = " + "(" * 200_000 + ")" * 200_000
    )
    completed = doctor("run", "--format", "json", "--python", str(target_env.python), "--select", "vllm")
    no_traceback(completed)
    results = report_of(completed)
    assert results["vllm.installed"]["status"] == "pass"
    assert "not valid Python" in results["vllm.glm5-architecture"]["message"]


def test_a_huge_version_string_and_a_superscript_cuda_index_are_data_not_crashes(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "1.0")
    metadata = target_env.site / "vllm-1.0.dist-info" / "METADATA"
    metadata.write_text(metadata.read_text().replace("Version: 1.0", "Version: 1." + "9" * 5000))
    env = doctor_env(CUDA_VISIBLE_DEVICES="²")
    completed = doctor("run", "--format", "json", "--python", str(target_env.python), env=env)
    no_traceback(completed)
    assert report_of(completed)["vllm.installed"]["status"] in ("fail", "error")


def test_model_files_that_are_fifos_deep_json_or_list_headers_are_named(tmp_path: Path) -> None:
    model = tmp_path / "model"
    weight_map = write_glm5_model(model, shards=3, shard_bytes=1 << 20)
    shards = sorted(set(weight_map.values()))
    (model / shards[0]).unlink()
    os.mkfifo(model / shards[0])
    (model / shards[1]).write_bytes((2).to_bytes(8, "little") + b"[]")
    (model / "tokenizer_config.json").write_text("[" * 100_000 + "]" * 100_000)
    started = time.monotonic()
    completed = doctor("preflight", "--format", "json", "--select", "model", "--", "vllm", "serve", str(model))
    assert time.monotonic() - started < 20  # a FIFO shard used to block the probe for its whole deadline
    no_traceback(completed)
    report = by_id(json.loads(completed.stderr[: completed.stderr.rindex("}") + 1]))
    problems = json.dumps(report["model.files"])
    assert "not a regular file" in problems and "JSON list, not an object" in problems
    assert report["model.config"]["status"] == "pass"


def test_a_fifo_named_vllm_on_path_does_not_hang_preflight(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.mkfifo(bin_dir / "vllm")
    (bin_dir / "vllm").chmod(0o755)
    env = doctor_env(PATH=f"{bin_dir}:/usr/bin:/bin")
    completed = doctor("preflight", "--select", "python", "--", "vllm", "serve", "m", env=env, timeout=30)
    no_traceback(completed) if completed.returncode != 127 else None
    assert completed.returncode in (0, 1, 2, 127)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--max-model-len", "9" * 400 + "k"],
        ["fit", "--tp", "1" * 400],
        ["fix", "serve.tensor-parallel", "--", "vllm", "serve", "m", "-tp", "99999999999"],
        ["preflight", "--", "vllm", "serve", "m", "--speculative-config", "[" * 30_000 + "]" * 30_000],
        ["preflight", "--", "vllm", "serve", "m", "--port", "99999"],
    ],
)
def test_absurd_numbers_and_nesting_are_usage_errors(argv: list[str]) -> None:
    completed = doctor(*argv, timeout=30)
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr


# --- streams --------------------------------------------------------------------------------------


def test_output_the_terminal_encoding_cannot_show_is_escaped() -> None:
    env = doctor_env(PYTHONIOENCODING="ascii")
    completed = subprocess.run(
        [sys.executable, "-m", "glm5_doctor", "fit", "--gpu", "B200", "--gpus", "8"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert b"\\u2588" in completed.stdout  # the bar's blocks, escaped rather than fatal


def test_a_closed_stdout_still_gives_the_verdict_as_exit_code() -> None:
    script = f"{sys.executable} -m glm5_doctor run --select python >&-; echo $?"
    completed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=doctor_env(), check=False)
    assert completed.stdout.strip() in ("0", "1"), completed.stderr


def test_output_file_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous report")
    missing_dir = tmp_path / "nowhere" / "report.json"
    completed = doctor("run", "--select", "python", "--format", "json", "--output", str(missing_dir))
    assert completed.returncode == 2 and not missing_dir.exists()
    completed = doctor("run", "--select", "python", "--format", "json", "--output", str(target))
    assert json.loads(target.read_text())["results"][0]["id"] == "python.version"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".glm5-doctor-")] == []


# --- secrets --------------------------------------------------------------------------------------


def test_fix_previews_never_show_secrets_from_the_environment(target_env: TargetEnv) -> None:
    env = doctor_env(VLLM_SPEC=f"vllm @ https://deploy:{CANARY}@pypi.internal/vllm.whl")
    completed = doctor("fix", "vllm.installed", "--python", str(target_env.python), env=env)
    assert completed.returncode == 1
    assert "install-vllm.sh" in completed.stdout
    assert CANARY not in completed.stdout + completed.stderr


def test_a_python_usage_error_does_not_echo_its_secrets(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho 'token hf_{CANARY}abcdefgh and {CANARY}' >&2\nexit 3\n")
    fake.chmod(0o755)
    completed = doctor("run", "--python", str(fake), env=doctor_env(MY_API_KEY=CANARY))
    assert completed.returncode == 2
    assert CANARY not in completed.stderr and "not a Python interpreter" in completed.stderr


def test_credentials_in_a_model_url_do_not_leak_through_derived_paths() -> None:
    model = f"https://deploy:{CANARY}@models.internal/zai-org/GLM-5-FP8"
    completed = doctor("run", "--format", "json", "--model", model, "--select", "model,gpu.vram")
    assert CANARY not in completed.stdout + completed.stderr
    passed = doctor("preflight", "--format", "json", "--select", "model", "--", "vllm", "serve", model)
    assert CANARY not in passed.stdout + passed.stderr


def test_a_secret_option_value_starting_with_a_dash_is_still_a_secret() -> None:
    completed = doctor(
        "preflight", "--format", "json", "--select", "serve", "--", "vllm", "serve", "m", "--api-key", f"-{CANARY}"
    )
    assert CANARY not in completed.stdout + completed.stderr


def test_the_corrected_command_refers_to_the_key_the_shell_expands() -> None:
    completed = doctor(
        "fix",
        "serve.parsers",
        "--",
        "vllm",
        "serve",
        "zai-org/GLM-5-FP8",
        "--api-key",
        CANARY,
        "--tool-call-parser",
        "glm45",
    )
    assert CANARY not in completed.stdout + completed.stderr
    assert '--api-key "$VLLM_API_KEY"' in completed.stdout
    assert "'***'" not in completed.stdout


def test_control_characters_from_outside_strings_never_reach_the_terminal(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "0.19.1\x1b]0;pwned\x07\x1b[2J")
    env = doctor_env(VLLM_ATTENTION_BACKEND="FLASHMLA\x1b[2J")
    completed = doctor("run", "--python", str(target_env.python), "-v", env=env)
    assert "\x1b" not in completed.stdout and "\x07" not in completed.stdout
    assert "\\x1b" in completed.stdout


# --- no process left behind -----------------------------------------------------------------------


def _alive(pid_file: Path) -> bool:
    for _ in range(50):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        time.sleep(0.1)
    pid = int(pid_file.read_text())
    for _ in range(30):
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            return False
        time.sleep(0.1)
    return True


def test_a_hung_nvcc_and_its_children_are_killed_at_the_deadline(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nsleep 300\n"
    home = make_toolkit(tmp_path / "cuda", None, script=script)
    completed = doctor("run", "--gpu", "B200", "--select", "cuda.nvcc", env=doctor_env(CUDA_HOME=str(home)))
    assert completed.returncode == 1
    assert not _alive(pid_file), "the hung nvcc's child outlived the doctor"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_end_the_doctor_and_every_child(signum: int, code: int, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nsleep 300\n")
    fake.chmod(0o755)
    doctor_process = subprocess.Popen(
        [sys.executable, "-m", "glm5_doctor", "run", "--python", str(fake)],
        env=doctor_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        time.sleep(0.05)
    doctor_process.send_signal(signum)
    assert doctor_process.wait(timeout=10) == code
    assert not _alive(pid_file), "the --python child outlived the doctor"
