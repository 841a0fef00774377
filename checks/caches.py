"""The directories the server writes while it starts: every library's cache, writable and with room."""

from __future__ import annotations

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome, Report, Result
from glm5_doctor.probes.caches import CACHES, CacheFact, CachesFact

GIB = 1 << 30
#: Below this a cache is a warning: a margin for JIT caches, not a measured need (the model's
#: weights, which are far larger, are judged by the model checks).
LOW_SPACE_BYTES = 2 * GIB


def cache_variables(result: Result, report: Report) -> dict[str, str]:
    variables = result.outcome.evidence.get("variables_to_set") or []
    return {"CACHE_VARIABLES": " ".join(str(v) for v in variables)} if variables else {}


@check(
    "cache.writable",
    title="Every cache the server writes is writable by this user, with room",
    category="host",
    facts=(CACHES,),
    fix=Fix("set-cache-dirs.sh", environment=cache_variables),
)
def cache_writable(facts: Facts, profile: Profile) -> Outcome:
    """The cache directories of vLLM, Hugging Face, Triton, TorchInductor and FlashInfer can be written.

    What it checks:
        Each directory resolved as its library resolves it: ``VLLM_CACHE_ROOT`` (default
        ``$XDG_CACHE_HOME/vllm``, ``~/.cache/vllm``); ``HF_HUB_CACHE`` / ``$HF_HOME/hub`` (default
        ``~/.cache/huggingface/hub``, only when the model is not a local folder); ``TRITON_CACHE_DIR``
        (default ``$TRITON_HOME/.triton/cache``, ``TRITON_HOME`` defaulting to ``~``);
        ``TORCHINDUCTOR_CACHE_DIR`` (default ``$TMPDIR/torchinductor_<user>``); FlashInfer's JIT
        workspace ``$FLASHINFER_WORKSPACE_BASE/.cache/flashinfer`` (default ``~``) and its cubin
        folder, which is the ``flashinfer_cubin`` package inside site-packages when that is
        installed, else ``FLASHINFER_CUBIN_DIR``. Each must exist writable, or its nearest existing
        parent must be writable (``os.access`` for the user running the doctor: run it as the
        server's user); less than 2 GiB free is a warning. DeepGEMM's cache is deepgemm.jit-cache.

    Why it matters:
        These are written during start-up and the first requests: with ``HOME=/`` (OpenShift's
        arbitrary UIDs) ``~/.cache`` is ``/.cache``; FlashInfer downloads cubins into a root-owned
        site-packages; the failure ("Permission denied", "Read-only file system") comes minutes in.

    How to fix:
        Set the named variable to a writable volume (``glm5-doctor fix cache.writable`` creates the
        folders and prints the exports).

    Sources:
        - https://github.com/vllm-project/vllm/issues/20127 ; https://github.com/vllm-project/vllm/issues/10185
        - vllm 0.19.1 wheel: vllm/envs.py (VLLM_CACHE_ROOT, get_default_cache_root)
        - https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables (HF_HOME, HF_HUB_CACHE)
        - triton 3.6.0 wheel: triton/knobs.py (cache_knobs: TRITON_HOME, TRITON_CACHE_DIR)
        - torch 2.10.0 wheel: torch/_inductor/runtime/cache_dir_utils.py (default_cache_dir)
        - flashinfer-python 0.6.6 wheel: flashinfer/jit/env.py (FLASHINFER_WORKSPACE_BASE, _get_cubin_dir)
    """
    found: CachesFact = facts[CACHES]
    caches = found["caches"]
    blocked = [cache for cache in caches if not cache["writable"]]
    low = [
        cache
        for cache in caches
        if cache["writable"] and cache["free_bytes"] is not None and cache["free_bytes"] < LOW_SPACE_BYTES
    ]
    evidence: dict[str, object] = {
        "user": found["user"],
        "uid": found["uid"],
        "home": found["home"],
        "caches": {f"{c['library']}: {c['purpose']}": f"{c['path']} (from {c['source']})" for c in caches},
    }
    if blocked:
        evidence["variables_to_set"] = sorted({cache["variable"] for cache in blocked})
        first = blocked[0]
        others = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
        return Outcome.failed(
            f"{first['library']} would write {first['purpose']} to {first['path']} (from {first['source']}), but "
            f"{_why(first)} for {found['user']}{others}: set {', '.join(evidence['variables_to_set'])} "  # type: ignore[arg-type]
            "to a writable directory",
            evidence,
        )
    if low:
        evidence["variables_to_set"] = sorted({cache["variable"] for cache in low})
        first = low[0]
        return Outcome.warned(
            f"only {(first['free_bytes'] or 0) / GIB:.1f} GiB free for {first['library']}'s {first['purpose']} at "
            f"{first['nearest_existing']}: set {first['variable']} to a volume with room",
            evidence,
        )
    return Outcome.passed(f"{len(caches)} cache directories are writable by {found['user']}", evidence)


def _why(cache: CacheFact) -> str:
    if cache["exists"] or cache["nearest_existing"] == cache["path"]:
        return "it is not writable"
    return f"it does not exist and {cache['nearest_existing']} cannot hold it"
