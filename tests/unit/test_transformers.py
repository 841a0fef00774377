"""transformers.*: knows glm_moe_dsa, and sits inside the window of vLLM's pin and GLM-5's floor."""

from __future__ import annotations

from typing import Any

import pytest
from glm5_doctor.checks.transformers import transformers_glm_moe_dsa, transformers_vllm_pin
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS, DistributionFact
from glm5_doctor.probes.transformers_files import TRANSFORMERS_FILES

from unit.facts import SITE, dist, distributions, facts, profile, transformers_files

GIT = {
    "url": "https://github.com/huggingface/transformers",
    "vcs_info": {"vcs": "git", "commit_id": "abcdef0123456789"},
}
#: vLLM 0.19.1's real pin (its wheel's METADATA): everything from 5.0 to 5.5.0 excluded
PIN_0191 = "transformers!=5.0.*,!=5.1.*,!=5.2.*,!=5.3.*,!=5.4.*,!=5.5.0,>=4.56.0"
#: vLLM 0.16.0-0.18.0's pin
PIN_016 = "transformers<5,>=4.56.0"

# --- transformers.glm-moe-dsa ----------------------------------------------------------------------


def model_type(*dists: DistributionFact, **files: Any) -> Outcome:
    return transformers_glm_moe_dsa(
        facts({DISTRIBUTIONS: distributions(*dists), TRANSFORMERS_FILES: transformers_files(**files)}), profile()
    )


def test_a_release_that_knows_glm_moe_dsa_passes() -> None:
    outcome = model_type(dist("transformers", "5.5.1"))
    assert outcome.status is Status.PASS
    assert outcome.message == "transformers 5.5.1 knows glm_moe_dsa (index)"
    assert outcome.evidence["from_git"] is False


def test_a_git_install_that_knows_it_warns() -> None:
    outcome = model_type(dist("transformers", "5.6.0", direct_url=GIT))
    assert outcome.status is Status.WARN
    assert "is a development build (git https://github.com/huggingface/transformers @ abcdef012345)" in outcome.message
    assert outcome.evidence["from_git"] is True


def test_a_local_non_git_directory_install_is_not_a_git_build() -> None:
    local = {"url": "file:///src/transformers", "dir_info": {"editable": True}}
    outcome = model_type(dist("transformers", "5.5.1", direct_url=local))
    assert outcome.status is Status.PASS
    assert outcome.message == "transformers 5.5.1 knows glm_moe_dsa (editable file:///src/transformers)"


def test_a_dev_version_that_knows_it_warns() -> None:
    outcome = model_type(dist("transformers", "5.6.0.dev0"))
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("transformers 5.6.0.dev0 knows glm_moe_dsa but is a development build (index)")


def test_not_installed_fails() -> None:
    outcome = model_type(package_dir=None, config_exists=None)
    assert outcome.status is Status.FAIL
    assert outcome.message == ("transformers is not installed: vLLM needs it and GLM-5 needs transformers>=5.2.0")


def test_files_without_metadata_warn() -> None:
    outcome = model_type()
    assert outcome.status is Status.WARN
    assert outcome.message == (
        f"transformers is importable from {SITE}/transformers without installed metadata: version unknown"
    )


def test_unreadable_metadata_is_an_error() -> None:
    outcome = model_type(dist("transformers", "5.5.1", error="METADATA has no Version header"))
    assert outcome.status is Status.ERROR
    assert outcome.message.endswith(": METADATA has no Version header")


def test_a_version_that_is_not_pep440_is_an_error() -> None:
    outcome = model_type(dist("transformers", "five"))
    assert outcome.status is Status.ERROR
    assert outcome.message.endswith("transformers-five.dist-info: 'five'")


def test_metadata_without_package_folder_fails() -> None:
    outcome = model_type(dist("transformers", "5.5.1"), package_dir=None, config_exists=None)
    assert outcome.status is Status.FAIL
    assert outcome.message == f"transformers 5.5.1 has metadata in {SITE} but no package folder: reinstall it"


@pytest.mark.parametrize("version", ["5.2.0", "5.5.1"])
def test_a_release_that_should_know_it_but_lacks_the_file_is_broken(version: str) -> None:
    outcome = model_type(dist("transformers", version), config_exists=False)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"transformers {version} should ship glm_moe_dsa but")
    assert "the install is broken" in outcome.message


@pytest.mark.parametrize("version", ["4.57.6", "5.1.0", "5.2.0.dev0"])
def test_an_older_transformers_does_not_know_it(version: str) -> None:
    outcome = model_type(dist("transformers", version), config_exists=False)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"transformers {version} does not know glm_moe_dsa (first in 5.2.0)")
    assert "Transformers does not recognize this architecture" in outcome.message


# --- transformers.vllm-pin -------------------------------------------------------------------------


def pin(vllm_requires: list[str], transformers: str | None) -> Outcome:
    dists = [dist("vllm", "0.19.1", requires=vllm_requires)]
    if transformers is not None:
        dists.append(dist("transformers", transformers))
    return transformers_vllm_pin(facts({DISTRIBUTIONS: distributions(*dists)}), profile())


def test_inside_the_window_of_vllm_0191_passes() -> None:
    outcome = pin([PIN_0191], "5.5.1")
    assert outcome.status is Status.PASS
    assert outcome.message.startswith("transformers 5.5.1 is inside the GLM-5 window >=5.5.1 (vLLM 0.19.1 pins")
    assert outcome.evidence["glm5_window"] == ">=5.5.1"


def test_below_the_window_of_vllm_0191_fails_and_names_the_window() -> None:
    outcome = pin([PIN_0191], "5.5.0")
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("transformers 5.5.0; vLLM 0.19.1 pins transformers")
    assert outcome.message.endswith("; GLM-5 needs transformers>=5.5.1")


def test_missing_transformers_fails_with_the_window() -> None:
    outcome = pin([PIN_0191], None)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("transformers is not installed; vLLM 0.19.1 pins")
    assert outcome.evidence["transformers"] is None


def test_no_pin_means_glm5s_floor() -> None:
    passed = pin([], "5.2.0")
    assert passed.status is Status.PASS
    assert (
        passed.message
        == "transformers 5.2.0 is inside the GLM-5 window >=5.2.0 (vLLM 0.19.1 does not pin transformers)"
    )
    failed = pin(['transformers>=4.56; extra == "audio"'], "5.1.0")
    assert failed.status is Status.FAIL
    assert (
        failed.message == "transformers 5.1.0; vLLM 0.19.1 does not pin transformers; GLM-5 needs transformers>=5.2.0"
    )


@pytest.mark.parametrize("version", ["5.2.0", "5.4.0"])
def test_over_a_closed_pin_on_purpose_warns_without_a_fix(version: str) -> None:
    outcome = pin([PIN_016], version)
    assert outcome.status is Status.WARN
    assert outcome.suggest_fix is False
    assert outcome.message.startswith(f"transformers {version} is outside vLLM's pin on purpose")
    assert "the GLM-5 recipe installs transformers>=5.4.0 over it" in outcome.message
    assert outcome.evidence["glm5_window"] is None


@pytest.mark.parametrize("version", ["4.57.6", "5.1.0", None])
def test_inside_a_closed_pin_nothing_loads_glm5(version: str | None) -> None:
    outcome = pin([PIN_016], version)
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "vLLM 0.19.1 pins transformers<5,>=4.56.0 and nothing inside that pin loads GLM-5: install "
        "transformers>=5.4.0 over it as the GLM-5 recipe does, or use vLLM >= 0.19.1"
    )


def test_a_transformers_version_that_is_not_pep440_is_an_error() -> None:
    outcome = pin([PIN_0191], "latest")
    assert outcome.status is Status.ERROR
    assert outcome.message == "transformers' version 'latest' is not a PEP 440 version"


def test_a_prerelease_inside_the_window_passes() -> None:
    assert pin(["transformers>=5.10.4"], "5.11.0rc1").status is Status.PASS


# --- the window text (checks/_pins.py simplest_window), as the pass and fail messages show it --------


@pytest.mark.parametrize(
    ("vllm_pin", "installed", "window"),
    [
        ("transformers<5.3,>=4.56", "5.2.1", ">=5.2.0,<5.3"),  # an upper bound is kept, after the floor
        ("transformers>=4.56,<6,!=5.3.0", "5.4.0", ">=5.2.0,<6,!=5.3.0"),  # bounds first, exclusions last
        ("transformers>=4.56,!=5.3.0", "5.2.0", ">=5.2.0,!=5.3.0"),  # an exclusion above the floor is kept
        (PIN_0191.removeprefix("transformers"), "5.6.0", ">=5.5.1"),  # exclusions at the floor move it
    ],
)
def test_the_window_keeps_what_still_matters(vllm_pin: str, installed: str, window: str) -> None:
    outcome = pin([vllm_pin if vllm_pin.startswith("transformers") else "transformers" + vllm_pin], installed)
    assert outcome.status is Status.PASS
    assert outcome.message.startswith(f"transformers {installed} is inside the GLM-5 window {window} (")
    assert outcome.evidence["glm5_window"] == window


def test_an_upper_bound_under_the_floor_fails_with_the_window() -> None:
    outcome = pin(["transformers<5.3,>=4.56"], "5.3.0")
    assert outcome.status is Status.FAIL
    assert outcome.message.endswith("GLM-5 needs transformers>=5.2.0,<5.3")


def test_a_pin_behind_a_platform_marker_still_counts() -> None:
    """Only extras make a Requires-Dist line optional; a platform marker does not."""
    outcome = pin(['transformers<5; platform_system == "Linux"'], "5.4.0")
    assert outcome.status is Status.WARN
    assert outcome.evidence["vllm_pin"] == "<5"


@pytest.mark.parametrize(
    ("vllm_pin", "installed", "window"),
    [
        ("transformers>=4.56,!=5.2.*", "5.3.0", ">=5.3.0"),  # a wildcard at the floor steps to the next minor
        ("transformers>=5.3,!=5.3.0", "5.3.1", ">=5.3.1"),  # an exact exclusion of a two-part floor
        # chains whose text order (SpecifierSet sorts it) is not their numeric order need several passes
        ("transformers>=5.8,!=5.8.*,!=5.9.*,!=5.10.*,!=5.11.*", "5.12.0", ">=5.12.0"),
        ("transformers>=5.2.9,!=5.2.9,!=5.2.10", "5.2.11", ">=5.2.11"),
    ],
)
def test_the_floor_steps_over_every_exclusion_at_it(vllm_pin: str, installed: str, window: str) -> None:
    outcome = pin([vllm_pin], installed)
    assert outcome.status is Status.PASS
    assert outcome.evidence["glm5_window"] == window


def test_a_one_part_wildcard_exclusion_leaves_the_next_major_open() -> None:
    outcome = pin(["transformers>=4.56,!=5.*"], "6.0.0")
    assert outcome.status is Status.PASS


# --- transformers.checkpoint-config -----------------------------------------------------------------

GLM52 = {
    "architectures": ["GlmMoeDsaForCausalLM"],
    "model_type": "glm_moe_dsa",
    "layer_types": ["deepseek_sparse_attention"] * 78,
}


def checkpoint_config(
    installed: str | None = "5.11.0",
    *,
    allowed: list[str] | None = None,
    config: dict[str, Any] | None = GLM52,
    model: str = "/models/GLM-5.2",
) -> Outcome:
    from glm5_doctor.checks.transformers import transformers_checkpoint_config
    from glm5_doctor.probes.model_files import MODEL_FILES

    from unit.facts import model_files

    values: dict[Any, Any] = {
        TRANSFORMERS_FILES: transformers_files(allowed_layer_types=allowed),
        DISTRIBUTIONS: distributions(*([dist("transformers", installed)] if installed else [])),
        MODEL_FILES: model_files(config=config) if config is not None else model_files(on_disk=False),
    }
    return transformers_checkpoint_config(facts(values), profile(model=model))


def test_without_transformers_the_config_check_skips() -> None:
    assert checkpoint_config(None).status is Status.SKIP


def test_an_unknown_checkpoint_not_on_disk_is_judged_after_download() -> None:
    outcome = checkpoint_config(config=None, model="someone/other-model")
    assert outcome.status is Status.SKIP and "judged after download" in outcome.message


def test_a_config_without_layer_types_passes() -> None:
    outcome = checkpoint_config(config=None, model="zai-org/GLM-5-FP8")
    assert outcome.status is Status.PASS and "lists no layer_types" in outcome.message


def test_the_installed_allowed_list_refuses_a_value_and_the_table_names_the_release() -> None:
    outcome = checkpoint_config("5.10.4", allowed=["full_attention", "sliding_attention"])
    assert outcome.status is Status.FAIL
    assert outcome.evidence["refused"] == ["deepseek_sparse_attention"] and outcome.evidence["needed"] == "5.11.0"


def test_the_installed_allowed_list_accepting_the_value_passes_whatever_the_version() -> None:
    outcome = checkpoint_config("5.10.4", allowed=["full_attention", "deepseek_sparse_attention"])
    assert outcome.status is Status.PASS


@pytest.mark.parametrize(("installed", "status"), [("5.10.4", Status.FAIL), ("5.11.0", Status.PASS)])
def test_without_an_allowed_list_the_first_accepting_release_decides(installed: str, status: Status) -> None:
    assert checkpoint_config(installed).status is status


def test_a_value_no_source_knows_is_said_plainly() -> None:
    outcome = checkpoint_config(config={**GLM52, "layer_types": ["something_new"]})
    assert outcome.status is Status.WARN and outcome.message.startswith("cannot judge layer_types something_new")
