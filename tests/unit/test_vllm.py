"""vllm.*: installed, registers GLM-5, its own requirements met, kernels built for torch's CUDA major."""

from __future__ import annotations

from typing import Any

import pytest
from glm5_doctor.checks.vllm import vllm_cuda_build, vllm_dependencies, vllm_glm5_architecture, vllm_installed
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS, DistributionFact
from glm5_doctor.probes.interpreter import INTERPRETER
from glm5_doctor.probes.torch_build import TORCH_BUILD
from glm5_doctor.probes.transformers_files import TRANSFORMERS_FILES
from glm5_doctor.probes.vllm_files import VLLM_FILES

from unit.facts import (
    SITE,
    dist,
    distributions,
    facts,
    interpreter,
    profile,
    torch_build,
    transformers_files,
    vllm_files,
)

# --- vllm.installed --------------------------------------------------------------------------------


def installed(*copies: DistributionFact, **files: Any) -> Outcome:
    return vllm_installed(
        facts({INTERPRETER: interpreter(), DISTRIBUTIONS: distributions(*copies), VLLM_FILES: vllm_files(**files)}),
        profile(),
    )


def test_installed_passes_with_metadata_and_package_together() -> None:
    outcome = installed(dist("vllm", "0.19.1"))
    assert outcome.status is Status.PASS
    assert outcome.message == f"vLLM 0.19.1 installed in {SITE} (index)"
    assert outcome.evidence["package_dir"] == f"{SITE}/vllm"


def test_installed_names_a_git_source() -> None:
    source = {
        "url": "https://github.com/vllm-project/vllm",
        "vcs_info": {"vcs": "git", "commit_id": "0123456789abcdef"},
    }
    outcome = installed(dist("vllm", "0.20.0.dev5", direct_url=source))
    assert outcome.status is Status.PASS
    assert outcome.evidence["source"] == "git https://github.com/vllm-project/vllm @ 0123456789ab"


def test_not_installed_at_all_fails() -> None:
    outcome = installed(package_dir=None)
    assert outcome.status is Status.FAIL
    assert outcome.message == "vLLM is not installed for /venv/bin/python: install vllm>=0.16.0"


def test_files_without_metadata_warn() -> None:
    outcome = installed(package_dir="/src/vllm/vllm")
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("vLLM is importable from /src/vllm/vllm but has no installed metadata")


def test_unreadable_metadata_is_an_error() -> None:
    outcome = installed(dist("vllm", None, error="cannot read METADATA: Permission denied"))
    assert outcome.status is Status.ERROR
    assert outcome.message == "cannot read vLLM's metadata: cannot read METADATA: Permission denied"


def test_a_version_that_is_not_pep440_is_an_error() -> None:
    outcome = installed(dist("vllm", "nightly"))
    assert outcome.status is Status.ERROR
    assert "version 'nightly', which is not a PEP 440 version" in outcome.message


def test_metadata_without_package_folder_fails() -> None:
    outcome = installed(dist("vllm", "0.19.1"), package_dir=None)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"vLLM 0.19.1 has metadata in {SITE} but no vllm/ package folder")


def test_two_copies_warn_and_name_the_others() -> None:
    outcome = installed(dist("vllm", "0.19.1"), dist("vllm", "0.15.1", location="/usr/lib/python3/dist-packages"))
    assert outcome.status is Status.WARN
    assert outcome.message.startswith(f"vLLM 0.19.1 in {SITE} is the copy Python uses, but other copies are installed")
    assert "other copies are installed (0.15.1 in /usr/lib/python3/dist-packages)" in outcome.message
    assert outcome.evidence["other_copies"] == ["/usr/lib/python3/dist-packages/vllm-0.15.1.dist-info"]


def test_code_and_metadata_from_different_places_warn() -> None:
    outcome = installed(dist("vllm", "0.19.1"), package_dir="/src/vllm/vllm")
    assert outcome.status is Status.WARN
    assert outcome.message == (
        f"vLLM's code is imported from /src/vllm/vllm but its metadata (0.19.1) is in {SITE}: two installs are mixed"
    )


# --- vllm.glm5-architecture ------------------------------------------------------------------------


def architecture(version: str | None = "0.19.1", *, transformers: str | None = None, **files: Any) -> Outcome:
    installed_dists = [dist("vllm", version)] if version else []
    if transformers:
        installed_dists.append(dist("transformers", transformers))
    values: dict[Any, Any] = {
        DISTRIBUTIONS: distributions(*installed_dists),
        VLLM_FILES: vllm_files(**files),
        TRANSFORMERS_FILES: transformers_files(config_exists=transformers is not None),
    }
    return vllm_glm5_architecture(facts(values), profile())


def test_architecture_registered_in_a_known_module_passes() -> None:
    outcome = architecture()
    assert outcome.status is Status.PASS
    assert outcome.message == "vLLM 0.19.1 registers GlmMoeDsaForCausalLM in deepseek_v2"
    assert outcome.evidence["module_file"] == f"{SITE}/vllm/model_executor/models/deepseek_v2.py"


def test_architecture_in_an_unseen_module_passes_with_a_note() -> None:
    outcome = architecture("0.40.0", glm5_module="vllm.models.glm5")
    assert outcome.status is Status.PASS
    assert outcome.message.endswith("in vllm.models.glm5 (a module form the doctor has not seen before)")


def test_missing_registry_fails() -> None:
    outcome = architecture(registry_state="missing")
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("vLLM 0.19.1 has no model registry at")


@pytest.mark.parametrize("state", ["unreadable", "invalid"])
def test_unreadable_registry_is_an_error(state: str) -> None:
    outcome = architecture(registry_state=state, registry_error="not UTF-8 text (byte 12)")
    assert outcome.status is Status.ERROR
    assert outcome.message.endswith("registry.py: not UTF-8 text (byte 12)")


def test_a_vllm_before_glm5_fails_with_vllms_error() -> None:
    outcome = architecture("0.15.1", glm5_module=None, glm5_module_file=None, glm5_module_file_exists=None)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("vLLM 0.15.1 predates GLM-5 support: vllm serve would stop with")
    assert outcome.message.endswith("install vllm>=0.16.0")


def test_a_vllm_before_glm5_with_a_transformers_that_knows_it_falls_back_to_dense_attention() -> None:
    """What vLLM 0.15.1 really does (registry.py _try_resolve_transformers), not the refusal."""
    outcome = architecture(
        "0.15.1", transformers="5.2.0", glm5_module=None, glm5_module_file=None, glm5_module_file_exists=None
    )
    assert outcome.status is Status.FAIL
    assert "with transformers 5.2.0, which knows glm_moe_dsa, it falls back to its generic Transformers" in (
        outcome.message
    )
    assert outcome.message.endswith("install vllm>=0.16.0")


@pytest.mark.parametrize("version", ["0.16.0", None])
def test_a_release_without_the_entry_is_broken(version: str | None) -> None:
    outcome = architecture(version, glm5_module=None)
    assert outcome.status is Status.FAIL
    assert "registry.py has no GlmMoeDsaForCausalLM entry although every release since 0.16.0" in outcome.message
    shown = version or "(unknown version)"
    assert outcome.message.startswith(f"vLLM {shown}'s registry.py")


def test_registered_module_file_missing_fails() -> None:
    outcome = architecture(glm5_module_file_exists=False)
    assert outcome.status is Status.FAIL
    assert "registers GLM-5 in module deepseek_v2, but" in outcome.message
    assert "deepseek_v2.py is missing" in outcome.message


def test_an_old_build_with_the_entry_warns() -> None:
    outcome = architecture("0.15.2.dev100")
    assert outcome.status is Status.WARN
    assert "is a build from before the first release with GLM-5 (0.16.0)" in outcome.message


def test_the_first_release_with_the_entry_passes() -> None:
    assert architecture("0.16.0").status is Status.PASS


# --- vllm.dependencies -----------------------------------------------------------------------------


def dependencies(requires: list[str], *others: DistributionFact, **marker: str) -> Outcome:
    vllm = dist("vllm", "0.19.1", requires=requires)
    return vllm_dependencies(
        facts({INTERPRETER: interpreter(**marker), DISTRIBUTIONS: distributions(vllm, *others)}), profile()
    )


def test_all_requirements_satisfied() -> None:
    outcome = dependencies(["numpy>=1.26", "xgrammar==0.1.25"], dist("numpy", "2.2.6"), dist("xgrammar", "0.1.25"))
    assert outcome.status is Status.PASS
    assert outcome.message.startswith("all 2 requirements of vLLM 0.19.1 that apply here are satisfied")
    assert outcome.evidence["requirements_judged"] == 2


def test_requirements_that_do_not_apply_are_not_judged() -> None:
    outcome = dependencies(
        [
            'pyobjc; sys_platform == "darwin"',
            'tensorizer>=2.9; extra == "tensorizer"',
            "torch==2.9.0",
            "transformers>=4.56,<5",
            "flashinfer-python==0.5.2",
            "numpy",
        ],
        dist("numpy", "2.2.6"),
    )
    assert outcome.status is Status.PASS
    assert outcome.evidence["requirements_judged"] == 1


def test_a_missing_requirement_fails() -> None:
    outcome = dependencies(["numpy>=1.26", "xgrammar==0.1.25"], dist("numpy", "2.2.6"))
    assert outcome.status is Status.FAIL
    assert outcome.message == "vLLM 0.19.1 requirements: 1 missing: xgrammar==0.1.25"
    assert outcome.evidence["missing"] == ["xgrammar==0.1.25"]


def test_a_wrong_version_fails() -> None:
    outcome = dependencies(["xgrammar==0.1.25"], dist("xgrammar", "0.1.21"))
    assert outcome.status is Status.FAIL
    assert (
        outcome.message
        == "vLLM 0.19.1 requirements: 1 at a version it does not accept: xgrammar 0.1.21 (needs ==0.1.25)"
    )


def test_an_unparseable_installed_version_is_wrong() -> None:
    outcome = dependencies(["xgrammar>=0.1"], dist("xgrammar", "main"))
    assert outcome.status is Status.FAIL
    assert outcome.evidence["wrong_version"] == ["xgrammar main (needs >=0.1)"]


def test_a_prerelease_inside_the_range_is_accepted_like_pip_check() -> None:
    outcome = dependencies(["xgrammar>=0.1.20"], dist("xgrammar", "0.1.26rc1"))
    assert outcome.status is Status.PASS


def test_missing_and_wrong_together_and_long_lists_are_cut() -> None:
    names = [f"pkg{n}" for n in range(6)]
    outcome = dependencies([*names, "numpy>=2"], dist("numpy", "1.26.4"))
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "vLLM 0.19.1 requirements: 6 missing: pkg0, pkg1, pkg2, pkg3, and 2 more; "
        "1 at a version it does not accept: numpy 1.26.4 (needs >=2)"
    )


def test_exactly_four_missing_are_all_listed() -> None:
    outcome = dependencies([f"pkg{n}" for n in range(4)])
    assert outcome.message == "vLLM 0.19.1 requirements: 4 missing: pkg0, pkg1, pkg2, pkg3"


def test_unparseable_requirement_lines_warn() -> None:
    outcome = dependencies(["numpy", "not a requirement !!"], dist("numpy", "2.2.6"))
    assert outcome.status is Status.WARN
    assert outcome.message == "vLLM 0.19.1's METADATA has requirement lines that do not parse: not a requirement !!"


# --- vllm.cuda-build -------------------------------------------------------------------------------


def cuda_build(torch_cuda: str | None = "12.9", **files: Any) -> Outcome:
    return vllm_cuda_build(
        facts({VLLM_FILES: vllm_files(**files), TORCH_BUILD: torch_build(cuda=torch_cuda)}), profile()
    )


def test_cuda_build_matching_torch_passes() -> None:
    outcome = cuda_build()
    assert outcome.status is Status.PASS
    assert outcome.message == "vLLM's kernels link libcudart.so.12: a CUDA 12 build, like torch (CUDA 12.9)"
    assert outcome.evidence["cuda_major"] == 12


def test_cuda_build_with_a_cpu_torch_passes_without_comparing() -> None:
    outcome = cuda_build(None, c_extension_needed=["libcudart.so.13"])
    assert outcome.status is Status.PASS
    assert outcome.message == "vLLM's kernels link libcudart.so.13: a CUDA 13 build"


def test_cuda_build_major_from_a_full_soname() -> None:
    assert cuda_build("13.0", c_extension_needed=["libcudart.so.13.0.96"]).status is Status.PASS


def test_cuda_build_mismatch_fails() -> None:
    outcome = cuda_build("12.8", c_extension_needed=["libcudart.so.13"])
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "vLLM's kernels link libcudart.so.13 (CUDA 13) but torch is a CUDA 12.8 build: "
        "install the torch build for CUDA 13"
    )


def test_cuda_build_without_a_cuda_runtime_passes() -> None:
    outcome = cuda_build(c_extension_needed=["libc10.so"])
    assert outcome.status is Status.PASS
    assert outcome.message == "_C.abi3.so links no CUDA runtime directly"
    assert outcome.evidence["cuda_major"] is None


def test_cuda_build_with_an_unreadable_needed_list_passes_as_no_runtime() -> None:
    outcome = cuda_build(c_extension_needed=None)
    assert outcome.status is Status.PASS
    assert "links no CUDA runtime directly" in outcome.message


def test_cuda_build_without_an_extension_warns() -> None:
    outcome = cuda_build(c_extension=None, c_extension_needed=None)
    assert outcome.status is Status.WARN
    assert outcome.message.startswith(
        f"no compiled vLLM extension (_C_stable_libtorch.abi3.so or _C.abi3.so) in {SITE}/vllm"
    )


def test_cuda_build_unreadable_extension_is_an_error() -> None:
    outcome = cuda_build(c_extension_error="not an ELF file")
    assert outcome.status is Status.ERROR
    assert outcome.message == f"cannot read {SITE}/vllm/_C.abi3.so: not an ELF file"
