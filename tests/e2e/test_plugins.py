"""Third-party checks through the ``glm5_doctor.checks`` entry-point group, from real distributions.

Each test writes a real plugin distribution (module + ``*.dist-info`` with ``entry_points.txt``)
into a temp directory on the doctor's PYTHONPATH, where ``importlib.metadata`` finds it.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers import TargetEnv, by_id, run_doctor, run_json

GOOD = """\
from glm5_doctor import check, Outcome
from glm5_doctor.probes.interpreter import INTERPRETER

@check("acme.cluster-label", title="The node carries the acme label", category="host", facts=(INTERPRETER,))
def cluster_label(facts, profile):
    '''Acme's own rule.'''
    python = facts[INTERPRETER]["executable"]
    return Outcome.warned(f"label missing on {python}", {"label": None})
"""


def write_plugin(root: Path, dist: str, module: str, source: str, entry: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(source)
    dist_info = root / f"{dist.replace('-', '_')}-0.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3\n")
    (dist_info / "entry_points.txt").write_text(f"[glm5_doctor.checks]\n{entry} = {module}\n")


def plugin_env(root: Path, autoload: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = str(root)
    if not autoload:
        env["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def test_a_plugin_check_runs_beside_the_builtins(tmp_path: Path, target_env: TargetEnv) -> None:
    write_plugin(tmp_path / "p", "acme-doctor-checks", "acme_checks", GOOD, "acme")
    _, report = run_json("--python", str(target_env.python), env=plugin_env(tmp_path / "p"))
    result = by_id(report)["acme.cluster-label"]
    assert result["status"] == "warn"
    assert result["source"] == "acme-doctor-checks 0.3"
    assert str(target_env.python) in result["message"]
    assert report["results"][-1]["id"] == "acme.cluster-label", "plugins come after the built-ins"
    listing = run_doctor("list", env=plugin_env(tmp_path / "p")).stdout
    assert "acme.cluster-label" in listing and "[acme-doctor-checks 0.3]" in listing


def test_autoload_off_by_environment_or_flag(tmp_path: Path, target_env: TargetEnv) -> None:
    write_plugin(tmp_path / "p", "acme-doctor-checks", "acme_checks", GOOD, "acme")
    _, report = run_json("--python", str(target_env.python), env=plugin_env(tmp_path / "p", autoload=False))
    assert "acme.cluster-label" not in by_id(report)
    _, report = run_json("--python", str(target_env.python), "--no-plugins", env=plugin_env(tmp_path / "p"))
    assert "acme.cluster-label" not in by_id(report)


def test_a_plugin_that_fails_to_import_is_an_error_row_not_a_crash(tmp_path: Path, target_env: TargetEnv) -> None:
    write_plugin(tmp_path / "p", "broken-checks", "broken_checks", "raise ImportError('no cuda for you')\n", "broken")
    code, report = run_json("--python", str(target_env.python), env=plugin_env(tmp_path / "p"))
    result = by_id(report)["plugin.broken"]
    assert result["status"] == "error"
    assert "no cuda for you" in result["message"]
    assert result["source"] == "broken-checks 0.3"
    assert code == 1
    assert by_id(report)["vllm.installed"]["status"] == "fail", "the built-ins still ran"


def test_a_plugin_outside_its_area_or_on_a_builtin_area_is_refused(tmp_path: Path, target_env: TargetEnv) -> None:
    write_plugin(tmp_path / "p", "sneaky-checks", "sneaky_checks", GOOD.replace("acme.", "vllm."), "vllm")
    write_plugin(tmp_path / "p", "wrong-area", "wrong_area", GOOD, "other")
    _, report = run_json("--python", str(target_env.python), env=plugin_env(tmp_path / "p"))
    results = by_id(report)
    assert "reserved for built-in checks" in results["plugin.vllm"]["message"]
    assert "outside its area 'other'" in results["plugin.other"]["message"]
    assert "acme.cluster-label" not in results


def test_a_plugin_check_that_crashes_is_an_error_with_details(tmp_path: Path, target_env: TargetEnv) -> None:
    crashing = GOOD.replace('python = facts[INTERPRETER]["executable"]', "python = 1 / 0")
    write_plugin(tmp_path / "p", "acme-doctor-checks", "acme_checks", crashing, "acme")
    _, report = run_json("--python", str(target_env.python), env=plugin_env(tmp_path / "p"))
    result = by_id(report)["acme.cluster-label"]
    assert result["status"] == "error"
    assert "ZeroDivisionError" in result["message"]
    assert "Traceback" in result["details"]


WITH_FIX = """\
from glm5_doctor import Fix, Outcome, check
from glm5_doctor.probes.host import HOST

@check("acme.label", title="The node carries the acme label", category="host", facts=(HOST,),
       fix=Fix("{script}", package="acme_fixes"))
def label(facts, profile):
    '''Acme's own rule.'''
    return Outcome.failed("label missing", {{"container": facts[HOST]["container"]}})
"""


def test_a_plugin_fix_in_its_own_package_is_shown_and_a_missing_one_is_a_load_error(tmp_path: Path) -> None:
    fixes = tmp_path / "p" / "acme_fixes"
    fixes.mkdir(parents=True)
    (fixes / "__init__.py").write_text("")
    (fixes / "label-node.sh").write_text(
        "#!/usr/bin/env bash\n# Summary: label the node\n# Verifies: acme.label\nset -euo pipefail\n"
        'if [ "${DRY_RUN:-0}" = "1" ]; then echo "+ kubectl label node here acme=yes"; fi\n'
    )
    write_plugin(tmp_path / "p", "acme-doctor-checks", "acme_checks", WITH_FIX.format(script="label-node.sh"), "acme")
    shown = run_doctor("fix", "acme.label", env=plugin_env(tmp_path / "p"))
    assert shown.returncode == 1, shown.stderr  # shown, not run: it still fails
    assert "fix: label-node.sh" in shown.stdout and "+ kubectl label node here acme=yes" in shown.stdout

    write_plugin(tmp_path / "q", "acme-doctor-checks", "acme_checks", WITH_FIX.format(script="missing.sh"), "acme")
    (tmp_path / "q" / "acme_fixes").mkdir()
    (tmp_path / "q" / "acme_fixes" / "__init__.py").write_text("")
    code, report = run_json(env=plugin_env(tmp_path / "q"))
    assert code == 1
    assert "no fix script named 'missing.sh' in acme_fixes" in by_id(report)["plugin.acme"]["message"]
    assert "acme.label" not in by_id(report)
    listed = run_doctor("fix", "acme.label", env=plugin_env(tmp_path / "q"))
    assert listed.returncode == 2 and "unknown check 'acme.label'" in listed.stderr
