"""DeepGEMM's first warm-up against vLLM's engine-ready handshake."""

from __future__ import annotations

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome, Report, Result
from glm5_doctor.probes.deepgemm_warmup import DEEPGEMM_WARMUP, DeepGemmWarmupFact

#: vllm PR #27444: "DeepGEMM warmup takes 10+ minutes" for a DP/EP deployment with a cold cache.
OBSERVED_COLD_WARMUP_S = 600
SUGGESTED_TIMEOUT_S = 3600


def timeout_variable(result: Result, report: Report) -> dict[str, str]:
    evidence = result.outcome.evidence
    plan = {"JIT_CACHE": str(evidence.get("jit_cache") or "")}
    if evidence.get("timeout_variable"):
        plan["TIMEOUT_VARIABLE"] = str(evidence["timeout_variable"])
    return plan


@check(
    "deepgemm.warmup",
    title="A cold DeepGEMM warm-up fits inside vLLM's engine-ready timeout",
    category="toolchain",
    facts=(DEEPGEMM_WARMUP,),
    requires=("vllm.installed",),
    fix=Fix("raise-engine-ready-timeout.sh", environment=timeout_variable),
)
def deepgemm_warmup(facts: Facts, profile: Profile) -> Outcome:
    """An empty JIT cache, warm-up on and the default handshake timeout: the first start may time out.

    What it checks:
        Read from the installed vLLM's ``envs.py``: the handshake timeout variable
        (``VLLM_ENGINE_READY_TIMEOUT_S``, default 600 s, from vllm PR #27444) and the warm-up switch
        (``VLLM_DEEP_GEMM_WARMUP``, default ``relax``); whether DeepGEMM's JIT cache
        (``<DG_JIT_CACHE_DIR>/cache/kernel.*``) already holds kernels. An empty cache with the warm-up
        not skipped and the timeout at its default is a warning where the API server waits on that
        handshake: with ``--data-parallel-size`` or ``--api-server-count`` above 1, and whenever the
        ``vllm serve`` command is not known. A single API server without data parallelism waits for
        its engine without this timeout (vllm#48031), so there it passes with the note.

    Why it matters:
        Compiling every GEMM shape of GLM-5's MoE on a cold cache took "10+ minutes" (vllm PR #27444):
        the API server gives up with "TimeoutError: Timed out waiting for engines to send initial
        message on input socket" while the engine keeps compiling (vllm#32116).

    How to fix:
        Raise the timeout (``VLLM_ENGINE_READY_TIMEOUT_S=3600``) for the first start, and keep
        DeepGEMM's cache on a persistent volume so later starts are warm; or pre-warm once with the
        same image: ``glm5-doctor fix deepgemm.warmup``. ``VLLM_DEEP_GEMM_WARMUP=skip`` moves the
        compiles to the first requests instead.

    Sources:
        - https://github.com/vllm-project/vllm/issues/32116 ; https://github.com/vllm-project/vllm/pull/27444
        - https://github.com/vllm-project/vllm/issues/48031 (which start-up paths the timeout bounds)
        - vllm 0.15.1-0.34.0 wheels: vllm/envs.py (VLLM_ENGINE_READY_TIMEOUT_S, VLLM_DEEP_GEMM_WARMUP)
        - DeepGEMM csrc/jit/compiler.hpp: kernels cached as <cache dir>/cache/kernel.<name>.<hash>
    """
    found: DeepGemmWarmupFact = facts[DEEPGEMM_WARMUP]
    evidence: dict[str, object] = dict(found)
    if not found["envs_read"]:
        return Outcome.skipped("the installed vLLM's envs.py could not be read", evidence)
    warmup = found["warmup_set"] or found["warmup_default"]
    if found["warmup_variable"] and warmup == "skip":
        return Outcome.passed(f"{found['warmup_variable']}=skip: no DeepGEMM warm-up at start-up", evidence)
    if found["jit_cache_kernels"]:
        return Outcome.passed(
            f"DeepGEMM's cache at {found['jit_cache']} already holds compiled kernels: a warm start", evidence
        )
    variable = found["timeout_variable"]
    timeout = _seconds(found["timeout_set"]) if found["timeout_set"] else found["timeout_default_s"]
    evidence["timeout_s"] = timeout
    if variable and timeout is not None and timeout > OBSERVED_COLD_WARMUP_S:
        return Outcome.passed(f"cold DeepGEMM cache, but {variable}={timeout} s leaves room for the warm-up", evidence)
    single = found["data_parallel_size"] == 1 and found["api_server_count"] == 1
    if single:
        return Outcome.passed(
            f"cold DeepGEMM cache at {found['jit_cache']}: the first start compiles its kernels (minutes), but a "
            "single API server without data parallelism waits for its engine without the handshake timeout",
            evidence,
        )
    remedy = (
        f"raise {variable} (e.g. {SUGGESTED_TIMEOUT_S}) for the first start"
        if variable
        else "this vLLM has no handshake timeout variable (added by vllm PR #27444): upgrade it"
    )
    return Outcome.warned(
        f"DeepGEMM's cache at {found['jit_cache']} is empty and the warm-up is on ({warmup}): a cold warm-up has "
        f"taken 10+ minutes, longer than the {timeout or 'fixed'} s engine-ready timeout "
        '("Timed out waiting for engines to send initial message"); '
        f"{remedy}, and pre-warm DeepGEMM's cache on a persistent volume",
        evidence,
    )


def _seconds(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
