"""The advisory database and its matching, pure: the shipped file against its schema, boundary versions."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest
from glm5_doctor.knowledge import advisories as db
from glm5_doctor.knowledge.advisories import AdvisoryError, Deployment, Verdict, evaluate, parse_database


def shipped_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("glm5_doctor.knowledge").joinpath(db.DATA_FILE).read_text(encoding="utf-8")
    )
    return data


def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("glm5_doctor.knowledge").joinpath(db.SCHEMA_FILE).read_text(encoding="utf-8")
    )
    return data


def test_every_shipped_advisory_validates_against_the_schema() -> None:
    data = shipped_json()
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.Draft202012Validator(schema()).validate(data)
    database = parse_database(data)
    assert len(database.advisories) >= 25
    assert [a.id for a in database.advisories] == [f"GLM5-ADV-{n:04d}" for n in range(1, len(database.advisories) + 1)]
    for advisory in database.advisories:
        assert all(url.startswith("https://") for url in advisory.sources), advisory.id
        assert advisory.affected or advisory.conditions, f"{advisory.id} would match every deployment"


def test_code_validator_and_schema_refuse_the_same_broken_entries() -> None:
    validator = jsonschema.Draft202012Validator(schema())
    broken: list[tuple[str, Any, str]] = [
        ("severity", "error", "severity"),
        ("id", "ADV-1", ".id"),
        ("sources", ["http://example.com"], "sources[0]"),
        ("conditions", {"gpu_colour": ["green"]}, "unknown fields ['gpu_colour']"),
        ("conditions", {"tensor_parallel_size": "eight"}, "tensor_parallel_size"),
        ("affected", [{"distribution": "vllm", "specifier": "newer than 0.2"}], "specifier"),
        ("fixed_in", {"vllm": ""}, "fixed_in"),
    ]
    for key, value, where in broken:
        data = shipped_json()
        data["advisories"][0][key] = value
        assert not validator.is_valid(data), key
        expected = re.escape("advisories[0].id") if key == "id" else "GLM5-ADV-0001.*" + re.escape(where)
        with pytest.raises(AdvisoryError, match=expected):
            parse_database(data)


def test_header_and_duplicates_are_refused() -> None:
    data = shipped_json()
    data["database"]["date"] = "December 2026"
    with pytest.raises(AdvisoryError, match=r"database.date"):
        parse_database(data)
    data = shipped_json()
    data["advisories"].append(dict(data["advisories"][0]))
    with pytest.raises(AdvisoryError, match="appears twice"):
        parse_database(data)


# --- boundary versions: the last affected matches, the first fixed does not --------------------------


def advisory(advisory_id: str) -> db.Advisory:
    found = db.load_builtin().get(advisory_id)
    assert found is not None
    return found


def deployment(versions: dict[str, str], **values: Any) -> Deployment:
    base: dict[str, Any] = {
        "compute_capabilities": ("9.0",),
        "tensor_parallel_size": 8,
        "pipeline_parallel_size": 1,
        "kv_cache_dtype": "auto",
        "speculative_method": "none",
        "tool_call_parser": "none",
        "reasoning_parser": "none",
        "chat_template_content_format": "auto",
        "load_format": "auto",
        "kv_connector": "none",
        "attention_backend": "auto",
        "model_family": "GLM-5",
        "quantization": "fp8",
    }
    base.update(values)
    return Deployment(versions={"python": "3.12.3", "driver": "580.95.05", **versions}, **base)


@pytest.mark.parametrize(
    ("advisory_id", "last_affected", "first_unaffected", "values"),
    [
        # a closed range read from the wheels: 0.28.0 is the last with FLASHMLA_SPARSE rejecting fp8_e4m3
        ("GLM5-ADV-0008", "0.28.0", "0.29.0", {"kv_cache_dtype": "fp8_e4m3"}),
        ("GLM5-ADV-0008", "0.16.0", "0.15.1", {"kv_cache_dtype": "fp8_e4m3"}),
        # fixed_in 0.21.0 (per-Python _C); Python 3.11 without an external DeepGEMM
        ("GLM5-ADV-0016", "0.20.0", "0.21.0", {}),
        # fixed_in 0.20.0 (vendored DeepGEMM)
        ("GLM5-ADV-0017", "0.19.1", "0.20.0", {}),
        # a nightly range: the dev build the thread names matches, the release does not
        ("GLM5-ADV-0001", "0.22.1rc1.dev69+gf69ede495", "0.22.1", {}),
        ("GLM5-ADV-0002", "0.28.1rc1.dev455+gdd0760165", "0.28.1rc1.dev456", {}),
        # the span of reports for MTP + tools: 0.24.0 is the last reported
        ("GLM5-ADV-0009", "0.24.0", "0.25.1", {"speculative_method": "mtp", "tool_call_parser": "glm47"}),
    ],
)
def test_boundary_versions(advisory_id: str, last_affected: str, first_unaffected: str, values: dict[str, Any]) -> None:
    item = advisory(advisory_id)
    contexts: dict[str, dict[str, Any]] = {
        "GLM5-ADV-0001": {"compute_capabilities": ("9.0",)},
        "GLM5-ADV-0002": {"compute_capabilities": ("10.3",), "speculative_method": "mtp", "model_family": "GLM-5.3"},
    }
    context = contexts.get(advisory_id, {})
    python = {"python": "3.11.7"} if advisory_id == "GLM5-ADV-0016" else {}
    hit = evaluate(item, deployment({"vllm": last_affected, **python}, **values, **context))
    miss = evaluate(item, deployment({"vllm": first_unaffected, **python}, **values, **context))
    assert hit.verdict is Verdict.MATCH, hit
    assert hit.evidence["vllm"] == last_affected
    assert miss.verdict is Verdict.NO_MATCH


def test_driver_boundaries() -> None:
    b200 = advisory("GLM5-ADV-0022")
    assert evaluate(b200, deployment({"driver": "570.133.19"}, compute_capabilities=("10.0",))).verdict is Verdict.MATCH
    assert (
        evaluate(b200, deployment({"driver": "570.133.20"}, compute_capabilities=("10.0",))).verdict is Verdict.NO_MATCH
    )
    assert (
        evaluate(b200, deployment({"driver": "570.133.19"}, compute_capabilities=("9.0",))).verdict is Verdict.NO_MATCH
    )
    cuda13 = advisory("GLM5-ADV-0021")
    assert evaluate(cuda13, deployment({"vllm": "0.20.0", "driver": "580.65.05"})).verdict is Verdict.MATCH
    assert evaluate(cuda13, deployment({"vllm": "0.20.0", "driver": "580.65.06"})).verdict is Verdict.NO_MATCH
    assert evaluate(cuda13, deployment({"vllm": "0.19.1", "driver": "570.133.20"})).verdict is Verdict.NO_MATCH


def test_absence_and_python_pseudo_distributions() -> None:
    item = advisory("GLM5-ADV-0016")
    on_312 = evaluate(item, deployment({"vllm": "0.20.0", "python": "3.12.3"}))
    assert on_312.verdict is Verdict.NO_MATCH
    with_external = evaluate(item, deployment({"vllm": "0.20.0", "python": "3.11.7", "deep-gemm": "2.1.1"}))
    assert with_external.verdict is Verdict.NO_MATCH
    assert evaluate(item, deployment({"vllm": "0.20.0", "python": "3.13.1"})).evidence["deep-gemm"] == "not installed"


def test_unknown_values_make_an_advisory_undetermined_never_a_match() -> None:
    item = advisory("GLM5-ADV-0003")  # LMCache: needs the serve command's kv connector
    unknown = evaluate(item, deployment({"vllm": "0.19.0"}, kv_connector=None))
    assert unknown.verdict is Verdict.UNDETERMINED and unknown.unknown == ("kv_connector",)
    assert evaluate(item, deployment({"vllm": "0.19.0"}, kv_connector="LMCacheConnectorV1")).verdict is Verdict.MATCH
    assert evaluate(item, deployment({"vllm": "0.18.0"}, kv_connector=None)).verdict is Verdict.NO_MATCH
    driver = Deployment(versions={"vllm": "0.20.0"}, unknown_versions=frozenset({"driver"}))
    assert evaluate(advisory("GLM5-ADV-0021"), driver).verdict is Verdict.UNDETERMINED


def test_numbers_and_families() -> None:
    item = advisory("GLM5-ADV-0019")  # hopper, TP >= 2
    assert evaluate(item, deployment({"vllm": "0.26.0"}, tensor_parallel_size=2)).verdict is Verdict.MATCH
    assert evaluate(item, deployment({"vllm": "0.26.0"}, tensor_parallel_size=1)).verdict is Verdict.NO_MATCH
    blackwell = deployment({"vllm": "0.26.0"}, compute_capabilities=("10.0",))
    assert evaluate(item, blackwell).verdict is Verdict.NO_MATCH
    assert db.model_family("zai-org/GLM-5-FP8") == "GLM-5"
    assert db.model_family("/models/nvidia/GLM-5.2-NVFP4") == "GLM-5.2"
    assert db.model_family("zai-org/GLM-5.3-Flash") == "GLM-5.3-Flash"
    assert db.model_family("Qwen/Qwen3-8B") is None
    assert db.quantization_from_name("lukealonso/GLM-5-NVFP4") == "nvfp4"
