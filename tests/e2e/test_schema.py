"""The JSON Schema follows the code: statuses from Status, the profile from the Profile dataclass."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from glm5_doctor.deployment.profile import BUILTIN_PROFILES, DEFAULT_PROFILE, Profile
from glm5_doctor.deployment.serve_args import ServeArgs, parse_serve_command
from glm5_doctor.engine.results import ExitCode, Status
from glm5_doctor.report.schema import REPORT_SCHEMA, dataclass_schema, type_schema
from helpers import TargetEnv, doctor_env, run_doctor

PROFILE_SCHEMA = REPORT_SCHEMA["properties"]["profile"]
SERVE = "vllm serve zai-org/GLM-5-FP8 -tp 8 --max-model-len 32K --tool-call-parser glm47 --enable-auto-tool-choice"


def test_the_printed_schema_is_the_one_in_the_code() -> None:
    printed = run_doctor("schema")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == REPORT_SCHEMA
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)


def test_statuses_come_from_the_status_enum() -> None:
    values = [status.value for status in Status]
    assert REPORT_SCHEMA["$defs"]["result"]["properties"]["status"]["enum"] == values
    assert REPORT_SCHEMA["properties"]["summary"]["required"] == [*values, "ok", "strict"]
    assert str(int(ExitCode.CHECKS_FAILED)) in REPORT_SCHEMA["properties"]["summary"]["properties"]["ok"]["description"]


def test_every_profile_field_is_in_the_schema_with_its_json_type() -> None:
    properties = PROFILE_SCHEMA["properties"]
    assert list(properties) == [item.name for item in dataclasses.fields(Profile)]
    assert PROFILE_SCHEMA["required"] == ["name", "model", "tensor_parallel_size"]
    assert properties["tensor_parallel_size"] == {"type": "integer", "minimum": 1}
    assert properties["gpu_memory_utilization"]["type"] == "number"
    assert properties["detect_gpu"] == {"type": "boolean"}
    serve = properties["serve"]["anyOf"]
    assert serve[1] == {"type": "null"}
    assert list(serve[0]["properties"]) == [item.name for item in dataclasses.fields(ServeArgs)]


@pytest.mark.parametrize("profile", [*BUILTIN_PROFILES.values()], ids=lambda profile: profile.name)
def test_every_builtin_profile_and_a_serve_command_meet_the_schema(profile: Profile) -> None:
    jsonschema.validate(json.loads(json.dumps(profile.to_dict())), PROFILE_SCHEMA)
    serve = parse_serve_command([*SERVE.split(), "--speculative-config.method=mtp"])
    serving = dataclasses.replace(profile, serve=serve)
    jsonschema.validate(json.loads(json.dumps(serving.to_dict())), PROFILE_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**DEFAULT_PROFILE.to_dict(), "port": "8000"}, PROFILE_SCHEMA)


def test_a_preflight_report_with_its_serve_arguments_validates(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_vllm_release("0.15.1")
    report_file = tmp_path / "report.json"
    args = ["--python", str(target_env.python), "--format", "json", "--output", str(report_file)]
    completed = subprocess.run(
        [sys.executable, "-m", "glm5_doctor", "preflight", *args, "--", *SERVE.split(), "--api-key", "sk-x"],
        capture_output=True,
        text=True,
        env=doctor_env(),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    report = json.loads(report_file.read_text())
    jsonschema.validate(report, REPORT_SCHEMA)
    assert report["profile"]["serve"]["tool_call_parser"] == "glm47"
    assert report["profile"]["max_model_len"] == 32768


def test_types_map_to_json_and_unknown_ones_are_refused() -> None:
    @dataclass
    class Sample:
        name: str
        count: int
        ratio: float = 0.5
        flags: tuple[str, ...] = ()
        extra: dict[str, Any] = field(default_factory=dict)
        note: str | None = None

    assert dataclass_schema(Sample, {"count": {"minimum": 0}}) == {
        "type": "object",
        "required": ["name", "count"],
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "ratio": {"type": "number"},
            "flags": {"type": "array", "items": {"type": "string"}},
            "extra": {"type": "object"},
            "note": {"type": ["string", "null"]},
        },
    }
    with pytest.raises(ValueError, match="missing"):
        dataclass_schema(Sample, {"missing": {"minimum": 0}})
    with pytest.raises(TypeError):
        type_schema(set[str])
