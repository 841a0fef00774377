"""The catalog stays complete: IDs, docs, fix links, entry points and the README agree with the code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from glm5_doctor.engine.check import CHECK_ID, DOC_SECTIONS, Check, Fix
from glm5_doctor.engine.registry import load_registry
from glm5_doctor.engine.results import Outcome
from glm5_doctor.remedies import script_file, script_header, shipped_scripts
from glm5_doctor.report import Format

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = load_registry(autoload_plugins=False)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def test_ids_are_valid_and_unique() -> None:
    ids = [item.id for item in REGISTRY.checks]
    assert len(ids) == len(set(ids))
    assert all(CHECK_ID.match(check_id) for check_id in ids)


@pytest.mark.parametrize("item", REGISTRY.checks, ids=lambda item: item.id)
def test_every_check_documents_every_section(item: Check) -> None:
    sections = item.sections()
    assert list(sections) == list(DOC_SECTIONS), f"{item.id} docstring sections: {list(sections)}"
    assert all(text.strip() for text in sections.values())
    assert "http" in sections["Sources"] or "wheel" in sections["Sources"]
    assert not NOTE_NAMES.search(item.doc), "cites a research note users do not have"


#: The project's research notes: users do not have them, so nothing they see may cite them.
NOTE_NAMES = re.compile(
    r"glm5-failure-modes|nvml-blackwell-memory|code-style-anchors|doctor-tools-compared|"
    r"fleet-and-gpu-less-testing|shared/reference|\b(?:DRV|MEM|PKG|CFG|ATTN|DG|SYS)-\d\d\b"
)


def test_sources_a_user_sees_are_public() -> None:
    from glm5_doctor import knowledge
    from glm5_doctor.knowledge.checkpoints import MODELS

    shown = [spec.source for spec in MODELS.values()] + [gpu.source for gpu in knowledge.GPUS.values()]
    assert [text for text in shown if NOTE_NAMES.search(text)] == []
    assert all("http" in text or "measured" in text or "estimate" in text for text in shown), shown
    code = "".join(path.read_text() for path in (ROOT / "doctor").rglob("*.py")) + "".join(
        path.read_text() for path in (ROOT / "checks").rglob("*.py")
    )
    assert NOTE_NAMES.findall(code) == []


def test_every_linked_script_exists_and_every_script_is_linked() -> None:
    linked = {item.fix_script for item in REGISTRY.checks if item.fix_script}
    shipped = set(shipped_scripts())
    assert linked - shipped == set(), "checks link scripts that do not exist"
    assert shipped - linked == set(), "scripts no check links to"


@pytest.mark.parametrize("name", shipped_scripts())
def test_fix_scripts_have_the_header_and_are_valid_bash(name: str) -> None:
    text = script_file(Fix(name)).read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    header = script_header(text)
    assert {"Summary", "Needs root", "Verifies"} <= set(header)
    verified = [part.strip() for part in header["Verifies"].split("(")[0].split(",")]
    assert all(REGISTRY.get(check_id) for check_id in verified), verified
    assert "DRY_RUN" in text
    subprocess.run(["bash", "-n", str(script_file(Fix(name)))], check=True)


@pytest.mark.parametrize("name", shipped_scripts())
def test_fix_scripts_dry_run_prints_and_changes_nothing(name: str, tmp_path: Path) -> None:
    """Under DRY_RUN=1 a script only prints; the target it names is never created."""
    fake_python = tmp_path / "bin" / "python3"
    fake_python.parent.mkdir()
    marker = tmp_path / "touched"
    fake_python.write_text(f'#!/bin/sh\n[ "$2" = pip ] && touch {marker}\nexit 1\n')
    fake_python.chmod(0o755)
    env = {
        "PATH": f"{fake_python.parent}:/usr/bin:/bin",
        "DRY_RUN": "1",
        "PYTHON": str(fake_python),
        "PYTHON_FOR_VENV": str(fake_python),
        "VENV_DIR": str(tmp_path / "venv"),
        "DG_JIT_CACHE_DIR": str(tmp_path / "cache"),
        "DEEPGEMM_REF": "v2.1.1.post3",
        "FLASHINFER_VERSION": "0.6.6",
        "HOME": str(tmp_path),
    }
    before = sorted(p.name for p in tmp_path.iterdir())
    completed = subprocess.run(
        ["bash", str(script_file(Fix(name)))], env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip(), "a dry run must say what it would do"
    if name.startswith("install-") and name != "install-cuda-toolkit.sh":
        assert "\n+ " in "\n" + completed.stdout, completed.stdout
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a dry run created files"


def test_a_check_in_any_module_of_the_checks_package_is_registered(tmp_path: Path) -> None:
    """No re-export trap: a new module needs no import anywhere else to be found."""
    import glm5_doctor.checks

    (tmp_path / "zz_extra.py").write_text(
        "from glm5_doctor import Outcome, check\n\n"
        "@check('extra.new-rule', title='A rule in a new module', category='host')\n"
        "def new_rule(facts, profile):\n    return Outcome.passed('ok')\n"
    )
    glm5_doctor.checks.__path__.append(str(tmp_path))
    try:
        ids = [item.id for item in load_registry(autoload_plugins=False).checks]
    finally:
        glm5_doctor.checks.__path__.remove(str(tmp_path))
        sys.modules.pop("glm5_doctor.checks.zz_extra", None)
    assert "extra.new-rule" in ids
    # the GPU area spans three modules, none of them re-exported from another
    assert {"gpu.driver", "gpu.ecc", "gpu.mig", "gpu.vram", "gpu.free-memory"} <= set(ids)
    assert ids.index("python.version") < ids.index("gpu.driver") < ids.index("host.shm")


def test_a_plugin_whose_fix_or_facts_cannot_resolve_is_a_load_error(tmp_path: Path) -> None:
    from glm5_doctor.engine.check import check
    from glm5_doctor.engine.registry import LoadError, _validate_declarations

    @check("acme.bad-fix", title="t", category="host", fix="no-such-script.sh")
    def bad_fix(facts: object, profile: object) -> Outcome:
        return Outcome.passed("ok")

    @check("acme.bad-fact", title="t", category="host", facts=("no_such_fact",))
    def bad_fact(facts: object, profile: object) -> Outcome:
        return Outcome.passed("ok")

    checks = [bad_fix, bad_fact]
    sources = {"acme.bad-fix": "acme 1.0", "acme.bad-fact": "acme 1.0"}
    errors: list[LoadError] = []
    _validate_declarations(checks, sources, errors)
    assert checks == []
    assert "no fix script named 'no-such-script.sh'" in errors[0].error
    assert "declares unknown fact 'no_such_fact'" in errors[1].error


def test_every_format_renders(tmp_path: Path) -> None:
    from io import StringIO

    from glm5_doctor.engine.results import Outcome, Report, Result
    from glm5_doctor.report import render

    report = Report(
        "0",
        {"name": "p"},
        {"python": "x", "python_version": "3"},
        # a warning: the github format annotates only what needs attention
        (Result("a.b", "t", "python-stack", Outcome.warned("risky"), 1),),
    )
    for fmt in Format:
        stream = StringIO()
        render(report, fmt, stream)
        assert "a.b" in stream.getvalue()


def test_readme_catalog_lists_every_check() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| `([a-z0-9.-]+)` \|", readme, flags=re.M))
    assert rows == {item.id for item in REGISTRY.checks}


def test_shellcheck_passes_on_every_script() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (CI installs Debian's package)")
    scripts = [str(script_file(Fix(name))) for name in [*shipped_scripts(), "_common.sh"]] + [str(ROOT / ".ci" / "run")]
    # -x follows the sourced helper, so a mistake in _common.sh shows in every script that uses it.
    completed = subprocess.run([shellcheck, "-x", *scripts], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout
