"""``glm5-doctor triage`` as a user runs it: files, stdin pipes that stay open, exit codes, JSON, the
confirmation on a real target environment, and a 200 MB log streamed through a pipe in bounded memory."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from helpers import TargetEnv, run_doctor

FIXTURES = Path(__file__).parent.parent / "fixtures" / "triage" / "constructed"
DOCTOR = [sys.executable, "-m", "glm5_doctor", "triage"]


def env() -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    values["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return values


def test_a_file_names_the_cause_the_check_the_evidence_and_the_fix() -> None:
    completed = run_doctor("triage", "--no-confirm", str(FIXTURES / "deepgemm.unavailable.log"))
    assert completed.returncode == 1, completed.stderr
    out = completed.stdout
    assert "FAILED: DeepGEMM is missing" in out
    assert "deepgemm.installed" in out and "GLM5-ADV-0017" in out
    assert "| RuntimeError: DeepGEMM backend is not available or outdated" in out
    assert "\x1b[" not in out
    assert "Fix:         glm5-doctor fix deepgemm.installed" in out
    assert "zai-org/GLM-5-FP8 TP=8, vLLM 0.16.0 (read from the log)" in out


def test_json_for_automation_and_an_advisory_workaround_when_no_check_fix() -> None:
    completed = run_doctor("triage", "--no-confirm", "--format", "json", str(FIXTURES / "lmcache.sparse-kv-shape.log"))
    assert completed.returncode == 1
    document = json.loads(completed.stdout)
    assert document["status"] == "cause-found"
    assert document["cause"]["signature"] == "lmcache.sparse-kv-shape"
    assert [a["id"] for a in document["cause"]["advisories"]] == ["GLM5-ADV-0003"]
    assert document["cause"]["fix"]["workaround"].startswith("Drop --kv-transfer-config")
    assert document["confirmation"]["status"] == "not-run"


def test_no_failure_is_exit_0_and_unknown_failure_is_said_plainly(tmp_path: Path) -> None:
    healthy = tmp_path / "ok.log"
    healthy.write_text("INFO 02-25 10:00:00 [api_server.py:1] Starting vLLM API server 0 on http://0.0.0.0:8000\n")
    completed = run_doctor("triage", str(healthy))
    assert (completed.returncode, completed.stdout) == (0, "No failure in the log (1 lines read).\n")
    unknown = tmp_path / "unknown.log"
    unknown.write_text(
        "(EngineCore_DP0 pid=9) ERROR 02-25 10:00:01 [core.py:866] Traceback (most recent call last):\n"
        "(EngineCore_DP0 pid=9) ERROR 02-25 10:00:01 [core.py:866] KeyError: 'model.layers.78.eh_proj.weight'"
    )
    completed = run_doctor("triage", str(unknown))
    assert completed.returncode == 1
    assert "FAILED, cause not recognised (2 lines read; the log ends mid-line: truncated)." in completed.stdout
    assert "  | KeyError: 'model.layers.78.eh_proj.weight'" in completed.stdout
    assert "glm5-doctor run" in completed.stdout
    document = json.loads(run_doctor("triage", "--format", "json", str(unknown)).stdout)
    assert document["status"] == "unknown-failure" and document["next_step"] == "glm5-doctor run"


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    completed = run_doctor("triage", str(tmp_path / "missing.log"))
    assert completed.returncode == 2 and "No such file or directory" in completed.stderr
    assert run_doctor("triage", "--format", "junit", "-").returncode == 2


def test_secrets_in_the_log_are_redacted(tmp_path: Path) -> None:
    log = tmp_path / "secret.log"
    token = "hf_" + "a" * 34
    log.write_text(
        f"(APIServer pid=1) Traceback (most recent call last):\n(APIServer pid=1) OSError: [Errno 98] Address "
        f"already in use HF_TOKEN={token}\n"
    )
    completed = run_doctor("triage", "--no-confirm", str(log))
    assert completed.returncode == 1 and "host.port" in completed.stdout
    assert token not in completed.stdout


def test_stdin_speaks_as_soon_as_the_fatal_line_arrives_while_the_pipe_stays_open() -> None:
    process = subprocess.Popen([*DOCTOR, "--no-confirm", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env())
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write((FIXTURES / "nccl.shm-too-small.log").read_bytes())
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no finding before EOF"
        first = process.stdout.readline().decode()
        assert first.startswith("FAILED: NCCL could not create its shared-memory segment")
        assert process.poll() is None  # still reading: the writer never sees a closed pipe
        process.stdin.write(b"(VllmWorker rank=1 pid=2) INFO 02-25 10:00:00 [x.py:1] more output\n" * 1000)
        process.stdin.close()
        rest = process.stdout.read().decode()
        assert "host.shm" in rest
        assert process.wait(timeout=60) == 1
    finally:
        if process.poll() is None:
            process.kill()


def test_confirmation_rejudges_the_implicated_check_in_the_real_target_env(target_env: TargetEnv) -> None:
    target_env.add_transformers_release("5.1.0")
    completed = run_doctor(
        "triage",
        "--format",
        "json",
        "--python",
        str(target_env.python),
        str(FIXTURES / "transformers.glm-moe-dsa-unknown.log"),
    )
    document = json.loads(completed.stdout)
    confirmation = document["confirmation"]
    statuses = {result["id"]: result["status"] for result in confirmation["results"]}
    assert statuses["transformers.glm-moe-dsa"] == "fail", confirmation
    assert confirmation["status"] == "still-present"
    assert document["deployment"]["profile"]["tensor_parallel_size"] == 8


def test_confirmation_says_when_the_cause_is_gone(target_env: TargetEnv) -> None:
    target_env.add_transformers_release("5.2.0")
    completed = run_doctor(
        "triage",
        "--python",
        str(target_env.python),
        "--format",
        "json",
        str(FIXTURES / "transformers.tokenizers-backend-missing.log"),
    )
    confirmation = json.loads(completed.stdout)["confirmation"]
    statuses = {result["id"]: result["status"] for result in confirmation["results"]}
    assert statuses["transformers.glm-moe-dsa"] == "pass", confirmation


def test_a_200_mb_log_through_a_pipe_in_bounded_memory() -> None:
    """Peak RSS of the child stays bounded while 200 MB (with a 1 MB line without newline) stream through."""
    process = subprocess.Popen(
        [*DOCTOR, "--no-confirm", "--format", "json", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env(),
    )
    assert process.stdin is not None and process.stdout is not None
    child = psutil.Process(process.pid)
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                peak[0] = max(peak[0], child.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    block = (
        b"(VllmWorker rank=3 pid=4182) INFO 02-25 10:41:07 [gpu_model_runner.py:2100] "
        b"\x1b[32mModel loading took 89.7 GiB memory and 312.4 seconds\x1b[0m\n"
        b"(EngineCore_DP0 pid=3907) WARNING 02-25 10:41:07 [core.py:500] step took 12 ms\n"
    ) * 2000
    try:
        written = 0
        process.stdin.write(b"x" * (1 << 20))  # one huge line without a newline
        while written < 200 << 20:
            process.stdin.write(block)
            written += len(block)
        process.stdin.write((FIXTURES / "memory.no-cache-blocks.log").read_bytes())
        process.stdin.close()
        document = json.loads(process.stdout.read())
        assert process.wait(timeout=600) == 1
    finally:
        done.set()
        watcher.join()
        if process.poll() is None:
            process.kill()
    assert document["cause"]["signature"] == "memory.no-cache-blocks"
    assert document["lines_read"] > 1_500_000
    assert peak[0] < 150 << 20, f"peak RSS {peak[0] >> 20} MiB"


def test_a_log_ending_inside_a_wrapped_message_still_names_the_cause_once(tmp_path: Path) -> None:
    """The GLM-5#13 shape: the error pasted over many lines, and nothing after it."""
    log = tmp_path / "wrapped.log"
    log.write_text(
        "ValueError: No valid attention backend found for cuda with\n"
        "AttentionSelectorConfig(head_size=576, dtype=torch.bfloat16, kv_cache_dtype=auto,\n"
        "use_mla=True, use_sparse=True).\n"
        "Reasons: {FLASHMLA_SPARSE: [compute capability not supported]}\n"
    )
    completed = run_doctor("triage", "--no-confirm", "--format", "json", str(log))
    assert completed.returncode == 1, completed.stderr
    document = json.loads(completed.stdout)
    assert document["cause"]["signature"] == "attention.no-sparse-backend"
    assert document["cause"]["line_number"] == 1
