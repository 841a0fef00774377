"""Where DeepGEMM's JIT will write compiled kernels, and whether it can: judged, never created."""

from __future__ import annotations

import os
from typing import TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext


class JitCacheFact(TypedDict):
    path: str
    source: str
    exists: bool
    nearest_existing: str
    writable: bool


JIT_CACHE: FactKey[JitCacheFact] = FactKey("jit_cache", JitCacheFact)


def probe_jit_cache(context: ProbeContext) -> JitCacheFact:
    """``DG_JIT_CACHE_DIR``, else vLLM's ``$VLLM_CACHE_ROOT/deep_gemm`` (``~/.cache/vllm`` by default)."""
    environ = context.environ
    home = environ.get("HOME") or os.path.expanduser("~")
    if environ.get("DG_JIT_CACHE_DIR"):
        path, source = environ["DG_JIT_CACHE_DIR"], "DG_JIT_CACHE_DIR"
    elif environ.get("VLLM_CACHE_ROOT"):
        path, source = os.path.join(environ["VLLM_CACHE_ROOT"], "deep_gemm"), "VLLM_CACHE_ROOT"
    else:
        cache_home = environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
        path, source = os.path.join(cache_home, "vllm", "deep_gemm"), "vLLM's default"
    path = os.path.abspath(os.path.expanduser(path))
    nearest = path
    while not os.path.exists(nearest) and os.path.dirname(nearest) != nearest:
        nearest = os.path.dirname(nearest)
    writable = os.path.isdir(nearest) and os.access(nearest, os.W_OK | os.X_OK)
    return {
        "path": path,
        "source": source,
        "exists": os.path.isdir(path),
        "nearest_existing": nearest,
        "writable": writable,
    }
