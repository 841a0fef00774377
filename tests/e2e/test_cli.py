"""The command line as a user runs it: exit codes, formats, selection, bad input, secrets."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from helpers import TargetEnv, by_id, make_env, pyenv_python, run_doctor, run_json


def test_version_and_help_document_exit_codes() -> None:
    version = run_doctor("--version")
    assert version.returncode == 0 and version.stdout.startswith("glm5-doctor 0.")
    helped = run_doctor("--help")
    assert helped.returncode == 0
    for line in ("0  no fail or error", "1  at least one fail", "2  usage error", "3  internal error"):
        assert line in helped.stdout
    assert "2  usage error" in run_doctor("run", "--help").stdout


def test_json_report_validates_against_the_printed_schema(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.15.1")
    schema = json.loads(run_doctor("schema").stdout)
    code, report = run_json("--python", str(target_env.python))
    jsonschema.validate(report, schema)
    assert code == 1
    assert report["summary"]["ok"] is False
    assert report["target"]["python"] == str(target_env.python)
    assert report["profile"]["model"] == "zai-org/GLM-5-FP8" and report["profile"]["tensor_parallel_size"] == 8
    ids = [result["id"] for result in report["results"]]
    listed = [line.split()[0] for line in run_doctor("list").stdout.splitlines()]
    assert ids == listed, "results come in catalog order"
    assert ids[:5] == [
        "python.version",
        "vllm.installed",
        "vllm.glm5-architecture",
        "vllm.dependencies",
        "vllm.cuda-build",
    ]


def test_schema_rejects_a_report_that_breaks_the_contract() -> None:
    schema = json.loads(run_doctor("schema").stdout)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema_version": 1, "results": [{"id": "x", "status": "great"}]}, schema)


def test_exit_code_zero_when_only_warnings_one_under_strict(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.18.0")
    target_env.add_transformers_release("5.4.0")
    args = ("--python", str(target_env.python), "--select", "transformers.vllm-pin")
    code, report = run_json(*args)
    assert by_id(report)["transformers.vllm-pin"]["status"] == "warn"
    assert [r["id"] for r in report["results"]] == ["vllm.installed", "transformers.vllm-pin"]
    assert code == 0 and report["summary"]["ok"] is True
    strict_code, strict_report = run_json(*args, "--strict")
    assert strict_code == 1 and strict_report["summary"]["ok"] is False


def test_select_and_ignore_by_area_and_id(target_env: TargetEnv) -> None:
    _, report = run_json("--python", str(target_env.python), "--select", "vllm", "--ignore", "vllm.dependencies")
    ids = [r["id"] for r in report["results"]]
    assert ids == [
        "vllm.installed",
        "vllm.glm5-architecture",
        "vllm.cuda-build",
        "vllm.optional-imports",
        "vllm.torch-abi",
        "vllm.stack-import",
    ]


def test_ignoring_a_requirement_lets_the_dependent_judge_alone(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.15.1")
    _, report = run_json(
        "--python", str(target_env.python), "--select", "vllm.glm5-architecture", "--ignore", "vllm.installed"
    )
    assert [r["id"] for r in report["results"]] == ["vllm.glm5-architecture"]
    assert report["results"][0]["status"] == "fail"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--select", "nosuch"], "no check matches 'nosuch'"),
        (["run", "--format", "xml"], "invalid choice"),
        (["explain", "nosuch.check"], "unknown check"),
        (["run", "--python", "/does/not/exist"], "no such file"),
        (["run", "--python", "/bin/true"], "not a Python interpreter"),
        (["run", "--output", "/does/not/exist/report.json"], "--output"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_no_traceback(args: list[str], expected: str) -> None:
    completed = run_doctor(*args)
    assert completed.returncode == 2, completed
    assert expected in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout


def test_python_that_is_a_script_printing_garbage_is_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_bytes(b"#!/bin/sh\nprintf '\\377\\376 not json'\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    completed = run_doctor("run", "--python", str(fake))
    assert completed.returncode == 2
    assert "not a Python interpreter" in completed.stderr


def test_python_that_hangs_is_given_up_on(tmp_path: Path) -> None:
    """In-process with the interpreter timeout shortened: the hang becomes a clear InterpreterError."""
    from glm5_doctor.probes import interpreter as base

    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    original = base.INTERPRETER_TIMEOUT_S
    base.INTERPRETER_TIMEOUT_S = 0.5
    try:
        with pytest.raises(base.InterpreterError, match="did not answer within"):
            base.describe_interpreter(str(fake), dict(os.environ))
    finally:
        base.INTERPRETER_TIMEOUT_S = original


def test_python2_target_is_refused_cleanly() -> None:
    python2 = pyenv_python("2.7")
    if python2 is None:
        pytest.skip("no Python 2.7 on this machine")
    completed = run_doctor("run", "--python", python2)
    assert completed.returncode == 2
    assert "not a Python interpreter the doctor can use" in completed.stderr


def test_old_python_target_fails_python_version(tmp_path: Path) -> None:
    python39 = pyenv_python("3.9")
    if python39 is None:
        pytest.skip("no Python 3.9 on this machine")
    env = make_env(tmp_path / "py39", python39)
    env.add_vllm_release("0.33.0")
    _, report = run_json("--python", str(env.python), "--select", "python.version")
    result = by_id(report)["python.version"]
    assert result["status"] == "fail"
    assert "Python 3.9" in result["message"] and "<3.15,>=3.11" in result["message"]
    assert "3.12" in result["message"]


def test_requires_python_excluding_the_target_fails(target_env: TargetEnv) -> None:
    dist_info = target_env.add_vllm_release("0.33.0")
    metadata = (dist_info / "METADATA").read_text().replace("Requires-Python: <3.15,>=3.11", "Requires-Python: >=3.99")
    (dist_info / "METADATA").write_text(metadata)
    _, report = run_json("--python", str(target_env.python), "--select", "python.version")
    assert by_id(report)["python.version"]["status"] == "fail"


def test_output_file_gets_the_report_and_stdout_stays_empty(target_env: TargetEnv, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    completed = run_doctor("run", "--format", "json", "--output", str(out), "--python", str(target_env.python))
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert json.loads(out.read_text())["schema_version"] == 1


def test_table_is_plain_without_a_terminal_and_groups_results(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.15.1")
    completed = run_doctor("run", "--python", str(target_env.python))
    text = completed.stdout
    assert completed.returncode == 1
    assert "\x1b[" not in text, "ANSI codes in non-terminal output"
    assert "Python stack (vLLM, transformers)" in text
    assert "FAIL" in text and "vllm.glm5-architecture" in text
    assert "fix: glm5-doctor fix vllm.glm5-architecture  (install-vllm.sh)" in text
    assert "NOT READY" in text.splitlines()[-2]
    assert all(line == line.rstrip() for line in text.splitlines())


def test_verbose_table_shows_evidence(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.16.0")
    text = run_doctor("run", "-v", "--python", str(target_env.python), "--select", "vllm.glm5-architecture").stdout
    assert "registered_module: deepseek_v2" in text


def test_list_and_explain_and_fix_show(target_env: TargetEnv) -> None:
    listing = run_doctor("list").stdout
    assert "vllm.glm5-architecture" in listing and "install-vllm.sh" in listing
    explained = run_doctor("explain", "transformers.vllm-pin").stdout
    for section in ("What it checks:", "Why it matters:", "How to fix:", "Sources:"):
        assert section in explained
    shown = run_doctor("fix", "vllm.installed", "--python", str(target_env.python))
    assert shown.returncode == 1, "showing a fix fixes nothing: the check still fails"
    assert "fix: install-vllm.sh" in shown.stdout and "what it would do here (DRY_RUN=1)" in shown.stdout
    assert f"PYTHON={target_env.python}" in shown.stdout


def test_no_subcommand_means_run(target_env: TargetEnv) -> None:
    completed = run_doctor("--format", "json", "--python", str(target_env.python))
    assert json.loads(completed.stdout)["schema_version"] == 1


CANARIES = {
    "HF_TOKEN": "hf_CanaryTokenValue0123456789abcd",
    "SOME_SETTING": "uses hf_AnotherCanary9876543210zyxw inside",
    "PIP_INDEX_URL": "https://canaryuser:canarypass@pypi.example.com/simple",
    "MY_API_KEY": "plain-canary-key-value",
}


def test_secrets_never_reach_any_output_format(target_env: TargetEnv, tmp_path: Path) -> None:
    """Canaries planted in the environment, in a git URL with credentials and in a plugin's evidence."""
    target_env.add_vllm_release(
        "0.16.0",
    )
    target_env.add_transformers_release(
        "5.2.0",
        version="5.3.0.dev0",
        direct_url={
            "url": "https://canaryuser:canarypass@github.com/huggingface/transformers.git",
            "vcs_info": {"vcs": "git", "commit_id": "abcdef"},
        },
    )
    plugin_dir = tmp_path / "plugins"
    (plugin_dir / "leaky_checks.py").parent.mkdir()
    (plugin_dir / "leaky_checks.py").write_text(
        "import os\n"
        "from glm5_doctor import check, Outcome\n"
        "@check('leaky.env', title='dumps the environment', category='plugins')\n"
        "def dump(facts, profile):\n"
        "    return Outcome.failed('env: ' + ' '.join(f'{k}={v}' for k, v in os.environ.items()), dict(os.environ))\n"
    )
    dist_info = plugin_dir / "leaky_checks-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: leaky-checks\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[glm5_doctor.checks]\nleaky = leaky_checks\n")
    env = {k: v for k, v in os.environ.items() if k != "GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"}
    env.update(CANARIES)
    env["PYTHONPATH"] = str(plugin_dir)
    outputs = []
    for extra in (["--format", "json"], ["--format", "table", "-v"]):
        completed = run_doctor("run", "--python", str(target_env.python), *extra, env=env)
        outputs.append(completed.stdout + completed.stderr)
    report = json.loads(outputs[0][: outputs[0].rindex("}") + 1])
    assert by_id(report)["leaky.env"]["status"] == "fail", "the plugin must have run for this test to mean anything"
    assert by_id(report)["transformers.glm-moe-dsa"]["evidence"]["source"].startswith("git https://***@github.com")
    for output in outputs:
        for secret in (
            "hf_CanaryTokenValue0123456789abcd",
            "hf_AnotherCanary9876543210zyxw",
            "canarypass",
            "canaryuser",
            "plain-canary-key-value",
        ):
            assert secret not in output


def test_runs_with_python_m_and_console_script_agree(target_env: TargetEnv) -> None:
    script = Path(sys.executable).parent / "glm5-doctor"
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    completed = subprocess.run(
        [str(script), "run", "--format", "json", "--python", str(target_env.python)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["target"]["python"] == str(target_env.python)


def test_default_target_is_the_running_interpreter_without_the_working_directory(tmp_path: Path) -> None:
    """``python -m`` puts the working directory first on sys.path; ``vllm serve`` would not see it."""
    decoy = tmp_path / "vllm"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("")
    completed = subprocess.run(
        [sys.executable, "-m", "glm5_doctor", "run", "--format", "json", "--select", "vllm.installed"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    report = json.loads(completed.stdout)
    assert report["target"]["python"] == sys.executable
    result = by_id(report)["vllm.installed"]
    assert str(decoy) not in json.dumps(result)


def test_report_captured_on_a_real_h200_still_meets_the_schema() -> None:
    """Output of ``glm5-doctor run --format json`` on a real H200 node (tests/fixtures/real/h200-gvisor):
    the contract still holds for it, and its verdicts are the ones that machine deserves."""
    real = json.loads((Path(__file__).parents[1] / "fixtures/real/h200-gvisor/run.json").read_text())
    jsonschema.validate(real, json.loads(run_doctor("schema").stdout))
    results = by_id(real)
    assert results["transformers.glm-moe-dsa"]["evidence"]["version"] == "5.17.0"
    assert results["torch.cuda-build"]["message"] == "torch 2.11.0+cu130, a CUDA 13.0 build"
    assert results["gpu.driver"]["evidence"]["driver"] == "580.159.04"
    assert results["gpu.count"]["message"] == "1 GPU(s) visible, but TP 8 x PP 1 needs 8"
    assert results["gpu.fabric"]["status"] == "skip"
    assert results["gpu.vram"]["evidence"]["kv_tokens"] == 312206  # nvml-blackwell-memory.md C.5: ~312 k
    catalog = [line.split()[0] for line in run_doctor("list").stdout.splitlines()]
    real_ids = [r["id"] for r in real["results"]]
    assert [check_id for check_id in catalog if check_id in real_ids] == real_ids, "IDs stable, catalog order kept"


def test_colour_on_a_forced_terminal_and_no_color_turns_it_off(target_env: TargetEnv) -> None:
    """FORCE_COLOR makes rich treat the pipe as a terminal; NO_COLOR then drops the colours (bold stays)."""
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NO_COLOR")}
    base["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = ("run", "--python", str(target_env.python), "--select", "python.version")
    coloured = run_doctor(*args, env={**base, "FORCE_COLOR": "1"}).stdout
    plain = run_doctor(*args, env={**base, "FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert "\x1b[32mPASS" in coloured
    assert "\x1b[32m" not in plain and "PASS" in plain
