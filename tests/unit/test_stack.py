"""vllm.stack-import: what the target's own Python really did (``--deep``), against the fast checks' story.

The two real answers come from vLLM 0.19.1 with all its dependencies installed on this project's CPU
machine (tests/fixtures/real/deep-vllm-0.19.1/): with transformers 5.25.0 every stage passes; after
``pip install transformers==5.5.1`` the left-behind kernels 0.19.1 breaks vLLM's own import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from glm5_doctor.checks.vllm import vllm_stack_import
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.interpreter import INTERPRETER
from glm5_doctor.probes.python_stack import PYTHON_STACK, PythonStackFact
from glm5_doctor.probes.transformers_files import TRANSFORMERS_FILES
from glm5_doctor.probes.vllm_files import VLLM_FILES

from unit.facts import (
    dist,
    distributions,
    facts,
    interpreter,
    profile,
    transformers_files,
    vllm_files,
)

REAL = Path(__file__).parents[1] / "fixtures" / "real" / "deep-vllm-0.19.1"
GOOD = json.loads((REAL / "facts-transformers-5.25.0.json").read_text())["python_stack"]
KERNELS = json.loads((REAL / "facts-transformers-5.5.1-kernels-0.19.1.json").read_text())["python_stack"]
#: transformers 5.5.1's real declaration (its METADATA) and the kernels vLLM 0.19.1's install left
LEFT_BEHIND = [
    dist("transformers", "5.5.1", requires=['kernels<0.13,>=0.12.0; extra == "kernels"']),
    dist("kernels", "0.19.1"),
]


def judge(stack: Any, *installed: Any, files: Any = None, transformers: Any = None) -> Outcome:
    values: dict[Any, Any] = {
        PYTHON_STACK: stack,
        VLLM_FILES: files or vllm_files(),
        TRANSFORMERS_FILES: transformers or transformers_files(),
        INTERPRETER: interpreter(),
        DISTRIBUTIONS: distributions(dist("vllm", "0.19.1"), *installed),
    }
    return vllm_stack_import(facts(values), profile())


def stack(stages: list[dict[str, Any]], **changes: Any) -> PythonStackFact:
    fact: dict[str, Any] = {**GOOD, "stages": stages, **changes}
    return fact  # type: ignore[return-value]


def test_without_deep_it_is_skipped_and_says_why() -> None:
    outcome = judge({**GOOD, "ran": False, "why_not": "not asked for (run with --deep)"})
    assert outcome.status is Status.SKIP and outcome.message == "not run: not asked for (run with --deep)"


def test_the_real_complete_stack_passes_with_its_stage_times() -> None:
    outcome = judge(GOOD)
    assert outcome.status is Status.PASS
    assert outcome.message.startswith("vLLM imported, resolved the architecture and built its model config")
    assert "vllm_model_config 1.41 s" in outcome.message


def test_the_real_left_behind_kernels_is_confirmed_with_both_stories() -> None:
    outcome = judge(KERNELS, *LEFT_BEHIND)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        "confirmed by the target's own Python: registry: ValueError: Either a revision or a version must be specified."
    )
    assert "(as vllm.optional-imports: kernels 0.19.1 is installed" in outcome.message


def test_a_failure_the_fast_checks_did_not_predict_fails_saying_so() -> None:
    outcome = judge(KERNELS)
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "the fast checks found nothing, but the target's own Python failed in registry: "
        "ValueError: Either a revision or a version must be specified."
    )


def test_a_predicted_failure_that_does_not_happen_fails_with_both_stories() -> None:
    outcome = judge(GOOD, *LEFT_BEHIND)
    assert outcome.status is Status.FAIL
    assert "the fast checks predicted a failure (vllm.optional-imports:" in outcome.message
    assert "the prediction is wrong here" in outcome.message


def test_the_generic_transformers_backend_is_no_glm5_server() -> None:
    """vLLM 0.15.1 with transformers >= 5.2 does not refuse GLM-5: it falls back to dense attention."""
    stages = [dict(s) for s in GOOD["stages"]]
    stages[-1]["value"] = {"architectures": ["GlmMoeDsaForCausalLM"], "resolved": "TransformersMoEForCausalLM"}
    outcome = judge(stack(stages), files=vllm_files(glm5_module=None, glm5_module_file_exists=None))
    assert outcome.status is Status.FAIL
    assert "generic Transformers backend (TransformersMoEForCausalLM)" in outcome.message


def test_a_stack_that_ran_out_of_time_is_an_error_not_a_pass() -> None:
    outcome = judge(stack(GOOD["stages"][:2], timed_out=True, finished=False))
    assert outcome.status is Status.ERROR
    assert outcome.message == "the target's Python did not finish (registry) within its deadline"


def test_no_gpu_platform_for_the_model_config_is_a_warning() -> None:
    stages = [dict(s) for s in GOOD["stages"]]
    stages[-1].update(ok=False, error="RuntimeError: Failed to infer device type")
    outcome = judge(stack(stages))
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("vLLM needs a GPU platform for its model config here")
