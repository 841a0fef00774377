"""python.version: the target interpreter against vLLM's Requires-Python, or the 0.16-0.19 range."""

from __future__ import annotations

from glm5_doctor.checks.python import python_version
from glm5_doctor.engine.results import Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.interpreter import INTERPRETER

from unit.facts import dist, distributions, facts, interpreter, profile


def test_inside_vllms_requires_python() -> None:
    outcome = python_version(
        facts(
            {
                INTERPRETER: interpreter("3.12.3"),
                DISTRIBUTIONS: distributions(dist("vllm", "0.33.0", requires_python=">=3.11,<3.15")),
            }
        ),
        profile(),
    )
    assert outcome.status is Status.PASS
    assert outcome.message == "Python 3.12.3 is inside vLLM 0.33.0's Requires-Python (<3.15,>=3.11)"
    assert outcome.evidence == {"python": "/venv/bin/python", "version": "3.12.3", "requires_python": "<3.15,>=3.11"}


def test_outside_vllms_requires_python() -> None:
    outcome = python_version(
        facts(
            {
                INTERPRETER: interpreter("3.10.12"),
                DISTRIBUTIONS: distributions(dist("vllm", "0.33.0", requires_python=">=3.11,<3.15")),
            }
        ),
        profile(),
    )
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "Python 3.10.12 is outside vLLM 0.33.0's Requires-Python (<3.15,>=3.11): use Python 3.12"
    )


def test_without_vllm_the_fallback_range_applies() -> None:
    inside = python_version(facts({INTERPRETER: interpreter("3.13.1"), DISTRIBUTIONS: distributions()}), profile())
    assert inside.status is Status.PASS
    assert "the range vLLM 0.16-0.19 support (no vLLM installed) (<3.14,>=3.10)" in inside.message
    outside = python_version(facts({INTERPRETER: interpreter("3.14.0"), DISTRIBUTIONS: distributions()}), profile())
    assert outside.status is Status.FAIL
    assert "Python 3.14.0 is outside the range vLLM 0.16-0.19 support" in outside.message


def test_vllm_without_requires_python_uses_the_fallback_range() -> None:
    outcome = python_version(
        facts({INTERPRETER: interpreter("3.14.0"), DISTRIBUTIONS: distributions(dist("vllm", "0.19.1"))}), profile()
    )
    assert outcome.status is Status.FAIL
    assert "(no vLLM installed)" in outcome.message
    assert outcome.evidence["requires_python"] == "<3.14,>=3.10"


def test_a_prerelease_python_inside_the_range_passes() -> None:
    """pip accepts 3.13.0rc1 for >=3.10,<3.14; so does the check."""
    outcome = python_version(
        facts(
            {
                INTERPRETER: interpreter("3.13.0rc1"),
                DISTRIBUTIONS: distributions(dist("vllm", "0.19.1", requires_python=">=3.10,<3.14")),
            }
        ),
        profile(),
    )
    assert outcome.status is Status.PASS


def test_an_invalid_requires_python_is_an_error() -> None:
    outcome = python_version(
        facts(
            {
                INTERPRETER: interpreter("3.12.3"),
                DISTRIBUTIONS: distributions(dist("vllm", "0.19.1", requires_python=">=3.10,<<3.14")),
            }
        ),
        profile(),
    )
    assert outcome.status is Status.ERROR
    assert outcome.message == "vLLM 0.19.1's Requires-Python '>=3.10,<<3.14' is not a valid specifier"
    assert outcome.evidence["metadata"].endswith("vllm-0.19.1.dist-info")
