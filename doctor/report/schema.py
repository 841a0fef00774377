"""The JSON Schema of ``glm5-doctor run --format json`` (schema_version 1), printed by ``glm5-doctor schema``.

Bump ``schema_version`` and this schema together on any breaking change to the document.
"""

from __future__ import annotations

from typing import Any

STATUSES = ["pass", "warn", "fail", "skip", "error"]

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
            "type": "object",
            "required": ["name", "model", "tensor_parallel_size"],
            "properties": {
                "name": {"type": "string"},
                "model": {"type": "string"},
                "tensor_parallel_size": {"type": "integer", "minimum": 1},
                "pipeline_parallel_size": {"type": "integer", "minimum": 1},
                "max_model_len": {"type": "integer"},
                "gpu_memory_utilization": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "kv_cache_dtype": {"type": "string"},
                "port": {"type": "integer"},
                "gpu": {"type": "string"},
            },
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
        "summary": {
            "type": "object",
            "required": [*STATUSES, "ok", "strict"],
            "properties": {
                **{status: {"type": "integer", "minimum": 0} for status in STATUSES},
                "ok": {"type": "boolean", "description": "false when the exit code is 1"},
                "strict": {"type": "boolean", "description": "warnings counted as failures"},
            },
        },
        "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
    },
    "$defs": {
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
        }
    },
}
