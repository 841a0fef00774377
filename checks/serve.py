"""The ``vllm serve`` arguments themselves (preflight): parsers, formats, KV dtype, MTP, TP split."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._fixes import (
    attention_backend_flag,
    dividing_tensor_parallel,
    fp8_kv_cache,
    glm5_parsers,
    serve_fix,
    string_content_format,
    without_attention_backend,
)
from glm5_doctor.checks._gpu import target_capability
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.deployment.serve_args import ServeArgs
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.knowledge.checkpoints import model_spec
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.host import HOST
from glm5_doctor.probes.model_files import MODEL_FILES
from glm5_doctor.probes.nvml import NVML
from glm5_doctor.probes.sparse_backends import SparseBackendFact
from glm5_doctor.probes.vllm_files import VLLM_FILES, VllmFilesFact

NO_COMMAND = "no vllm serve command to judge (run through glm5-doctor preflight -- vllm serve ...)"
FLASHMLA_SPARSE_DTYPES = {"auto", "bfloat16", "fp8_ds_mla"}
KNOWN_KV_DTYPES = {"auto", "bfloat16", "float16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_ds_mla"}


def _serve(profile: Profile) -> ServeArgs | None:
    return profile.serve


@check(
    "serve.parsers",
    title="GLM-5's tool and reasoning parsers are chosen and exist in this vLLM",
    category="serve",
    facts=(VLLM_FILES,),
    fix=serve_fix(glm5_parsers),
)
def serve_parsers(facts: Facts, profile: Profile) -> Outcome:
    """``--tool-call-parser glm47`` and ``--reasoning-parser glm45``, registered by the installed vLLM.

    What it checks:
        With tool calling on, the tool parser is ``glm47`` (GLM-5 writes the GLM-4.7 format; ``glm45``
        is GLM-4.5's) and ``--enable-auto-tool-choice`` comes with a parser; the parsers named exist in
        the installed vLLM's ``tool_parsers``/``reasoning`` registries (read from its files).

    Why it matters:
        A wrong parser leaves tool calls as raw text; a parser the installed vLLM lacks stops it with
        "argument --tool-call-parser: invalid choice: 'glm47'".

    How to fix:
        ``--tool-call-parser glm47 --reasoning-parser glm45 --enable-auto-tool-choice`` (vLLM >= 0.16).

    Sources:
        - vLLM wheels 0.15.1/0.16.0/0.33.0: vllm/tool_parsers/__init__.py, vllm/reasoning/__init__.py
        - https://github.com/vllm-project/recipes/blob/main/GLM/GLM5.md
    """
    serve = _serve(profile)
    if serve is None:
        return Outcome.skipped(NO_COMMAND)
    files: VllmFilesFact = facts[VLLM_FILES]
    tools, reasoning = files["tool_parsers"], files["reasoning_parsers"]
    evidence: dict[str, object] = {
        "tool_call_parser": serve.tool_call_parser,
        "reasoning_parser": serve.reasoning_parser,
        "enable_auto_tool_choice": serve.enable_auto_tool_choice,
    }
    if serve.enable_auto_tool_choice and not serve.tool_call_parser:
        return Outcome.failed("--enable-auto-tool-choice needs --tool-call-parser (glm47 for GLM-5)", evidence)
    if serve.tool_call_parser and serve.tool_call_parser != knowledge.GLM5_TOOL_PARSER:
        why = " (glm45 is GLM-4.5's tool format)" if serve.tool_call_parser == "glm45" else ""
        return Outcome.failed(
            f"--tool-call-parser {serve.tool_call_parser}{why}: GLM-5 needs {knowledge.GLM5_TOOL_PARSER}", evidence
        )
    for option, chosen, known in (
        ("--tool-call-parser", serve.tool_call_parser, tools),
        ("--reasoning-parser", serve.reasoning_parser, reasoning),
    ):
        if chosen and known is not None and chosen not in known:
            return Outcome.failed(
                f'the installed vLLM has no {chosen!r}: vllm serve stops with "argument '
                f"{option}: invalid choice: '{chosen}'\"",
                evidence,
            )
    if serve.reasoning_parser and serve.reasoning_parser != knowledge.GLM5_REASONING_PARSER:
        return Outcome.warned(
            f"--reasoning-parser {serve.reasoning_parser}: GLM-5's reasoning format is "
            f"{knowledge.GLM5_REASONING_PARSER}",
            evidence,
        )
    if not serve.tool_call_parser and not serve.reasoning_parser:
        return Outcome.passed(
            "no tool or reasoning parsing requested (thinking arrives inside content; add "
            "--reasoning-parser glm45 to separate it)",
            evidence,
        )
    chosen = ", ".join(name for name in (serve.tool_call_parser, serve.reasoning_parser) if name)
    if tools is None or reasoning is None:
        return Outcome.passed(f"{chosen}: GLM-5's parsers (not confirmed: no vLLM parser registry to read)", evidence)
    return Outcome.passed(f"{chosen}: GLM-5's parsers, present in the installed vLLM", evidence)


@check(
    "serve.chat-template-format",
    title="Tool calling uses --chat-template-content-format string",
    category="serve",
    fix=serve_fix(string_content_format),
)
def serve_chat_template_format(facts: Facts, profile: Profile) -> Outcome:
    """With tool calling, ``--chat-template-content-format string``.

    What it checks:
        Tool calling is on (a tool parser or auto tool choice) and the content format is not ``string``.

    Why it matters:
        vLLM's auto-detection picks ``openai`` for the GLM-5.1 chat template; tool results then arrive
        as ``<tools>\\n</tools>`` and the model answers as if the tool returned nothing.

    How to fix:
        Add ``--chat-template-content-format=string`` (the current recipe does).

    Sources:
        - https://github.com/vllm-project/vllm/issues/39614 ; https://github.com/vllm-project/vllm/issues/39611
        - https://github.com/vllm-project/recipes/pull/331
    """
    serve = _serve(profile)
    if serve is None:
        return Outcome.skipped(NO_COMMAND)
    evidence = {"chat_template_content_format": serve.chat_template_content_format, "tool_calling": serve.tool_calling}
    if not serve.tool_calling:
        return Outcome.passed("no tool calling requested", evidence)
    if serve.chat_template_content_format != "string":
        return Outcome.warned(
            "tool calling without --chat-template-content-format string: GLM-5.1's template then "
            'drops tool results ("<tools>\\n</tools>")',
            evidence,
        )
    return Outcome.passed("tool calling with --chat-template-content-format string", evidence)


@check(
    "serve.kv-cache-dtype",
    title="--kv-cache-dtype has a sparse-MLA backend on this GPU and vLLM",
    category="serve",
    facts=(DISTRIBUTIONS, NVML, VLLM_FILES),
    fix=serve_fix(fp8_kv_cache),
)
def serve_kv_cache_dtype(facts: Facts, profile: Profile) -> Outcome:
    """The KV cache dtype against the sparse-MLA backends of the GPU and vLLM version.

    What it checks:
        FlashMLA sparse (Hopper and Blackwell) accepts ``auto``, ``bfloat16``, ``fp8_ds_mla`` (and
        ``fp8`` from vLLM 0.18); FlashInfer sparse (Blackwell only, vLLM 0.17+) also takes ``fp8`` and
        ``fp8_e4m3``. So ``fp8_e4m3`` on Hopper fails; ``fp8`` on vLLM 0.16 is a warning (unconfirmed).

    Why it matters:
        "No valid attention backend ... FLASHMLA_SPARSE: [kv_cache_dtype not supported]" at start.

    How to fix:
        On Hopper use ``fp8`` (vLLM 0.18+) or ``fp8_ds_mla``, or leave it ``auto``.

    Sources:
        - vllm 0.16.0-0.18.0 wheels: vllm/v1/attention/backends/mla/flashmla_sparse.py (supported KV dtypes)
        - vllm 0.17.0 wheel: vllm/v1/attention/backends/mla/flashinfer_mla_sparse.py
        - https://github.com/vllm-project/recipes/issues/565
    """
    serve = _serve(profile)
    if serve is None:
        return Outcome.skipped(NO_COMMAND)
    dtype = serve.kv_cache_dtype
    capability, gpu = target_capability(facts, profile)
    vllm = distribution(facts, "vllm")
    version = parse_version(vllm["version"]) if vllm else None
    evidence: dict[str, object] = {"kv_cache_dtype": dtype, "gpu": gpu, "vllm": str(version) if version else None}
    if dtype not in KNOWN_KV_DTYPES:
        return Outcome.failed(f"--kv-cache-dtype {dtype} is not a dtype vLLM knows", evidence)
    stated = _backends_for(facts, capability)
    if stated:
        accepted = sorted({kind for backend in stated for kind in backend["kv_cache_dtypes"] or []})
        names = ", ".join(sorted(backend["name"] for backend in stated))
        evidence.update(backends=names, accepted=accepted)
        if dtype not in accepted:
            return Outcome.failed(
                f"--kv-cache-dtype {dtype} on {gpu}: vLLM {version}'s sparse-MLA backends there ({names}) take "
                f'{", ".join(accepted)}: "kv_cache_dtype not supported"',
                evidence,
            )
        return Outcome.passed(
            f"--kv-cache-dtype {dtype} is served on {gpu} by {names} (read from vLLM {version})", evidence
        )
    hopper = capability is not None and capability[0] == 9
    if hopper and dtype in ("fp8_e4m3", "fp8_e5m2", "float16"):
        return Outcome.failed(
            f"--kv-cache-dtype {dtype} on {gpu}: only FlashMLA sparse runs there and it takes auto, "
            'bfloat16, fp8_ds_mla or fp8 (0.18+): "kv_cache_dtype not supported"',
            evidence,
        )
    if dtype == "fp8" and version is not None and version < knowledge.VLLM_FP8_ALIAS:
        return Outcome.warned(
            f"--kv-cache-dtype fp8 on vLLM {version}: FlashMLA sparse knows 'fp8' only from "
            f"{knowledge.VLLM_FP8_ALIAS}; use fp8_ds_mla",
            evidence,
        )
    return Outcome.passed(f"--kv-cache-dtype {dtype} is served by a sparse-MLA backend on {gpu}", evidence)


@check(
    "serve.attention-backend",
    title="--attention-backend, when given, is a sparse-MLA backend for these GPUs",
    category="serve",
    facts=(DISTRIBUTIONS, NVML, VLLM_FILES),
    fix=serve_fix(without_attention_backend),
)
def serve_attention_backend(facts: Facts, profile: Profile) -> Outcome:
    """A forced attention backend must be one of the installed vLLM's sparse-MLA backends for the GPU.

    What it checks:
        ``--attention-backend NAME`` (vLLM upper-cases it) against the sparse-MLA backends the
        installed vLLM's files state: the name must be one of them, the GPU's compute-capability
        major one it accepts, and ``--kv-cache-dtype`` one it takes. Without the flag vLLM picks.

    Why it matters:
        GLM-5's DSA attention runs only on a sparse-MLA backend. A dense MLA backend forced from a
        DeepSeek guide (CUTLASS_MLA, FLASHMLA, FLASHINFER_MLA) stops the start with "Selected backend
        ... is not valid for this configuration. Reason: [... 'sparse not supported']"; a name vLLM
        does not have, with "Unknown attention backend".

    How to fix:
        Drop ``--attention-backend`` and let vLLM choose, or name a sparse-MLA backend of this vLLM.

    Sources:
        - vllm 0.19.1 wheel: vllm/v1/attention/backend.py (validate_configuration, "sparse not
          supported"), vllm/platforms/cuda.py (get_attn_backend_cls, "Selected backend ... is not
          valid"), vllm/v1/attention/backends/registry.py ("Unknown attention backend")
        - https://github.com/vllm-project/vllm/pull/30195
    """
    serve = _serve(profile)
    if serve is None:
        return Outcome.skipped(NO_COMMAND)
    if not serve.attention_backend:
        return Outcome.passed("no --attention-backend: vLLM picks a sparse-MLA backend itself")
    name = serve.attention_backend.upper()
    capability, gpu = target_capability(facts, profile)
    vllm = distribution(facts, "vllm")
    version = vllm["version"] if vllm else None
    files = facts.get(VLLM_FILES)
    backends = (files["sparse_mla_backends"] if files is not None else None) or []
    evidence: dict[str, object] = {"attention_backend": name, "gpu": gpu, "vllm": version}
    if not backends:
        if "SPARSE" in name:
            return Outcome.skipped(
                f"--attention-backend {name}: the installed vLLM states no sparse-MLA backends to confirm it against"
            )
        return Outcome.failed(
            f"--attention-backend {name} is not a sparse-MLA backend: GLM-5's DSA attention cannot run on it "
            '("sparse not supported")',
            evidence,
        )
    names = sorted(backend["name"] for backend in backends)
    evidence["sparse_backends"] = names
    chosen = next((backend for backend in backends if backend["name"] == name), None)
    if chosen is None:
        return Outcome.failed(
            f"--attention-backend {name} is not one of vLLM {version}'s sparse-MLA backends ({', '.join(names)}): "
            "GLM-5's DSA attention cannot run on it",
            evidence,
        )
    majors = chosen["majors"]
    if capability is not None and majors and capability[0] not in majors:
        runs_on = "/".join(f"{major}.x" for major in majors)
        return Outcome.failed(
            f"--attention-backend {name} runs on compute capability {runs_on}; {gpu} is "
            f"{capability[0]}.{capability[1]}",
            evidence,
        )
    accepted = chosen["kv_cache_dtypes"]
    if accepted is not None and serve.kv_cache_dtype not in accepted:
        return Outcome.failed(
            f"--attention-backend {name} takes --kv-cache-dtype {', '.join(accepted)}, not {serve.kv_cache_dtype}",
            evidence,
        )
    return Outcome.passed(f"--attention-backend {name} is a sparse-MLA backend of vLLM {version} for {gpu}", evidence)


def _backends_for(facts: Facts, capability: tuple[int, int] | None) -> list[SparseBackendFact]:
    """The installed vLLM's sparse-MLA backends for this GPU, where its files state both limits."""
    files = facts.get(VLLM_FILES)
    if files is None or capability is None:
        return []
    return [
        backend
        for backend in files["sparse_mla_backends"] or []
        if backend["majors"] and capability[0] in backend["majors"] and backend["kv_cache_dtypes"] is not None
    ]


@check(
    "serve.attention-backend-env",
    title="No VLLM_ATTENTION_BACKEND left in the environment",
    category="serve",
    facts=(HOST,),
    fix=serve_fix(attention_backend_flag),
)
def serve_attention_backend_env(facts: Facts, profile: Profile) -> Outcome:
    """``VLLM_ATTENTION_BACKEND`` is ignored by current vLLM: a warning with the flag to use instead.

    What it checks:
        Whether ``VLLM_ATTENTION_BACKEND`` is set in the environment the server will inherit.

    Why it matters:
        Deprecated since vLLM 0.13 and silently ignored in current releases: the backend a guide told
        you to force is not the one that runs.

    How to fix:
        Unset it and pass ``--attention-backend NAME`` (``FLASHMLA_SPARSE``, or ``FLASHINFER_MLA_SPARSE``
        on B200).

    Sources:
        - https://github.com/vllm-project/vllm/pull/26315 (the deprecation)
        - https://github.com/vllm-project/vllm/issues/50292
    """
    value = facts[HOST]["vllm_attention_backend"]
    if not value:
        return Outcome.passed("VLLM_ATTENTION_BACKEND is not set")
    return Outcome.warned(
        f"VLLM_ATTENTION_BACKEND={value} is ignored by current vLLM: use --attention-backend {value} instead",
        {"VLLM_ATTENTION_BACKEND": value},
    )


@check(
    "serve.trust-remote-code",
    title="--trust-remote-code is not needed for GLM-5",
    category="serve",
)
def serve_trust_remote_code(facts: Facts, profile: Profile) -> Outcome:
    """An information-only pass: GLM-5 runs on native code in transformers and vLLM.

    What it checks:
        Whether ``--trust-remote-code`` is on the command line.

    Why it matters:
        Some guides call it "required for DSA"; it is not (transformers >= 5.2 and vLLM >= 0.16 have
        native classes, and GLM-5's repositories ship no custom code). It is harmless, so never a failure.

    How to fix:
        Nothing to fix; drop the flag if you prefer not to allow remote code.

    Sources:
        - https://github.com/vllm-project/vllm/pull/34124 (test registry: zai-org/GLM-5, no trust_remote_code)
        - transformers 5.2.0 wheel: transformers/models/glm_moe_dsa/ (native GlmMoeDsaConfig)
        - https://docs.vultr.com/inference-cookbook/cuda/model-guides/glm5 (the "required for DSA" claim)
    """
    serve = _serve(profile)
    if serve is None:
        return Outcome.skipped(NO_COMMAND)
    if serve.trust_remote_code:
        return Outcome.passed(
            "--trust-remote-code is set but not needed: GLM-5 is native in transformers 5.2+ and vLLM 0.16+ (harmless)",
            {"trust_remote_code": True},
        )
    return Outcome.passed("--trust-remote-code not set, and not needed for GLM-5", {"trust_remote_code": False})


@check(
    "serve.mtp-with-tools",
    title="MTP speculative decoding together with tool calling",
    category="serve",
)
def serve_mtp_with_tools(facts: Facts, profile: Profile) -> Outcome:
    """MTP plus tool calling: a warning with the known issues.

    What it checks:
        ``--speculative-config`` method ``mtp`` together with a tool parser or auto tool choice.

    Why it matters:
        Reported repeatedly: tool-call parse failures and "Invalid tool parameters" in most parallel
        tool calls (vLLM 0.21), forced tool calls left unparsed (0.24).

    How to fix:
        For agent and tool workloads drop MTP, or use a vLLM with the new streaming parser engine.

    Sources:
        - https://github.com/zai-org/GLM-5/issues/58 ; https://github.com/vllm-project/vllm/issues/48095
        - https://github.com/vllm-project/vllm/issues/44843 ; https://github.com/vllm-project/vllm/pull/45915
    """
    serve = _serve(profile)
    if serve is None:
        return Outcome.skipped(NO_COMMAND)
    evidence = {"mtp": serve.mtp, "tool_calling": serve.tool_calling, "speculative_config": serve.speculative_config}
    if serve.mtp and serve.tool_calling:
        return Outcome.warned(
            "MTP with tool calling has known breakage (unparsed or invalid tool calls): zai-org/GLM-5#58, vllm#44843",
            evidence,
        )
    return Outcome.passed("MTP and tool calling are not combined", evidence)


@check(
    "serve.tensor-parallel",
    title="--tensor-parallel-size divides GLM-5's 64 attention heads",
    category="serve",
    facts=(MODEL_FILES,),
    fix=serve_fix(dividing_tensor_parallel),
)
def serve_tensor_parallel(facts: Facts, profile: Profile) -> Outcome:
    """``num_attention_heads % tensor_parallel_size == 0``.

    What it checks:
        The attention heads (64 for GLM-5, from ``config.json`` when on disk) split evenly over the
        tensor-parallel ranks.

    Why it matters:
        vLLM refuses: "Total number of attention heads (64) must be divisible by tensor parallel size".

    How to fix:
        Use TP 1, 2, 4 or 8 (and pipeline parallelism across nodes).

    Sources:
        - https://github.com/vllm-project/vllm/pull/46189 (GLM-5: 64 attention heads)
        - https://github.com/zai-org/GLM-5/issues/25 (16x H100 for FP8)
    """
    files = facts[MODEL_FILES]
    heads = (files.get("config") or {}).get("num_attention_heads") if isinstance(files, dict) else None
    spec = model_spec(profile.model)
    heads = heads if isinstance(heads, int) else (spec.num_attention_heads if spec else 64)
    tp = profile.tensor_parallel_size
    evidence = {"num_attention_heads": heads, "tensor_parallel_size": tp}
    if heads % tp:
        return Outcome.failed(
            f'"Total number of attention heads ({heads}) must be divisible by tensor parallel size ({tp})"', evidence
        )
    return Outcome.passed(f"{heads} heads / TP {tp} = {heads // tp} per rank", evidence)
