"""The model's files on this machine, found where vLLM would look, never downloaded.

A local directory is used as it is; a hub id is looked up in the Hugging Face cache layout
(``models--org--name/snapshots/<revision>/``, revision from ``refs/main``) under
``--download-dir``, ``HF_HUB_CACHE``, ``HF_HOME/hub`` or ``~/.cache/huggingface/hub``.
Every shard the safetensors index names is checked against its own header: a safetensors file
is 8 bytes of header length, the JSON header, then the tensors, so its complete size is known
from the first few kilobytes without reading the weights.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
from typing import Any, TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext

JSON_LIMIT = 64 << 20
HEADER_LIMIT = 100 << 20


class ShardFact(TypedDict):
    name: str
    exists: bool
    size: int | None
    expected_size: int | None
    problem: str | None


class ModelFilesFact(TypedDict):
    model: str | None
    #: "local directory", "hub cache", or None when not found
    found_as: str | None
    path: str | None
    searched: list[str]
    cache_dir: str | None
    config: dict[str, Any] | None
    config_error: str | None
    tokenizer_class: str | None
    hf_quant_config: dict[str, Any] | None
    index_error: str | None
    index_total_size: int | None
    weight_map_keys_sample: list[str]
    mtp_layer_present: bool | None
    shards: list[ShardFact]
    incomplete_downloads: list[str]
    disk_free_bytes: int | None
    disk_path: str | None


MODEL_FILES: FactKey[ModelFilesFact] = FactKey("model_files", ModelFilesFact)


def probe_model_files(context: ProbeContext) -> ModelFilesFact:
    profile = context.profile
    model = profile.model if profile else None
    download_dir = profile.serve.download_dir if profile and profile.serve else None
    fact: ModelFilesFact = {
        "model": model,
        "found_as": None,
        "path": None,
        "searched": [],
        "cache_dir": None,
        "config": None,
        "config_error": None,
        "tokenizer_class": None,
        "hf_quant_config": None,
        "index_error": None,
        "index_total_size": None,
        "weight_map_keys_sample": [],
        "mtp_layer_present": None,
        "shards": [],
        "incomplete_downloads": [],
        "disk_free_bytes": None,
        "disk_path": None,
    }
    if not model:
        return fact
    environ = context.environ
    if os.path.isdir(os.path.expanduser(model)):
        fact["found_as"], fact["path"] = "local directory", os.path.abspath(os.path.expanduser(model))
    else:
        for cache in _cache_dirs(download_dir, environ):
            repo = os.path.join(cache, "models--" + model.strip("/").replace("/", "--"))
            fact["searched"].append(repo)
            if fact["cache_dir"] is None:
                fact["cache_dir"] = cache
            snapshot = _snapshot(repo)
            if snapshot:
                fact["found_as"], fact["path"], fact["cache_dir"] = "hub cache", snapshot, cache
                fact["incomplete_downloads"] = _incomplete(os.path.join(repo, "blobs"))
                break
    disk = fact["path"] or fact["cache_dir"]
    fact["disk_path"], fact["disk_free_bytes"] = _disk_free(disk)
    if fact["path"]:
        _read_model(fact, fact["path"])
    return fact


def _cache_dirs(download_dir: str | None, environ: Any) -> list[str]:
    home = environ.get("HOME") or os.path.expanduser("~")
    candidates = [
        download_dir,
        environ.get("HF_HUB_CACHE"),
        os.path.join(environ["HF_HOME"], "hub") if environ.get("HF_HOME") else None,
        os.path.join(environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "huggingface", "hub"),
    ]
    return list(dict.fromkeys(os.path.abspath(os.path.expanduser(c)) for c in candidates if c))


def _snapshot(repo: str) -> str | None:
    snapshots = os.path.join(repo, "snapshots")
    try:
        with open(os.path.join(repo, "refs", "main"), encoding="utf-8") as handle:
            revision = handle.read(200).strip()
        if revision and os.path.isdir(os.path.join(snapshots, revision)):
            return os.path.join(snapshots, revision)
    except OSError:
        pass
    try:
        found = [os.path.join(snapshots, name) for name in os.listdir(snapshots)]
    except OSError:
        return None
    found = [path for path in found if os.path.isdir(path)]
    return max(found, key=os.path.getmtime) if found else None


def _incomplete(blobs: str) -> list[str]:
    try:
        return sorted(name for name in os.listdir(blobs) if name.endswith(".incomplete"))
    except OSError:
        return []


def _disk_free(path: str | None) -> tuple[str | None, int | None]:
    while path and not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    if not path:
        return None, None
    try:
        return path, shutil.disk_usage(path).free
    except OSError:
        return path, None


def _read_json(path: str) -> Any:
    """A JSON file as data; a FIFO, a device or a JSON nested past Python's recursion is a ValueError."""
    if not os.path.exists(path):
        raise FileNotFoundError(2, "no such file")
    if not os.path.isfile(path):
        raise ValueError("not a regular file")
    with open(path, "rb") as handle:
        text = handle.read(JSON_LIMIT).decode("utf-8")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply to be a model's JSON") from None


def _read_model(fact: ModelFilesFact, path: str) -> None:
    try:
        config = _read_json(os.path.join(path, "config.json"))
        if not isinstance(config, dict):
            raise ValueError("not a JSON object")
        fact["config"] = config
    except FileNotFoundError:
        fact["config_error"] = "config.json is missing"
    except (OSError, ValueError) as exc:
        fact["config_error"] = f"config.json is not readable JSON: {exc}"
    try:
        tokenizer = _read_json(os.path.join(path, "tokenizer_config.json"))
        if isinstance(tokenizer, dict) and isinstance(tokenizer.get("tokenizer_class"), str):
            fact["tokenizer_class"] = tokenizer["tokenizer_class"]
    except (OSError, ValueError):
        pass
    try:
        quant = _read_json(os.path.join(path, "hf_quant_config.json"))
        fact["hf_quant_config"] = quant if isinstance(quant, dict) else None
    except (OSError, ValueError):
        pass
    _read_index(fact, path)


def _read_index(fact: ModelFilesFact, path: str) -> None:
    try:
        index = _read_json(os.path.join(path, "model.safetensors.index.json"))
        weight_map = index["weight_map"]
        if not isinstance(weight_map, dict):
            raise TypeError("weight_map is not an object")
    except FileNotFoundError:
        fact["index_error"] = "model.safetensors.index.json is missing"
        return
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fact["index_error"] = f"model.safetensors.index.json is not usable: {exc}"
        return
    metadata = index.get("metadata") if isinstance(index.get("metadata"), dict) else {}
    total = metadata.get("total_size")
    usable = isinstance(total, int) or (isinstance(total, float) and math.isfinite(total))
    fact["index_total_size"] = int(total) if usable and isinstance(total, (int, float)) and total >= 0 else None
    config = fact["config"] or {}
    layers = config.get("num_hidden_layers")
    if isinstance(layers, int):
        fact["mtp_layer_present"] = any(key.startswith(f"model.layers.{layers}.") for key in weight_map)
    fact["weight_map_keys_sample"] = sorted(weight_map)[:3]
    for name in sorted(set(map(str, weight_map.values()))):
        fact["shards"].append(shard_fact(path, name))


def shard_fact(directory: str, name: str) -> ShardFact:
    """One shard: present, and as long as its own safetensors header says it must be."""
    shard: ShardFact = {"name": name, "exists": False, "size": None, "expected_size": None, "problem": None}
    full = os.path.join(directory, name)
    if not os.path.exists(full):
        shard["problem"] = "broken link (blob missing)" if os.path.islink(full) else "missing"
        return shard
    shard["exists"] = True
    if not os.path.isfile(full):  # a FIFO would block the read, a device would never end
        shard["problem"] = "not a regular file"
        return shard
    try:
        size = os.path.getsize(full)
        shard["size"] = size
        with open(full, "rb") as handle:
            raw = handle.read(8)
            if len(raw) < 8:
                shard["problem"] = "shorter than a safetensors header"
                return shard
            (length,) = struct.unpack("<Q", raw)
            if length > HEADER_LIMIT:
                shard["problem"] = "not a safetensors file (implausible header length)"
                return shard
            header = json.loads(handle.read(length).decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError(f"the header is a JSON {type(header).__name__}, not an object")
        ends = [int(entry["data_offsets"][1]) for key, entry in header.items() if key != "__metadata__"]
        expected = 8 + length + max(ends, default=0)
        shard["expected_size"] = expected
    except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        shard["problem"] = f"unreadable safetensors header: {str(exc)[:200]}"
        return shard
    if size < expected:
        shard["problem"] = f"truncated: {size:,} of {expected:,} bytes"
    return shard
