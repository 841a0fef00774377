"""glm5-doctor fix: shown with this machine's values, run only with consent, verified afterwards.

The real runs install small stand-in wheels, built here from the real vLLM/transformers files,
into a throwaway venv with pip from a local folder (PIP_NO_INDEX): never the network.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import os
import pty
import select
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from glm5_doctor.engine.check import Fix
from glm5_doctor.engine.registry import load_registry
from glm5_doctor.engine.results import Outcome, Report, Result, Status
from glm5_doctor.remedies import corrected_serve_command, script_file, script_header, shipped_scripts
from helpers import WHEELS, TargetEnv, by_id, doctor_env, run_doctor

REGISTRY = load_registry(autoload_plugins=False)


def build_wheel(directory: Path, name: str, version: str, files: dict[str, str], requires: list[str]) -> Path:
    """A real, installable wheel (METADATA, WHEEL, RECORD with hashes) holding ``files``."""
    dist = f"{name.replace('-', '_')}-{version}"
    wheel = directory / f"{dist}-py3-none-any.whl"
    entries = dict(files)
    entries[f"{dist}.dist-info/METADATA"] = (
        "\n".join(
            [
                "Metadata-Version: 2.1",
                f"Name: {name}",
                f"Version: {version}",
                *[f"Requires-Dist: {r}" for r in requires],
            ]
        )
        + "\n"
    )
    entries[f"{dist}.dist-info/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: glm5-doctor-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for path, text in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}.dist-info/RECORD,,")
    entries[f"{dist}.dist-info/RECORD"] = "\n".join(record) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in entries.items():
            archive.writestr(path, text)
    return wheel


def standin_wheels(directory: Path) -> Path:
    """vllm 0.19.1 (real registry.py and pin) and transformers 4.57.6 / 5.5.1 (real glm_moe_dsa files)."""
    registry = (WHEELS / "vllm-0.19.1/vllm/model_executor/models/registry.py").read_text()
    build_wheel(
        directory,
        "vllm",
        "0.19.1",
        {
            "vllm/__init__.py": "",
            "vllm/model_executor/models/registry.py": registry,
            "vllm/model_executor/models/deepseek_v2.py": "class GlmMoeDsaForCausalLM:\n    pass\n",
        },
        ["transformers!=5.0.*,!=5.1.*,!=5.2.*,!=5.3.*,!=5.4.*,!=5.5.0,>=4.56.0"],
    )
    build_wheel(directory, "transformers", "4.57.6", {"transformers/__init__.py": ""}, [])
    glm = {
        f"transformers/models/glm_moe_dsa/{p.name}": p.read_text()
        for p in (WHEELS / "transformers-5.2.0/transformers/models/glm_moe_dsa").iterdir()
    }
    build_wheel(directory, "transformers", "5.5.1", {"transformers/__init__.py": "", **glm}, [])
    return directory


def offline_pip(wheels: Path, **extra: str) -> dict[str, str]:
    return doctor_env(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_CONSTRAINT=None,
        PIP_CONFIG_FILE="/dev/null",
        **extra,
    )


@pytest.fixture
def pip_env(tmp_path: Path) -> TargetEnv:
    """A venv with pip (the fixes run "$PYTHON -m pip")."""
    root = tmp_path / "pipvenv"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, capture_output=True)
    python = root / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return TargetEnv(root, python, Path(site))


@pytest.mark.slow
def test_transformers_fix_really_installs_the_window_and_a_second_run_changes_nothing(
    pip_env: TargetEnv, tmp_path: Path
) -> None:
    wheels = standin_wheels(tmp_path / "wheels")
    env = offline_pip(wheels)
    subprocess.run(
        [str(pip_env.python), "-m", "pip", "install", "-q", "vllm==0.19.1", "transformers==4.57.6"],
        env=env,
        check=True,
        capture_output=True,
    )
    shown = run_doctor("fix", "transformers.vllm-pin", "--python", str(pip_env.python), env=env)
    assert shown.returncode == 1, shown.stderr
    assert "TRANSFORMERS_SPEC='transformers>=5.5.1'" in shown.stdout
    assert "pip install transformers\\>=5.5.1" in shown.stdout, "the dry run shows the exact command"
    ran = run_doctor("fix", "transformers.vllm-pin", "--run", "--yes", "--python", str(pip_env.python), env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "transformers.vllm-pin now pass" in ran.stdout
    marker = next(pip_env.site.glob("transformers-5.5.1.dist-info"))
    before = marker.stat().st_mtime_ns
    again = run_doctor("fix", "transformers.vllm-pin", "--run", "--yes", "--python", str(pip_env.python), env=env)
    assert again.returncode == 0
    assert "nothing to fix" in again.stdout
    assert marker.stat().st_mtime_ns == before


@pytest.mark.slow
def test_vllm_fix_installs_into_the_target_env_and_the_check_passes(pip_env: TargetEnv, tmp_path: Path) -> None:
    wheels = standin_wheels(tmp_path / "wheels")
    env = offline_pip(wheels)
    ran = run_doctor("fix", "vllm.installed", "--run", "--yes", "--python", str(pip_env.python), env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "vllm.installed now pass" in ran.stdout
    assert any(pip_env.site.glob("vllm-0.19.1.dist-info"))
    second = run_doctor("fix", "vllm.installed", "--run", "--yes", "--python", str(pip_env.python), env=env)
    assert "nothing to fix" in second.stdout


def test_dry_run_changes_nothing(target_env: TargetEnv) -> None:
    before = sorted(p.name for p in target_env.site.iterdir())
    completed = run_doctor("fix", "vllm.installed", "--dry-run", "--python", str(target_env.python))
    assert "+ " in completed.stdout and "pip install --upgrade vllm\\>=0.16.0" in completed.stdout
    assert sorted(p.name for p in target_env.site.iterdir()) == before


def test_run_is_refused_without_a_terminal_or_yes(target_env: TargetEnv) -> None:
    completed = run_doctor("fix", "vllm.installed", "--run", "--python", str(target_env.python))
    assert completed.returncode == 2
    assert "without a terminal" in completed.stderr


def test_the_confirmation_prompt_on_a_pseudo_terminal(target_env: TargetEnv) -> None:
    """Driven through a real pty: the prompt appears, "n" declines, nothing is installed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "glm5_doctor", "fix", "vllm.installed", "--run", "--python", str(target_env.python)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=doctor_env(),
        close_fds=True,
    )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 60
    while b"[y/N]" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1)
        if ready:
            try:
                seen += os.read(controller, 4096)
            except OSError:
                break
    assert b"Run install-vllm.sh now? [y/N]" in seen, seen.decode(errors="replace")
    os.write(controller, b"n\n")
    process.wait(timeout=60)
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                break
            seen += os.read(controller, 4096)
    except OSError:
        pass
    os.close(controller)
    assert process.returncode == 1
    assert b"not run" in seen
    assert not any(target_env.site.glob("vllm-*.dist-info"))


def test_all_failing_lists_fixes_in_dependency_order(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.15.1")
    target_env.add_transformers_release("4.57.6")
    completed = run_doctor("fix", "--all-failing", "--python", str(target_env.python), "--gpu", "B200")
    assert completed.returncode == 1
    text = completed.stdout
    assert text.index("fix: install-vllm.sh") < text.index("fix: install-transformers.sh")
    assert "vllm.glm5-architecture (fail)" in text


def test_nothing_to_fix_and_unknown_checks(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.16.0")
    ok = run_doctor("fix", "vllm.glm5-architecture", "--python", str(target_env.python))
    assert ok.returncode == 0 and "nothing to fix" in ok.stdout
    assert run_doctor("fix", "nosuch.check").returncode == 2
    assert run_doctor("fix").returncode == 2


def test_suggested_command_for_serve_problems() -> None:
    argv = [
        "vllm",
        "serve",
        "zai-org/GLM-5-FP8",
        "-tp",
        "3",
        "--tool-call-parser=glm45",
        "--kv-cache-dtype",
        "fp8_e4m3",
        "--speculative-config.method",
        "mtp",
    ]
    report = Report("0", {"serve": {"argv": argv}}, {"python": "p", "python_version": "3"}, ())

    def fixed(check_id: str, **evidence: object) -> str:
        fix = REGISTRY.get(check_id).fix  # type: ignore[union-attr]
        assert fix is not None
        command = corrected_serve_command(
            fix, Result(check_id, "t", "serve", Outcome(Status.FAIL, "m", evidence), 0), report
        )
        assert command is not None
        return command

    assert fixed("serve.tensor-parallel", num_attention_heads=64, tensor_parallel_size=3).endswith(
        "--tensor-parallel-size 2"
    )
    assert "-tp" not in fixed("serve.tensor-parallel", tensor_parallel_size=3).split()
    parsers = fixed("serve.parsers")
    assert "--tool-call-parser glm47" in parsers and "glm45" in parsers and "--tool-call-parser=glm45" not in parsers
    assert "fp8_e4m3" not in fixed("serve.kv-cache-dtype")
    assert "--speculative-config" not in fixed("model.mtp-weights")
    assert fixed("gpu.vram", max_model_len_that_fits=65536).endswith("--max-model-len 65536")


def test_suggest_script_prints_the_corrected_command_through_preflight_report(
    target_env: TargetEnv, tmp_path: Path
) -> None:
    report_file = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "glm5_doctor",
            "preflight",
            "--format",
            "json",
            "--output",
            str(report_file),
            "--select",
            "serve.tensor-parallel",
            "--",
            "vllm",
            "serve",
            "zai-org/GLM-5-FP8",
            "-tp",
            "6",
        ],
        env=doctor_env(),
        capture_output=True,
        check=False,
        timeout=60,
    )
    report = json.loads(report_file.read_text())
    assert by_id(report)["serve.tensor-parallel"]["fix"]["script"] == "suggest-serve-command.sh"


# --- the catalog -----------------------------------------------------------------------------------


def test_every_check_that_can_fail_names_a_script() -> None:
    missing = [
        item.id for item in REGISTRY.checks if "Outcome.failed(" in inspect.getsource(item.function) and not item.fix
    ]
    assert missing == []


@pytest.mark.parametrize("name", shipped_scripts())
def test_every_script_says_what_verifies_it_and_those_checks_link_it(name: str) -> None:
    header = script_header(script_file(Fix(name)).read_text())
    verified = [part.strip() for part in header["Verifies"].split("(")[0].split(",")]
    linking = {item.id for item in REGISTRY.checks if item.fix_script == name}
    assert set(verified) == linking, f"{name}: header says {verified}, linked by {sorted(linking)}"


def test_fix_for_a_serve_command_prints_the_corrected_line() -> None:
    completed = run_doctor(
        "fix",
        "serve.tensor-parallel",
        "--",
        "vllm",
        "serve",
        "zai-org/GLM-5-FP8",
        "-tp",
        "6",
        "--api-key",
        "sk-never-shown-123456",
    )
    assert completed.returncode == 1
    # pasted, the line expands the key from the environment; it never holds a literal mask
    assert 'vllm serve zai-org/GLM-5-FP8 --api-key "$VLLM_API_KEY" --tensor-parallel-size 4' in completed.stdout
    assert "sk-never-shown-123456" not in completed.stdout + completed.stderr


def test_fix_for_a_forced_dense_attention_backend_drops_the_flag() -> None:
    completed = run_doctor(
        "fix",
        "serve.attention-backend",
        "--",
        "vllm",
        "serve",
        "zai-org/GLM-5-FP8",
        "-tp",
        "8",
        "--attention-backend",
        "CUTLASS_MLA",
    )
    assert completed.returncode == 1, completed.stderr
    assert (
        "serve.attention-backend (fail): --attention-backend CUTLASS_MLA is not a sparse-MLA backend"
        in completed.stdout
    )
    assert "      vllm serve zai-org/GLM-5-FP8 -tp 8\n" in completed.stdout
