"""The ``vllm serve`` command line with a failing check's problem corrected. Pure.

Scripts cannot edit the command a user runs from a unit file, a Dockerfile or a Kubernetes
manifest; what they can do is print the corrected line to paste there. This module writes that
line from the report: the original (secret-masked) argv with the offending option replaced.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from glm5_doctor import knowledge
from glm5_doctor.engine.results import Report, Result


def corrected_command(result: Result, report: Report) -> str | None:
    serve = report.profile.get("serve")
    if not isinstance(serve, Mapping):
        return None
    argv = list(serve.get("argv") or [])
    evidence = result.outcome.evidence
    if result.id == "serve.parsers":
        argv = _set(argv, "--tool-call-parser", knowledge.GLM5_TOOL_PARSER)
        argv = _set(argv, "--reasoning-parser", knowledge.GLM5_REASONING_PARSER)
    elif result.id == "serve.chat-template-format":
        argv = _set(argv, "--chat-template-content-format", "string")
    elif result.id == "serve.kv-cache-dtype":
        argv = _set(argv, "--kv-cache-dtype", "fp8")
    elif result.id == "serve.attention-backend-env":
        argv = _set(argv, "--attention-backend", str(evidence.get("VLLM_ATTENTION_BACKEND")))
    elif result.id == "serve.tensor-parallel":
        heads = int(evidence.get("num_attention_heads") or 64)
        tp = int(evidence.get("tensor_parallel_size") or 1)
        fitting = max(size for size in range(1, tp + 1) if heads % size == 0)
        argv = _set(argv, "--tensor-parallel-size", str(fitting), aliases=("-tp",))
    elif result.id in ("gpu.vram", "model.config"):
        longest = evidence.get("max_model_len_that_fits") or evidence.get("max_position_embeddings")
        if longest:
            argv = _set(argv, "--max-model-len", str(longest))
    elif result.id == "model.mtp-weights":
        argv = _drop(argv, "--speculative-config")
    else:
        return None
    return shlex.join(argv)


def _matches(token: str, names: tuple[str, ...]) -> bool:
    return any(token == name or token.startswith(name + "=") or token.startswith(name + ".") for name in names)


def _drop(argv: list[str], name: str, aliases: tuple[str, ...] = ()) -> list[str]:
    names = (name, *aliases)
    kept: list[str] = []
    skip_value = False
    for token in argv:
        if skip_value:
            skip_value = False
            if not token.startswith("-"):
                continue
        if _matches(token, names):
            skip_value = "=" not in token
            continue
        kept.append(token)
    return kept


def _set(argv: list[str], name: str, value: str, aliases: tuple[str, ...] = ()) -> list[str]:
    return [*_drop(argv, name, aliases), name, value]


def planner_environment(result: Result, report: Report) -> dict[str, Any]:
    command = corrected_command(result, report)
    return {"SUGGESTED_COMMAND": command} if command else {}
