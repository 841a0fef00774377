"""The doctor's attention verdicts against vLLM 0.19.1's own attention selector, GPU by GPU, dtype by dtype.

tests/fixtures/real/vllm-0.19.1-attention-selector.json holds what the real selector decided for GLM-5's
attention (sparse MLA, head size 576) on an H200 and an A100, for every KV-cache dtype: the backend it
chose, or the reasons it found none. gpu.architecture and serve.kv-cache-dtype, judging the same vLLM
(its sparse-MLA backends read from the same release's files), must together fail exactly where vLLM
found none (gpu.architecture warns, not fails, on a GPU other than the validated B200).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from glm5_doctor.checks.gpu import gpu_architecture
from glm5_doctor.checks.serve import serve_kv_cache_dtype
from glm5_doctor.engine.results import Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.nvml import NVML
from glm5_doctor.probes.vllm_files import VLLM_FILES

from unit.facts import device, dist, distributions, facts, nvml_fact, profile, real_vllm_files, serve

FIXTURES = Path(__file__).parents[1] / "fixtures"
CAPTURE = json.loads((FIXTURES / "real" / "vllm-0.19.1-attention-selector.json").read_text())


@pytest.mark.parametrize(
    "decision", CAPTURE["decisions"], ids=[f"{d['gpu']}-{d['kv_cache_dtype']}" for d in CAPTURE["decisions"]]
)
def test_the_checks_fail_exactly_where_vllm_found_no_backend(decision: dict[str, Any]) -> None:
    values: dict[Any, Any] = {
        NVML: nvml_fact([device(index, decision["gpu"], tuple(decision["compute_capability"])) for index in range(8)]),
        VLLM_FILES: real_vllm_files("0.19.1"),
        DISTRIBUTIONS: distributions(dist("vllm", "0.19.1")),
    }
    deployment = profile(serve=serve(kv_cache_dtype=decision["kv_cache_dtype"]))
    verdicts = [check(facts(values), deployment).status for check in (gpu_architecture, serve_kv_cache_dtype)]
    vllm_runs = decision["backend"] is not None
    assert (Status.FAIL not in verdicts) == vllm_runs, (verdicts, decision["error_reasons"])
    assert Status.ERROR not in verdicts


def test_the_capture_covers_both_outcomes_on_hopper() -> None:
    hopper = [d for d in CAPTURE["decisions"] if d["compute_capability"] == [9, 0]]
    assert {d["backend"] is None for d in hopper} == {True, False}
