"""The ``deepgemm_warmup`` fact: will the first start compile DeepGEMM's kernels, and how long may it take?

From the installed vLLM's ``envs.py`` (read, not imported): the name and default of the engine-ready
handshake timeout (``VLLM_ENGINE_READY_TIMEOUT_S``, added by vllm PR #27444) and of the warm-up
switch (``VLLM_DEEP_GEMM_WARMUP``: skip/relax/full); their values in this environment; whether the
DeepGEMM JIT cache already holds compiled kernels; and the data-parallel and API-server counts of the
``vllm serve`` command when one is known.
"""

from __future__ import annotations

import os
import re
from typing import TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.jit_cache import probe_jit_cache
from glm5_doctor.probes.package_files import read_source
from glm5_doctor.probes.vllm_files import VllmFilesFact, probe_vllm_files

TIMEOUT_VARIABLE = "VLLM_ENGINE_READY_TIMEOUT_S"
WARMUP_VARIABLE = "VLLM_DEEP_GEMM_WARMUP"
TIMEOUT_DEFAULT = re.compile(
    r'getenv\(\s*"VLLM_ENGINE_READY_TIMEOUT_S"\s*,\s*"(\d+)"\s*\)|get\(\s*"VLLM_ENGINE_READY_TIMEOUT_S"\s*,\s*"(\d+)"\s*\)'
)
WARMUP_DEFAULT = re.compile(r'"VLLM_DEEP_GEMM_WARMUP"\s*,\s*"(\w+)"')
CACHE_ENTRIES_LOOKED_AT = 64


class DeepGemmWarmupFact(TypedDict):
    envs_read: bool
    #: None when the installed vLLM has no such variable
    timeout_variable: str | None
    timeout_default_s: int | None
    timeout_set: str | None
    warmup_variable: str | None
    warmup_default: str | None
    warmup_set: str | None
    jit_cache: str
    jit_cache_kernels: int
    data_parallel_size: int | None
    api_server_count: int | None


DEEPGEMM_WARMUP: FactKey[DeepGemmWarmupFact] = FactKey("deepgemm_warmup")


def probe_deepgemm_warmup(context: ProbeContext) -> DeepGemmWarmupFact:
    environ = context.environ
    vllm: VllmFilesFact = context.shared("vllm_files", probe_vllm_files)
    text = ""
    if vllm["package_dir"]:
        try:
            text = read_source(os.path.join(vllm["package_dir"], "envs.py"))
        except (OSError, UnicodeDecodeError):
            text = ""
    timeout = TIMEOUT_DEFAULT.search(text)
    warmup = WARMUP_DEFAULT.search(text)
    cache = probe_jit_cache(context)["path"]
    serve_argv = list(context.profile.serve.argv) if context.profile and context.profile.serve else None
    return {
        "envs_read": bool(text),
        "timeout_variable": TIMEOUT_VARIABLE if TIMEOUT_VARIABLE in text else None,
        "timeout_default_s": int(timeout.group(1) or timeout.group(2)) if timeout else None,
        "timeout_set": environ.get(TIMEOUT_VARIABLE),
        "warmup_variable": WARMUP_VARIABLE if WARMUP_VARIABLE in text else None,
        "warmup_default": warmup.group(1) if warmup else None,
        "warmup_set": environ.get(WARMUP_VARIABLE),
        "jit_cache": cache,
        "jit_cache_kernels": _kernels(cache),
        "data_parallel_size": _option(serve_argv, ("--data-parallel-size", "-dp")),
        "api_server_count": _option(serve_argv, ("--api-server-count", "-asc")),
    }


def _kernels(cache: str) -> int:
    """Compiled kernels in DeepGEMM's cache (``<dir>/cache/kernel.*``), counted up to a small bound."""
    count = 0
    for folder in (os.path.join(cache, "cache"), cache):
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("kernel."):
                        count += 1
                        if count >= CACHE_ENTRIES_LOOKED_AT:
                            return count
        except OSError:
            continue
    return count


def _option(argv: list[str] | None, names: tuple[str, ...]) -> int | None:
    if argv is None:
        return None
    value = None
    for index, token in enumerate(argv):
        for name in names:
            if token == name and index + 1 < len(argv):
                value = argv[index + 1]
            elif token.startswith(name + "="):
                value = token.split("=", 1)[1]
    try:
        return int(value) if value is not None else 1
    except ValueError:
        return None
