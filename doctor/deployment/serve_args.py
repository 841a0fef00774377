"""Read a ``vllm serve`` command line the way vLLM's own argument parser would, without vLLM.

Understands ``vllm serve MODEL ...`` and ``python -m vllm.entrypoints.openai.api_server --model
MODEL ...``; ``--opt value`` and ``--opt=value``; the short ``-tp``/``-pp``/``-q``; vLLM's
human-readable integers (``32k`` = 32,000, ``32K`` = 32,768, ``-1``/``auto`` = fit automatically);
``--speculative-config`` and ``--kv-transfer-config`` as JSON or in dotted form
(``--speculative-config.method mtp``); ``--load-format``. Options
it does not know are kept; the original argv is never changed (it is what preflight executes).
vllm 0.16.0 wheel: ``vllm/engine/arg_utils.py`` (human_readable_int, human_readable_int_or_auto).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from glm5_doctor.deployment import values
from glm5_doctor.deployment.values import DeploymentValueError
from glm5_doctor.engine.redact import is_secret_name

API_SERVER_MODULE = "vllm.entrypoints.openai.api_server"

#: option -> field, for options that take a value; aliases map to the same field.
VALUE_OPTIONS = {
    "--model": "model",
    "--tensor-parallel-size": "tensor_parallel_size",
    "-tp": "tensor_parallel_size",
    "--pipeline-parallel-size": "pipeline_parallel_size",
    "-pp": "pipeline_parallel_size",
    "--max-model-len": "max_model_len",
    "--gpu-memory-utilization": "gpu_memory_utilization",
    "--kv-cache-dtype": "kv_cache_dtype",
    "--port": "port",
    "--host": "host",
    "--download-dir": "download_dir",
    "--tool-call-parser": "tool_call_parser",
    "--reasoning-parser": "reasoning_parser",
    "--chat-template-content-format": "chat_template_content_format",
    "--speculative-config": "speculative_config",
    "--attention-backend": "attention_backend",
    "--quantization": "quantization",
    "-q": "quantization",
    "--served-model-name": "served_model_name",
    "--load-format": "load_format",
    "--kv-transfer-config": "kv_transfer_config",
}
FLAG_OPTIONS = {
    "--trust-remote-code": ("trust_remote_code", True),
    "--no-trust-remote-code": ("trust_remote_code", False),
    "--enable-auto-tool-choice": ("enable_auto_tool_choice", True),
    "--no-enable-auto-tool-choice": ("enable_auto_tool_choice", False),
}


class ServeArgsError(DeploymentValueError):
    """The command line is not one preflight can read; the message says why, in one line."""


@dataclass(frozen=True)
class ServeArgs:
    """The launch arguments that decide whether GLM-5 will serve. ``argv`` has secrets masked."""

    argv: tuple[str, ...]
    launcher: str
    model: str | None = None
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    #: None: not given (vLLM uses the model's max_position_embeddings); -1: fit automatically
    max_model_len: int | None = None
    gpu_memory_utilization: float = 0.9
    kv_cache_dtype: str = "auto"
    port: int = 8000
    host: str | None = None
    download_dir: str | None = None
    trust_remote_code: bool = False
    tool_call_parser: str | None = None
    reasoning_parser: str | None = None
    enable_auto_tool_choice: bool = False
    chat_template_content_format: str | None = None
    speculative_config: dict[str, Any] | None = None
    attention_backend: str | None = None
    quantization: str | None = None
    served_model_name: tuple[str, ...] = ()
    load_format: str | None = None
    #: ``--kv-transfer-config`` (JSON), e.g. ``{"kv_connector": "LMCacheConnectorV1", "kv_role": "kv_both"}``
    kv_transfer_config: dict[str, Any] | None = None
    unknown_options: tuple[str, ...] = field(default_factory=tuple)

    @property
    def mtp(self) -> bool:
        config = self.speculative_config or {}
        return str(config.get("method", "")).lower() == "mtp"

    @property
    def kv_connector(self) -> str | None:
        connector = (self.kv_transfer_config or {}).get("kv_connector")
        return str(connector) if connector is not None else None

    @property
    def tool_calling(self) -> bool:
        return self.enable_auto_tool_choice or self.tool_call_parser is not None


def parse_serve_command(argv: list[str]) -> ServeArgs:
    """Read ``argv`` (the command preflight will run) into :class:`ServeArgs`."""
    if not argv:
        raise ServeArgsError("no command after '--': give the vllm serve command to check and start")
    launcher, rest = _launcher(argv)
    values: dict[str, Any] = {}
    speculative: dict[str, Any] = {}
    kv_transfer: dict[str, Any] = {}
    unknown: list[str] = []
    served: list[str] = []
    index = 0
    if launcher == "vllm serve" and rest and not rest[0].startswith("-"):
        values["model"] = rest[0]
        index = 1
    while index < len(rest):
        token = rest[index]
        name, has_inline, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        index += 1
        if name in FLAG_OPTIONS:
            key, flag = FLAG_OPTIONS[name]
            values[key] = flag
            continue
        if name.startswith("--speculative-config."):
            value, index = _value(name, has_inline, inline, rest, index)
            speculative[name.split(".", 1)[1].replace("-", "_")] = _scalar(value)
            continue
        if name.startswith("--kv-transfer-config."):
            value, index = _value(name, has_inline, inline, rest, index)
            kv_transfer[name.split(".", 1)[1].replace("-", "_")] = _scalar(value)
            continue
        if name in VALUE_OPTIONS:
            key = VALUE_OPTIONS[name]
            value, index = _value(name, has_inline, inline, rest, index)
            if key == "served_model_name":
                served.append(value)
                while index < len(rest) and not rest[index].startswith("-"):
                    served.append(rest[index])
                    index += 1
                continue
            values[key] = value
            continue
        if token.startswith("-"):
            unknown.append(name)
            secret = name.startswith("--") and is_secret_name(name.lstrip("-"))
            if not has_inline and index < len(rest) and (secret or not rest[index].startswith("-")):
                index += 1  # its value (a secret's, even "-abc"); kept in argv untouched either way
        elif "model" not in values:
            values["model"] = token
        else:
            unknown.append(token)
    return _build(argv, launcher, values, speculative, served, unknown, kv_transfer)


def _launcher(argv: list[str]) -> tuple[str, list[str]]:
    program = os.path.basename(argv[0])
    if program == "vllm" and len(argv) > 1 and argv[1] == "serve":
        return "vllm serve", argv[2:]
    if program.startswith("python") and len(argv) > 2 and argv[1] == "-m" and argv[2] == API_SERVER_MODULE:
        return API_SERVER_MODULE, argv[3:]
    shown = " ".join(argv[:3])
    raise ServeArgsError(
        f"'{shown} ...' is not a vLLM server command; preflight reads `vllm serve MODEL ...` and "
        f"`python -m {API_SERVER_MODULE} --model MODEL ...`"
    )


def _value(name: str, has_inline: str, inline: str, rest: list[str], index: int) -> tuple[str, int]:
    if has_inline:
        return inline, index
    if index >= len(rest) or (rest[index].startswith("-") and not _is_number(rest[index])):
        raise ServeArgsError(f"{name} needs a value")
    return rest[index], index + 1


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _scalar(value: str) -> Any:
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)


def _build(
    argv: list[str],
    launcher: str,
    given: dict[str, Any],
    speculative: dict[str, Any],
    served: list[str],
    unknown: list[str],
    kv_transfer: dict[str, Any] | None = None,
) -> ServeArgs:
    converted: dict[str, Any] = {}
    readers: dict[str, Callable[[str], Any]] = {
        "tensor_parallel_size": lambda text: values.positive_int(text, "--tensor-parallel-size"),
        "pipeline_parallel_size": lambda text: values.positive_int(text, "--pipeline-parallel-size"),
        "port": values.port,
        "max_model_len": values.max_model_len,
        "gpu_memory_utilization": values.utilization,
    }
    for key, read in readers.items():
        if key in given:
            try:
                converted[key] = read(given[key])
            except DeploymentValueError as exc:
                raise ServeArgsError(str(exc)) from None
    if "speculative_config" in given:
        speculative = {**_json_object(given["speculative_config"], "--speculative-config"), **speculative}
    if "kv_transfer_config" in given or kv_transfer:
        as_json = given.get("kv_transfer_config")
        parsed_json = _json_object(as_json, "--kv-transfer-config") if as_json is not None else {}
        converted["kv_transfer_config"] = {**parsed_json, **(kv_transfer or {})}
    plain = {k: v for k, v in given.items() if k not in converted and k != "speculative_config"}
    return ServeArgs(
        argv=tuple(mask_secrets(argv)),
        launcher=launcher,
        **plain,
        **converted,
        speculative_config=speculative or None,
        served_model_name=tuple(served),
        unknown_options=tuple(unknown),
    )


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise ServeArgsError(f"{option} is not valid JSON (or is nested past any real config)") from None
    if not isinstance(parsed, dict):
        raise ServeArgsError(f"{option} must be a JSON object")
    return parsed


def mask_secrets(argv: list[str]) -> list[str]:
    """The command as it may be shown: values of secret-named options (``--api-key X``) masked."""
    shown = []
    hide_next = False
    for token in argv:
        if hide_next:
            shown.append("***")
            hide_next = False
            continue
        name, has_inline, _ = token.partition("=")
        if token.startswith("--") and is_secret_name(name.lstrip("-")):
            if has_inline:
                shown.append(f"{name}=***")
            else:
                shown.append(token)
                hide_next = True
            continue
        shown.append(token)
    return shown
