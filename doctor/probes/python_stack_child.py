"""Run by the target interpreter under ``glm5-doctor run --deep``: import vLLM and build the checkpoint's config.

Standard library only until a stage imports vLLM or transformers. Each stage's answer (or the real
exception text) goes to the JSON file named by the first argument, written after every stage, so a
stage that hangs until the deadline still leaves the earlier answers. Arguments: output path, model
directory, architecture, max_model_len.
"""

import importlib
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

OUTPUT, MODEL, ARCHITECTURE, MAX_MODEL_LEN = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
answers: dict[str, Any] = {"stages": []}


def save() -> None:
    with open(OUTPUT, "w", encoding="utf-8") as handle:
        json.dump(answers, handle)


def stage(name: str, function: Callable[[], Any]) -> bool:
    started = time.monotonic()
    entry: dict[str, Any] = {
        "stage": name,
        "ok": False,
        "seconds": None,
        "value": None,
        "error": None,
        "traceback": None,
    }
    answers["stages"].append(entry)
    save()
    try:
        entry["value"] = function()
        entry["ok"] = True
    except BaseException as exc:  # noqa: BLE001 - the whole point is to report what really happened
        entry["error"] = (type(exc).__name__ + ": " + str(exc)).strip()[:2000]
        entry["traceback"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-3000:]
    entry["seconds"] = round(time.monotonic() - started, 2)
    save()
    return bool(entry["ok"])


def import_vllm() -> str:
    # imported by name: this file is run by the target's Python, never imported by the doctor
    vllm = importlib.import_module("vllm")
    return str(getattr(vllm, "__version__", "unknown"))


def registry() -> bool:
    registry = importlib.import_module("vllm.model_executor.models").ModelRegistry
    return bool(ARCHITECTURE in registry.get_supported_archs())


def transformers_config() -> str:
    auto_config = importlib.import_module("transformers").AutoConfig
    return str(auto_config.from_pretrained(MODEL, trust_remote_code=False).model_type)


def vllm_model_config() -> dict[str, Any]:
    engine_args = importlib.import_module("vllm.engine.arg_utils").EngineArgs
    config = engine_args(model=MODEL, load_format="dummy", max_model_len=MAX_MODEL_LEN).create_model_config()
    resolved = getattr(config, "architecture", None) or (config.architectures or [None])[0]
    return {"architectures": list(config.architectures or []), "resolved": resolved}


vllm_imports = stage("import_vllm", import_vllm)
if vllm_imports:
    stage("registry", registry)
config_builds = stage("transformers_config", transformers_config)
if vllm_imports and config_builds:
    stage("vllm_model_config", vllm_model_config)
answers["done"] = True
save()
