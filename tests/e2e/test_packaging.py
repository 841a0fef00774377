"""What ships: one import root, the fix scripts, no tests; and the doctor never imports the stack."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import TargetEnv, run_json

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"torch", "vllm", "transformers", "deep_gemm", "flashinfer"}


@pytest.mark.slow
def test_wheel_holds_only_glm5_doctor(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("glm5_doctor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    outside = [n for n in names if not n.startswith(("glm5_doctor/", "glm5_doctor-"))]
    assert outside == []
    # Every module of the source tree ships: a package missing from pyproject's list would not.
    sources = {
        "glm5_doctor/" + str(path.relative_to(ROOT / folder))
        if folder == "doctor"
        else f"glm5_doctor/{folder}/" + str(path.relative_to(ROOT / folder))
        for folder in ("doctor", "checks", "fixes")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".sh", ".json") and "__pycache__" not in path.parts
    }
    assert sources - set(names) == set()
    assert {"glm5_doctor/py.typed", "glm5_doctor/cli/__init__.py", "glm5_doctor/fixes/install-vllm.sh"} <= set(names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "glm5-doctor = glm5_doctor.cli:main" in entry_points


def test_no_module_imports_the_stack_it_diagnoses() -> None:
    offenders = []
    for path in [*ROOT.joinpath("doctor").rglob("*.py"), *ROOT.joinpath("checks").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in HEAVY]
    assert offenders == []


def test_running_never_imports_vllm_torch_or_transformers(target_env: TargetEnv, tmp_path: Path) -> None:
    """Booby-trapped packages on both the doctor's and the target's path: importing any one leaves a mark."""
    mark = tmp_path / "imported"
    traps = tmp_path / "traps"
    for name in sorted(HEAVY):
        (traps / name).mkdir(parents=True)
        (traps / name / "__init__.py").write_text(f"open({str(mark)!r}, 'a').write('{name}\\n')\nraise SystemExit(9)\n")
    (target_env.site / "traps.pth").write_text(str(traps) + "\n")
    target_env.add_vllm_release("0.16.0")
    env = {k: v for k, v in os.environ.items()}
    env["PYTHONPATH"] = str(traps)
    env["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    _, report = run_json("--python", str(target_env.python), env=env)
    assert report["results"], "the doctor produced no results"
    assert not mark.exists(), f"imported: {mark.read_text() if mark.exists() else ''}"
    _, report = run_json(env=env)  # and the doctor's own interpreter as the target
    assert not mark.exists()
