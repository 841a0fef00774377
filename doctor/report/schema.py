"""The JSON Schemas of the ``--format json`` report (schema_version 1) and of snapshots (``schema --snapshot``).

Bump ``schema_version`` and this schema together on any breaking change to the document.

The parts that mirror code come from the code: the statuses from :class:`Status`, the profile's
properties (names, JSON types, which are required) from the :class:`Profile` dataclass, the
exit code ``ok`` stands for from :class:`ExitCode`. Only what a type cannot say (ranges) is
written here, keyed by field name, and a name that is not a field fails at import.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.results import ExitCode, Status
from glm5_doctor.engine.snapshot import KIND, READABLE_VERSIONS, SNAPSHOT_VERSION

STATUSES = [status.value for status in Status]

#: Constraints the field types cannot express.
PROFILE_CONSTRAINTS: dict[str, dict[str, Any]] = {
    "tensor_parallel_size": {"minimum": 1},
    "pipeline_parallel_size": {"minimum": 1},
    "gpu_memory_utilization": {"exclusiveMinimum": 0, "maximum": 1},
}

_JSON_TYPES: dict[object, str] = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def type_schema(annotation: object) -> dict[str, Any]:
    """The JSON Schema of a value of ``annotation`` as ``dataclasses.asdict`` and ``json.dumps`` write it."""
    if annotation is Any:
        return {}
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [type_schema(arg) for arg in args]
        if all(set(option) == {"type"} and isinstance(option["type"], str) for option in options):
            return {"type": [option["type"] for option in options]}
        return {"anyOf": options}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {"enum": [member.value for member in annotation]}
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return dataclass_schema(annotation)
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return {"type": "array", "items": type_schema(args[0])}
    if origin in (dict, Mapping):
        values = type_schema(args[1]) if args else {}
        return {"type": "object", **({"additionalProperties": values} if values else {})}
    raise TypeError(f"no JSON Schema for the annotation {annotation!r}")


def dataclass_schema(cls: type, constraints: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """An object with one property per field; fields without a default are required."""
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    unknown = set(constraints or {}) - {item.name for item in fields}
    if unknown:
        raise ValueError(f"constraints for fields {cls.__name__} does not have: {sorted(unknown)}")
    properties = {
        item.name: {**type_schema(hints[item.name]), **(constraints or {}).get(item.name, {})} for item in fields
    }
    required = [
        item.name
        for item in fields
        if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
    ]
    return {"type": "object", "required": required, "properties": properties}


REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/glm5-doctor/glm5-doctor/schema/report-v1.json",
    "title": "glm5-doctor report",
    "type": "object",
    "required": ["schema_version", "tool", "profile", "target", "summary", "results"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": 1},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "glm5-doctor"}, "version": {"type": "string"}},
        },
        "profile": {
            **dataclass_schema(Profile, PROFILE_CONSTRAINTS),
            "description": "the deployment judged (glm5_doctor.deployment.profile.Profile)",
        },
        "target": {
            "type": "object",
            "description": "The Python environment vLLM will run in, which the package verdicts are about.",
            "required": ["python", "python_version"],
            "properties": {
                "python": {"type": "string"},
                "python_version": {"type": ["string", "null"]},
                "gpus": {"type": ["string", "null"], "description": "the GPUs CUDA will see, e.g. '8 x NVIDIA B200'"},
                "error": {"type": ["string", "null"]},
            },
        },
        "advisories": {
            "type": "object",
            "description": "the known-bug advisory database the run matched (optional: absent in older reports)",
            "required": ["name", "version", "date", "source", "count"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "date": {"type": "string"},
                "source": {"type": "string", "description": "'builtin' or the --advisories FILE"},
                "count": {"type": "integer", "minimum": 0},
            },
        },
        "summary": {
            "type": "object",
            "required": [*STATUSES, "ok", "strict"],
            "properties": {
                **{status: {"type": "integer", "minimum": 0} for status in STATUSES},
                "ok": {
                    "type": "boolean",
                    "description": f"false when the exit code is {int(ExitCode.CHECKS_FAILED)}",
                },
                "strict": {"type": "boolean", "description": "warnings counted as failures"},
                "nodes": {"type": "integer", "minimum": 0, "description": "glm5-doctor fleet: the Ray nodes judged"},
            },
        },
        "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
        "nodes": {
            "type": "array",
            "description": "glm5-doctor fleet only: every Ray node's own report (or why it has none); the "
            "top-level results are then the cross-node ones and the summary counts every node's results too",
            "items": {"$ref": "#/$defs/node"},
        },
    },
    "$defs": {
        "node": {
            "type": "object",
            "required": ["name", "node_id", "address", "head", "duration_ms", "error", "report"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "description": "the node's address (with its port where addresses repeat)"},
                "node_id": {"type": "string"},
                "address": {"type": "string"},
                "head": {"type": "boolean"},
                "duration_ms": {"type": "integer", "minimum": 0},
                "error": {"type": ["string", "null"], "description": "why the node gave no facts (dead, hung, ...)"},
                "report": {"oneOf": [{"type": "null"}, {"$ref": "#"}]},
            },
        },
        "result": {
            "type": "object",
            "required": ["id", "title", "category", "status", "message", "evidence", "fix", "duration_ms", "source"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": r"^[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9_]+(-[a-z0-9_]+)*$"},
                "title": {"type": "string"},
                "category": {"type": "string"},
                "status": {"enum": STATUSES},
                "message": {"type": "string", "description": "one line a person can act on"},
                "evidence": {"type": "object", "description": "the values the verdict rests on"},
                "fix": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "required": ["script", "command"],
                            "properties": {"script": {"type": "string"}, "command": {"type": "string"}},
                        },
                    ]
                },
                "duration_ms": {"type": "integer", "minimum": 0},
                "source": {"type": "string", "description": "'builtin' or the plugin distribution"},
                "details": {"type": "string", "description": "long text, e.g. a traceback"},
            },
        },
    },
}


#: The JSON Schema of a ``glm5-doctor snapshot`` document (``glm5-doctor schema --snapshot``).
SNAPSHOT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"https://github.com/glm5-doctor/glm5-doctor/schema/snapshot-v{SNAPSHOT_VERSION}.json",
    "title": "glm5-doctor snapshot",
    "description": "The facts one machine gave for one deployment, redacted; 'glm5-doctor run --from-snapshot' "
    "judges them. Fact values are plain JSON whose shape belongs to the probe that gathered them.",
    "type": "object",
    "required": ["snapshot_version", "kind", "tool", "taken_at", "profile", "target", "facts", "errors"],
    "properties": {
        "snapshot_version": {"enum": sorted(READABLE_VERSIONS)},
        "kind": {"const": KIND},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "glm5-doctor"}, "version": {"type": "string"}},
        },
        "taken_at": {"type": "string", "description": "UTC, ISO 8601, e.g. 2026-01-31T12:00:00Z"},
        "deep": {"type": "boolean", "description": "slow probes (--deep) ran"},
        "profile": {
            **dataclass_schema(Profile, PROFILE_CONSTRAINTS),
            "description": "the deployment the facts were gathered for",
        },
        "target": REPORT_SCHEMA["properties"]["target"],
        "facts": {
            "type": "object",
            "description": "fact name (a probe module of glm5_doctor.probes) -> what its probe gathered",
        },
        "errors": {
            "type": "object",
            "description": "fact name -> why its probe gave no answer",
            "additionalProperties": {"type": "string"},
        },
    },
}
