"""The Python-stack checks against real environments shaped like each release that matters.

Every test builds a real venv, writes vLLM / transformers the way their wheels install (real
METADATA and registry.py from PyPI), runs ``glm5-doctor run --python <venv> --format json``
as a subprocess and asserts on the verdicts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import WHEELS, TargetEnv, by_id, run_doctor, run_json

STACK = "python,vllm,transformers"


def judge(env: TargetEnv) -> dict[str, dict]:
    _, report = run_json("--python", str(env.python), "--select", STACK)
    return by_id(report)


def test_vllm_0_15_1_has_no_glm5_and_says_what_serve_would_print(target_env: TargetEnv) -> None:
    """vLLM 0.15.1: the registry has no entry; the message quotes vLLM's own error and the fix."""
    target_env.add_vllm_release("0.15.1")
    target_env.add_transformers_release("4.57.6")
    results = judge(target_env)
    arch = results["vllm.glm5-architecture"]
    assert arch["status"] == "fail"
    assert "Model architectures ['GlmMoeDsaForCausalLM'] are not supported for now" in arch["message"]
    assert "vllm>=0.16.0" in arch["message"]
    assert arch["fix"] == {"script": "install-vllm.sh", "command": "glm5-doctor fix vllm.glm5-architecture"}
    assert results["vllm.installed"]["status"] == "pass"
    assert results["transformers.glm-moe-dsa"]["status"] == "fail"


@pytest.mark.parametrize(
    ("release", "module"),
    [
        ("0.16.0", "deepseek_v2"),
        ("0.20.0", "deepseek_v2"),
        ("0.29.0", "vllm.models.deepseek_v32"),
        ("0.33.0", "vllm.models.deepseek_v32"),
    ],
)
def test_registry_forms_are_both_recognised(target_env: TargetEnv, release: str, module: str) -> None:
    target_env.add_vllm_release(release)
    arch = judge(target_env)["vllm.glm5-architecture"]
    assert arch["status"] == "pass", arch
    assert arch["evidence"]["registered_module"] == module
    assert arch["evidence"]["version"] == release


def test_registry_entry_without_its_module_file_is_a_broken_install(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.29.0", with_model_file=False)
    arch = judge(target_env)["vllm.glm5-architecture"]
    assert arch["status"] == "fail"
    assert "deepseek_v32" in arch["message"] and "missing" in arch["message"]


def test_dev_build_of_0_16_with_the_entry_is_a_warning(target_env: TargetEnv) -> None:
    """``0.16.0rc2.dev45+g1234.cu129`` sorts below 0.16.0, but the registry line decides: warn, not fail."""
    target_env.add_vllm_release("0.16.0", version="0.16.0rc2.dev45+g1234.cu129")
    results = judge(target_env)
    assert results["vllm.installed"]["status"] == "pass"
    arch = results["vllm.glm5-architecture"]
    assert arch["status"] == "warn"
    assert "0.16.0rc2.dev45+g1234.cu129" in arch["message"]


def test_release_without_entry_is_called_modified(target_env: TargetEnv) -> None:
    """A 0.19.1 whose registry lost the line (patched image) fails as a broken install, not as too old."""
    target_env.add_vllm_release("0.15.1", version="0.19.1")
    arch = judge(target_env)["vllm.glm5-architecture"]
    assert arch["status"] == "fail"
    assert "modified or broken" in arch["message"]


def test_registry_that_does_not_parse_is_an_error(target_env: TargetEnv) -> None:
    target_env.add_dist(
        "vllm",
        "0.16.0",
        files={"vllm/__init__.py": "", "vllm/model_executor/models/registry.py": "_MODELS = {\n  'Llama': (\n"},
    )
    arch = judge(target_env)["vllm.glm5-architecture"]
    assert arch["status"] == "error"
    assert "not valid Python" in arch["message"]


def test_registry_with_non_utf8_bytes_is_an_error(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "0.16.0", files={"vllm/__init__.py": ""})
    registry = target_env.site / "vllm/model_executor/models/registry.py"
    registry.parent.mkdir(parents=True)
    registry.write_bytes(b"_MODELS = {'\xff\xfe': 1}\n")
    arch = judge(target_env)["vllm.glm5-architecture"]
    assert arch["status"] == "error"
    assert "UTF-8" in arch["message"]


def test_missing_registry_is_a_broken_install(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "0.16.0", files={"vllm/__init__.py": ""})
    arch = judge(target_env)["vllm.glm5-architecture"]
    assert arch["status"] == "fail"
    assert "no model registry" in arch["message"]


def test_version_that_is_not_pep440_is_an_error_and_dependents_skip(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.16.0", version="not-a-version")
    results = judge(target_env)
    assert results["vllm.installed"]["status"] == "error"
    assert "not-a-version" in results["vllm.installed"]["message"]
    for dependent in ("vllm.glm5-architecture", "vllm.dependencies", "transformers.vllm-pin"):
        assert results[dependent]["status"] == "skip"
        assert "requires vllm.installed" in results[dependent]["message"]


def test_metadata_that_cannot_be_read_is_an_error(target_env: TargetEnv) -> None:
    dist_info = target_env.add_vllm_release("0.16.0")
    (dist_info / "METADATA").unlink()
    (dist_info / "METADATA").mkdir()  # reading it fails with an OSError, as permission denied would
    installed = judge(target_env)["vllm.installed"]
    assert installed["status"] == "error"
    assert "cannot read vLLM's metadata" in installed["message"]


def test_metadata_without_version_header_is_an_error(target_env: TargetEnv) -> None:
    dist_info = target_env.add_vllm_release("0.16.0")
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: vllm\n")
    installed = judge(target_env)["vllm.installed"]
    assert installed["status"] == "error"
    assert "no Version header" in installed["message"]


def test_two_copies_of_vllm_warn_and_name_both(target_env: TargetEnv, tmp_path: Path) -> None:
    """An older copy in a second sys.path entry (a .pth-added directory) is named."""
    target_env.add_vllm_release("0.16.0")
    extra = tmp_path / "extra-site"
    target_env.add_dist("vllm", "0.15.1", location=extra)
    (target_env.site / "extra.pth").write_text(str(extra) + "\n")
    installed = judge(target_env)["vllm.installed"]
    assert installed["status"] == "warn"
    assert "0.15.1" in installed["message"] and str(extra) in installed["message"]


def test_metadata_without_package_folder_fails(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "0.16.0")
    installed = judge(target_env)["vllm.installed"]
    assert installed["status"] == "fail"
    assert "no vllm/ package folder" in installed["message"]


def test_no_vllm_at_all(target_env: TargetEnv) -> None:
    results = judge(target_env)
    assert results["vllm.installed"]["status"] == "fail"
    assert str(target_env.python) in results["vllm.installed"]["message"]
    assert results["python.version"]["status"] == "pass"
    assert "no vLLM installed" in results["python.version"]["message"]


# --- transformers -----------------------------------------------------------------------------


@pytest.mark.parametrize("release", ["4.57.6", "5.1.0"])
def test_transformers_before_5_2_does_not_know_glm_moe_dsa(target_env: TargetEnv, release: str) -> None:
    target_env.add_transformers_release(release)
    result = judge(target_env)["transformers.glm-moe-dsa"]
    assert result["status"] == "fail"
    assert "does not recognize this architecture" in result["message"]
    assert result["evidence"]["version"] == release
    assert result["evidence"]["from_git"] is False


def test_transformers_5_2_release_knows_it(target_env: TargetEnv) -> None:
    target_env.add_transformers_release("5.2.0")
    result = judge(target_env)["transformers.glm-moe-dsa"]
    assert result["status"] == "pass"
    assert result["evidence"]["source"] == "index"


def test_transformers_from_git_is_reported_as_such(target_env: TargetEnv) -> None:
    """PEP 610 direct_url.json with vcs_info: works, but a dev build is a warning naming the commit."""
    target_env.add_transformers_release(
        "5.2.0",
        version="5.3.0.dev0",
        direct_url={
            "url": "https://github.com/huggingface/transformers.git",
            "vcs_info": {"vcs": "git", "commit_id": "0123456789abcdef0123", "requested_revision": "main"},
        },
    )
    result = judge(target_env)["transformers.glm-moe-dsa"]
    assert result["status"] == "warn"
    assert result["evidence"]["from_git"] is True
    assert "0123456789ab" in result["evidence"]["source"]
    assert "5.3.0.dev0" in result["message"]


def test_transformers_release_missing_its_files_is_broken(target_env: TargetEnv) -> None:
    target_env.add_dist("transformers", "5.4.0", files={"transformers/__init__.py": ""})
    result = judge(target_env)["transformers.glm-moe-dsa"]
    assert result["status"] == "fail"
    assert "broken" in result["message"]


def test_vllm_0_16_with_transformers_5_is_the_expected_override(target_env: TargetEnv) -> None:
    """vLLM 0.16-0.18 pin transformers<5: the recipe's override is a warning that explains itself."""
    target_env.add_vllm_release("0.18.0")
    target_env.add_transformers_release("5.4.0")
    pin = judge(target_env)["transformers.vllm-pin"]
    assert pin["status"] == "warn"
    assert "<5" in pin["message"] and "on purpose" in pin["message"]
    assert pin["evidence"]["glm5_window"] is None


def test_vllm_0_16_with_transformers_4_fails_and_says_what_to_install(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.16.0")
    target_env.add_transformers_release("4.57.6")
    pin = judge(target_env)["transformers.vllm-pin"]
    assert pin["status"] == "fail"
    assert "transformers>=5.4.0" in pin["message"]


def test_vllm_0_19_keeps_old_transformers_inside_its_pin_but_glm5_needs_more(target_env: TargetEnv) -> None:
    """Lead L-08: 4.57.6 satisfies 0.19.1's pin, yet cannot load GLM-5; the window is >=5.5.1."""
    target_env.add_vllm_release("0.19.1")
    target_env.add_transformers_release("4.57.6")
    pin = judge(target_env)["transformers.vllm-pin"]
    assert pin["status"] == "fail"
    assert pin["evidence"]["glm5_window"] == ">=5.5.1"
    assert ">=5.5.1" in pin["message"]


def test_vllm_0_19_with_excluded_transformers_fails(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.19.1")
    target_env.add_transformers_release("5.4.0")
    pin = judge(target_env)["transformers.vllm-pin"]
    assert pin["status"] == "fail"


def test_vllm_0_33_with_transformers_inside_the_window_passes(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.33.0")
    target_env.add_transformers_release("5.17.0")
    results = judge(target_env)
    assert results["transformers.vllm-pin"]["status"] == "pass"
    assert results["transformers.vllm-pin"]["evidence"]["glm5_window"] == ">=5.16.1,<5.21.0"
    assert results["transformers.glm-moe-dsa"]["status"] == "pass"


def test_vllm_0_33_with_transformers_above_the_cap_fails(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.33.0")
    target_env.add_transformers_release("5.21.0")
    pin = judge(target_env)["transformers.vllm-pin"]
    assert pin["status"] == "fail"
    assert "<5.21.0" in pin["message"]


def test_git_dev_transformers_inside_a_floor_pin(target_env: TargetEnv) -> None:
    """vLLM 0.29.0 pins >=5.10.4; a 5.11.0.dev0 git build is inside (pip check accepts pre-releases)."""
    target_env.add_vllm_release("0.29.0")
    target_env.add_transformers_release("5.2.0", version="5.11.0.dev0")
    assert judge(target_env)["transformers.vllm-pin"]["status"] == "pass"


# --- vllm.dependencies ------------------------------------------------------------------------


def test_dependencies_all_satisfied_pass(target_env: TargetEnv) -> None:
    dist_info = target_env.add_vllm_release("0.19.1")
    installed = target_env.satisfy(dist_info)
    assert "torch" in installed
    deps = judge(target_env)["vllm.dependencies"]
    assert deps["status"] == "pass", deps
    own_checks = {"torch", "flashinfer-python", "flashinfer-cubin"}  # torch.cuda-build, flashinfer.versions
    assert deps["evidence"]["requirements_judged"] == len([name for name in installed if name not in own_checks])


def test_dependencies_missing_and_wrong_version_are_named(target_env: TargetEnv) -> None:
    dist_info = target_env.add_vllm_release("0.19.1")
    target_env.add_dist("lark", "1.1.9")  # vLLM 0.19.1 pins lark==1.2.2
    target_env.satisfy(dist_info)
    numpy = next(target_env.site.glob("numpy-*.dist-info"))
    for path in numpy.iterdir():
        path.unlink()
    numpy.rmdir()
    deps = judge(target_env)["vllm.dependencies"]
    assert deps["status"] == "fail"
    assert "numpy" in deps["message"]
    assert "lark 1.1.9 (needs ==1.2.2)" in deps["message"]
    assert deps["evidence"]["missing"] == ["numpy"]


def test_dependencies_leave_transformers_to_the_pin_check(target_env: TargetEnv) -> None:
    dist_info = target_env.add_vllm_release("0.18.0")
    target_env.satisfy(dist_info)
    target_env.add_transformers_release("5.4.0")  # outside vLLM 0.18's <5 on purpose
    assert judge(target_env)["vllm.dependencies"]["status"] == "pass"


def test_expected_override_warning_links_no_fix(target_env: TargetEnv) -> None:
    """The fix would reinstall what is already there; the warning explains itself instead."""
    target_env.add_vllm_release("0.16.0")
    target_env.add_transformers_release("5.4.0")
    assert judge(target_env)["transformers.vllm-pin"]["fix"] is None


def _add_real_kernels(target: TargetEnv, version: str) -> None:
    metadata = (WHEELS / "kernels-0.19.1" / "kernels-0.19.1.dist-info" / "METADATA").read_text()
    target.add_dist("kernels", version, metadata=metadata.replace("\nVersion: 0.19.1\n", f"\nVersion: {version}\n"))


def test_kernels_left_behind_by_a_transformers_upgrade_fails_although_pip_check_is_clean(
    target_env: TargetEnv,
) -> None:
    """vLLM 0.19.1, then ``pip install transformers==5.5.1``: kernels 0.19.1 stays, transformers imports it."""
    target_env.add_vllm_release("0.19.1")
    target_env.add_transformers_release("5.5.1")
    _add_real_kernels(target_env, "0.19.1")
    code, report = run_json("--python", str(target_env.python), "--select", "vllm.optional-imports,transformers")
    results = by_id(report)
    row = results["vllm.optional-imports"]
    assert row["status"] == "fail" and code == 1
    assert "kernels 0.19.1 is installed, and transformers 5.5.1 imports it" in row["message"]
    assert "<0.13,>=0.12.0" in row["message"]
    assert row["evidence"]["reinstall"] == "transformers[kernels]==5.5.1"
    assert results["transformers.vllm-pin"]["status"] == "pass", "inside vLLM's pin: only the extra is off"
    fixed = run_doctor("fix", "vllm.optional-imports", "--python", str(target_env.python))
    assert "TRANSFORMERS_SPEC='transformers[kernels]==5.5.1'" in fixed.stdout


@pytest.mark.parametrize("kernels", ["0.12.0", None])
def test_kernels_inside_the_extra_or_absent_passes(target_env: TargetEnv, kernels: str | None) -> None:
    target_env.add_vllm_release("0.19.1")
    target_env.add_transformers_release("5.5.1")
    if kernels:
        _add_real_kernels(target_env, kernels)
    _, report = run_json("--python", str(target_env.python), "--select", "vllm.optional-imports")
    row = by_id(report)["vllm.optional-imports"]
    assert row["status"] == "pass"
    assert ("kernels 0.12.0 for transformers 5.5.1" in row["message"]) is bool(kernels)
