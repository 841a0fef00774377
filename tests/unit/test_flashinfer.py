"""flashinfer.versions: flashinfer-python at vLLM's pin, its companion wheels at the same version."""

from __future__ import annotations

from glm5_doctor.checks.flashinfer import flashinfer_versions
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS, DistributionFact

from unit.facts import dist, distributions, facts, profile

VLLM = dist("vllm", "0.19.1", requires=["flashinfer-python==0.6.6", "numpy"])


def judge(*dists: DistributionFact) -> Outcome:
    return flashinfer_versions(facts({DISTRIBUTIONS: distributions(*dists)}), profile())


def test_the_pinned_version_with_matching_companions_passes() -> None:
    outcome = judge(
        VLLM,
        dist("flashinfer-python", "0.6.6"),
        dist("flashinfer-cubin", "0.6.6"),
        dist("flashinfer-jit-cache", "0.6.6+cu129"),
    )
    assert outcome.status is Status.PASS
    assert outcome.message == (
        "flashinfer-python 0.6.6, as vLLM 0.19.1 pins with flashinfer-cubin, flashinfer-jit-cache at the same version"
    )
    assert outcome.evidence == {
        "vllm_pin": "==0.6.6",
        "flashinfer-python": "0.6.6",
        "flashinfer-cubin": "0.6.6",
        "flashinfer-jit-cache": "0.6.6+cu129",
    }


def test_without_vllm_and_companions_only_the_version_is_shown() -> None:
    outcome = judge(dist("flashinfer-python", "0.6.6"))
    assert outcome.status is Status.PASS
    assert outcome.message == "flashinfer-python 0.6.6"


def test_missing_but_required_by_vllm_fails() -> None:
    outcome = judge(VLLM)
    assert outcome.status is Status.FAIL
    assert outcome.message == "flashinfer-python is not installed; vLLM 0.19.1 needs flashinfer-python==0.6.6"


def test_companions_without_the_main_wheel_fail() -> None:
    outcome = judge(dist("vllm", "0.19.1"), dist("flashinfer-cubin", "0.6.6"))
    assert outcome.status is Status.FAIL
    assert outcome.message == "flashinfer-cubin installed without flashinfer-python"


def test_nothing_installed_and_nothing_required_is_skipped() -> None:
    outcome = judge(dist("vllm", "0.19.1", requires=["numpy"]))
    assert outcome.status is Status.SKIP
    assert outcome.message == "flashinfer is not installed and no installed vLLM requires it"


def test_a_version_that_is_not_pep440_is_an_error() -> None:
    outcome = judge(VLLM, dist("flashinfer-python", "nightly"))
    assert outcome.status is Status.ERROR
    assert outcome.message == "flashinfer-python's version 'nightly' is not a PEP 440 version"


def test_another_version_than_vllms_pin_fails() -> None:
    outcome = judge(VLLM, dist("flashinfer-python", "0.6.1"))
    assert outcome.status is Status.FAIL
    assert outcome.message == "flashinfer-python 0.6.1 is not vLLM 0.19.1's pin (flashinfer-python==0.6.6)"


def test_a_stale_companion_fails_with_flashinfers_own_error() -> None:
    outcome = judge(VLLM, dist("flashinfer-python", "0.6.6"), dist("flashinfer-cubin", "0.6.1"))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("flashinfer-cubin 0.6.1 does not match flashinfer-python 0.6.6: the engine stops")
    assert "flashinfer-cubin version (0.6.1) does not match flashinfer version (0.6.6)" in outcome.message


def test_a_companion_with_an_unreadable_version_fails() -> None:
    outcome = judge(dist("flashinfer-python", "0.6.6"), dist("flashinfer-jit-cache", "latest"))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("flashinfer-jit-cache latest does not match flashinfer-python 0.6.6")


def test_a_vllm_without_a_flashinfer_pin_is_not_named() -> None:
    outcome = judge(dist("vllm", "0.19.1", requires=["numpy"]), dist("flashinfer-python", "0.6.6"))
    assert outcome.status is Status.PASS
    assert outcome.message == "flashinfer-python 0.6.6"
