"""What the checks' fixes need from this machine, declared beside the checks that link them.

An ``environment`` function turns a failing result (its evidence) and the report (its target
Python, its profile) into the variables a script reads (``TRANSFORMERS_SPEC``, ``CUDA_MIN``, ...;
see each script's header). A ``serve_edit`` corrects the ``vllm serve`` argv for the one option the
result is about. Pure: results in, values out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glm5_doctor import knowledge
from glm5_doctor.engine.check import Fix
from glm5_doctor.engine.results import Report, Result
from glm5_doctor.knowledge import TRANSFORMERS_RECIPE_FLOOR

SUGGEST_SERVE_COMMAND = "suggest-serve-command.sh"


def _pin(evidence: Mapping[str, Any], key: str) -> str | None:
    value = evidence.get(key)
    return str(value) if value else None


def transformers_spec(result: Result, report: Report) -> dict[str, str]:
    window = _pin(result.outcome.evidence, "glm5_window")
    return {"TRANSFORMERS_SPEC": f"transformers{window}" if window else f"transformers>={TRANSFORMERS_RECIPE_FLOOR}"}


def layer_types_floor(result: Result, report: Report) -> dict[str, str]:
    """The first transformers release that accepts every layer_types value the checkpoint uses."""
    needed = _pin(result.outcome.evidence, "needed")
    return {"TRANSFORMERS_SPEC": f"transformers>={needed}"} if needed else {}


def reinstall_with_extra(result: Result, report: Report) -> dict[str, str]:
    """The importing package again, with the extra that makes pip resolve what it imports."""
    spec = _pin(result.outcome.evidence, "reinstall")
    return {"TRANSFORMERS_SPEC": spec} if spec else {}


def torch_spec(result: Result, report: Report) -> dict[str, str]:
    evidence = result.outcome.evidence
    plan = {}
    pin = _pin(evidence, "vllm_pin")
    if pin:
        plan["TORCH_SPEC"] = f"torch{pin}"
    if evidence.get("cuda_major") == 13:
        plan["TORCH_INDEX_URL"] = "https://download.pytorch.org/whl/cu130"
    return plan


def flashinfer_version(result: Result, report: Report) -> dict[str, str]:
    pin = _pin(result.outcome.evidence, "vllm_pin")
    return {"FLASHINFER_VERSION": pin.lstrip("=")} if pin and pin.startswith("==") else {}


def cuda_floor(result: Result, report: Report) -> dict[str, str]:
    required = _pin(result.outcome.evidence, "required")
    return {"CUDA_MIN": required} if required else {}


def model_download(result: Result, report: Report) -> dict[str, str]:
    plan = {"MODEL": str(report.profile.get("model"))}
    serve = report.profile.get("serve") or {}
    if isinstance(serve, Mapping) and serve.get("download_dir"):
        plan["DOWNLOAD_DIR"] = str(serve["download_dir"])
    return plan


def server_port(result: Result, report: Report) -> dict[str, str]:
    return {"PORT": str(result.outcome.evidence.get("port") or report.profile.get("port") or 8000)}


def first_gpu(result: Result, report: Report) -> dict[str, str]:
    for name in result.outcome.evidence:
        if name.startswith("GPU "):
            return {"GPU": name.split()[1]}
    return {}


# --- corrections of the vllm serve command ---------------------------------------------------------


def _matches(token: str, names: tuple[str, ...]) -> bool:
    return any(token == name or token.startswith(name + "=") or token.startswith(name + ".") for name in names)


def drop_option(argv: list[str], name: str, aliases: tuple[str, ...] = ()) -> list[str]:
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


def set_option(argv: list[str], name: str, value: str, aliases: tuple[str, ...] = ()) -> list[str]:
    return [*drop_option(argv, name, aliases), name, value]


def glm5_parsers(argv: list[str], evidence: Mapping[str, Any]) -> list[str]:
    argv = set_option(argv, "--tool-call-parser", knowledge.GLM5_TOOL_PARSER)
    return set_option(argv, "--reasoning-parser", knowledge.GLM5_REASONING_PARSER)


def string_content_format(argv: list[str], evidence: Mapping[str, Any]) -> list[str]:
    return set_option(argv, "--chat-template-content-format", "string")


def fp8_kv_cache(argv: list[str], evidence: Mapping[str, Any]) -> list[str]:
    return set_option(argv, "--kv-cache-dtype", "fp8")


def attention_backend_flag(argv: list[str], evidence: Mapping[str, Any]) -> list[str] | None:
    backend = evidence.get("VLLM_ATTENTION_BACKEND")
    return set_option(argv, "--attention-backend", str(backend)) if backend else None


def without_attention_backend(argv: list[str], evidence: Mapping[str, Any]) -> list[str]:
    return drop_option(argv, "--attention-backend")


def dividing_tensor_parallel(argv: list[str], evidence: Mapping[str, Any]) -> list[str]:
    heads = int(evidence.get("num_attention_heads") or 64)
    tp = int(evidence.get("tensor_parallel_size") or 1)
    # Bounded by the head count: the largest TP that divides the heads is never above them.
    fitting = max(size for size in range(1, min(tp, heads) + 1) if heads % size == 0)
    return set_option(argv, "--tensor-parallel-size", str(fitting), aliases=("-tp",))


def longest_context(argv: list[str], evidence: Mapping[str, Any]) -> list[str] | None:
    longest = evidence.get("max_model_len_that_fits") or evidence.get("max_position_embeddings")
    return set_option(argv, "--max-model-len", str(longest)) if longest else None


def without_speculative_config(argv: list[str], evidence: Mapping[str, Any]) -> list[str]:
    return drop_option(argv, "--speculative-config")


def serve_fix(edit: Any) -> Fix:
    """A fix that prints the corrected ``vllm serve`` line (scripts cannot edit a unit file)."""
    return Fix(SUGGEST_SERVE_COMMAND, serve_edit=edit)
