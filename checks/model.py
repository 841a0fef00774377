"""The model on disk: the right architecture and limits, every shard complete, a tokenizer vLLM can read."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._fixes import (
    longest_context,
    model_download,
    serve_fix,
    transformers_spec,
    without_speculative_config,
)
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.knowledge.checkpoints import model_spec
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.host import HOST
from glm5_doctor.probes.model_files import MODEL_FILES, ModelFilesFact

GB = 10**9
#: Download sizes of the checkpoints (computed from GLM-5's tensor shapes: FP8 756.2 GB with MTP; NVFP4 ~446 GB).
DOWNLOAD_GB = {"fp8": 756.2, "nvfp4": 446.0, "bf16": 1507.7}
MAX_LEN_ERROR = (
    "User-specified max_model_len ({want}) is greater than the derived max_model_len "
    "(max_position_embeddings={have} ...)"
)


def _not_here(files: ModelFilesFact) -> Outcome:
    where = ", ".join(files["searched"]) or "the path given"
    return Outcome.skipped(
        f"{files['model']} is not on disk yet (looked in {where}); checked after download",
        {"searched": files["searched"]},
    )


@check(
    "model.config",
    title="config.json is GLM-5's, and --max-model-len is within its limit",
    category="model",
    facts=(MODEL_FILES,),
    fix=serve_fix(longest_context),
)
def model_config(facts: Facts, profile: Profile) -> Outcome:
    """The checkpoint's ``config.json``: architecture, model type, context limit, quantization.

    What it checks:
        ``architectures`` holds ``GlmMoeDsaForCausalLM`` and ``model_type`` is ``glm_moe_dsa``; the
        planned ``--max-model-len`` is at most ``max_position_embeddings`` (202,752 for GLM-5); the
        quantization the config declares (``quantization_config`` or ``hf_quant_config.json``) is
        the one the profile expects (FP8 for GLM-5-FP8, NVFP4 for the NVFP4 checkpoints).

    Why it matters:
        A longer ``--max-model-len`` stops vLLM with "User-specified max_model_len (N) is greater than
        the derived max_model_len (max_position_embeddings=202752 ...)"; a different architecture means
        none of GLM-5's rules (and none of these checks) apply.

    How to fix:
        Lower ``--max-model-len`` (do not set ``VLLM_ALLOW_LONG_MAX_MODEL_LEN`` for a RoPE model), or
        point at the checkpoint you meant.

    Sources:
        - vllm 0.16.0 wheel: vllm/config/model.py ; https://github.com/sgl-project/sglang/issues/18980
        - https://github.com/vllm-project/recipes/blob/main/models/zai-org/GLM-5.yaml (fp8 and nvfp4 variants)
    """
    files: ModelFilesFact = facts[MODEL_FILES]
    if files["path"] is None:
        return _not_here(files)
    evidence: dict[str, object] = {"path": files["path"], "found_as": files["found_as"]}
    if files["config_error"]:
        return Outcome.failed(f"{files['path']}: {files['config_error']}", evidence)
    config = files["config"] or {}
    architectures = config.get("architectures") or []
    evidence.update(
        architectures=architectures,
        model_type=config.get("model_type"),
        max_position_embeddings=config.get("max_position_embeddings"),
    )
    if knowledge.GLM5_ARCHITECTURE not in architectures or config.get("model_type") != knowledge.GLM5_MODEL_TYPE:
        return Outcome.failed(
            f"{files['path']} is not GLM-5: architectures {architectures}, model_type {config.get('model_type')!r} "
            f"(expected {knowledge.GLM5_ARCHITECTURE} / {knowledge.GLM5_MODEL_TYPE})",
            evidence,
        )
    limit = config.get("max_position_embeddings")
    want = profile.context_length(limit) if isinstance(limit, int) else profile.max_model_len
    if isinstance(limit, int) and want > limit:
        return Outcome.failed(
            f"--max-model-len {want} exceeds the model's max_position_embeddings {limit}: vLLM stops "
            f'with "{MAX_LEN_ERROR.format(want=want, have=limit)}"',
            evidence,
        )
    declared = _declared_quantization(files)
    expected = profile.quantization
    evidence.update(quantization=declared, expected=expected)
    if expected in ("fp8", "nvfp4") and declared is not None and declared != expected:
        return Outcome.warned(
            f"the checkpoint declares {declared} quantization, the profile expects {expected}: "
            "the memory plan and NVFP4 rules may not match",
            evidence,
        )
    return Outcome.passed(
        f"GLM-5 ({config.get('model_type')}), max_position_embeddings {limit}, {declared or 'unquantized'} weights",
        evidence,
    )


def _declared_quantization(files: ModelFilesFact) -> str | None:
    quant = (files["config"] or {}).get("quantization_config")
    hf_quant = files["hf_quant_config"] or {}
    algo = str((hf_quant.get("quantization") or {}).get("quant_algo", "")).lower()
    if "nvfp4" in algo or "fp4" in algo:
        return "nvfp4"
    if isinstance(quant, dict):
        method = str(quant.get("quant_method", "")).lower()
        if method == "fp8" or "fp8" in str(quant.get("fmt", "")).lower():
            return "fp8"
        if method in ("modelopt", "modelopt_fp4") or "fp4" in str(quant.get("quant_algo", "")).lower():
            return "nvfp4"
        return method or None
    return None


@check(
    "model.files",
    title="Every weight shard is on disk and complete (or there is room to download it)",
    category="model",
    facts=(MODEL_FILES, HOST),
    fix=Fix("download-model.sh", environment=model_download),
    timeout_s=30.0,
)
def model_files(facts: Facts, profile: Profile) -> Outcome:
    """Shards named in ``model.safetensors.index.json`` present and as long as their headers say.

    What it checks:
        Each shard of the index exists (in the Hugging Face cache: its blob link is not broken) and
        its size equals 8 + header length + the end of its last tensor, read from its own safetensors
        header; no ``.incomplete`` download is left in the cache. When the model is not on disk, how
        much will be downloaded at start and whether the disk has room, and whether the Hub is
        reachable at all (``HF_HUB_OFFLINE``).

    Why it matters:
        A missing or truncated shard fails minutes into loading 700 GB; a download that starts inside
        ``vllm serve`` on a full disk or an offline node fails after a long wait.

    How to fix:
        Download (or resume) the model into the cache vLLM reads: ``glm5-doctor fix model.files``.

    Sources:
        - https://huggingface.co/docs/safetensors/index (format: 8-byte header length, JSON header)
        - https://huggingface.co/docs/huggingface_hub/guides/manage-cache (snapshots, blobs, refs)
        - 756.2 GB FP8 checkpoint: computed from GLM-5's tensor shapes (FP8 + 128x128 block scales)
        - https://huggingface.co/zai-org/GLM-5-FP8/tree/main (the shards and their sizes)
    """
    files: ModelFilesFact = facts[MODEL_FILES]
    host = facts[HOST]
    spec = model_spec(profile.model)
    need_gb = DOWNLOAD_GB.get(spec.quantization) if spec else None
    evidence: dict[str, object] = {
        "path": files["path"],
        "disk_path": files["disk_path"],
        "disk_free_gb": round(files["disk_free_bytes"] / GB, 1) if files["disk_free_bytes"] is not None else None,
        "download_gb": need_gb,
        "hf_token_set": host["hf_token_set"],  # presence only: never the value
    }
    if files["path"] is None:
        if host["hf_hub_offline"]:
            return Outcome.failed(
                f"{profile.model} is not in the cache and HF_HUB_OFFLINE is set: vLLM cannot download it", evidence
            )
        free = files["disk_free_bytes"]
        if need_gb is not None and free is not None and free < need_gb * GB:
            return Outcome.failed(
                f"{profile.model} is not on disk; its ~{need_gb:.0f} GB download does not fit the "
                f"{free / GB:.0f} GB free at {files['disk_path']}",
                evidence,
            )
        size = f" (~{need_gb:.0f} GB)" if need_gb else ""
        return Outcome.warned(
            f"{profile.model} is not on disk: vllm serve will first download it{size} into "
            f"{files['cache_dir']}; download it beforehand",
            evidence,
        )
    if files["index_error"]:
        return Outcome.failed(f"{files['path']}: {files['index_error']}", evidence)
    bad = [f"{shard['name']} ({shard['problem']})" for shard in files["shards"] if shard["problem"]]
    evidence.update(shards=len(files["shards"]), problems=bad, incomplete=files["incomplete_downloads"])
    if bad:
        return Outcome.failed(
            f"{len(bad)} of {len(files['shards'])} shards are not complete: {', '.join(bad[:3])}"
            + (" ..." if len(bad) > 3 else ""),
            evidence,
        )
    if files["incomplete_downloads"]:
        return Outcome.warned(
            f"{len(files['incomplete_downloads'])} unfinished download(s) left in the cache "
            f"({files['incomplete_downloads'][0]} ...)",
            evidence,
        )
    total = sum(shard["size"] or 0 for shard in files["shards"])
    return Outcome.passed(
        f"all {len(files['shards'])} shards complete ({total / GB:.1f} GB) in {files['path']}", evidence
    )


@check(
    "model.tokenizer",
    title="The tokenizer's class exists in the installed transformers",
    category="model",
    facts=(MODEL_FILES, DISTRIBUTIONS),
    fix=Fix("install-transformers.sh", environment=transformers_spec),
)
def model_tokenizer(facts: Facts, profile: Profile) -> Outcome:
    """``tokenizer_config.json`` ``TokenizersBackend`` needs transformers 5.

    What it checks:
        GLM-5's tokenizer config names ``"tokenizer_class": "TokenizersBackend"``, a class that exists
        only in transformers 5.x; with transformers 4.x installed that is a failure.

    Why it matters:
        vLLM stops at start with "Tokenizer class TokenizersBackend does not exist or is not currently
        imported." (older vLLMs: "TokenizersBackend has no attribute all_special_tokens_extended").

    How to fix:
        Install a transformers 5 release inside vLLM's window: ``glm5-doctor fix model.tokenizer``.

    Sources:
        - https://github.com/ai-dynamo/aiperf/issues/960 ; https://github.com/NVIDIA/TensorRT-LLM/pull/13901
    """
    files: ModelFilesFact = facts[MODEL_FILES]
    if files["path"] is None:
        return _not_here(files)
    transformers = distribution(facts, "transformers")
    version = parse_version(transformers["version"]) if transformers else None
    evidence = {"tokenizer_class": files["tokenizer_class"], "transformers": str(version) if version else None}
    if files["tokenizer_class"] != "TokenizersBackend":
        return Outcome.passed(f"tokenizer class {files['tokenizer_class'] or '(not stated)'}", evidence)
    if version is None:
        return Outcome.failed("tokenizer class TokenizersBackend needs transformers 5, and none is installed", evidence)
    if version.major < 5:
        return Outcome.failed(
            f'tokenizer class TokenizersBackend needs transformers 5, not {version}: "Tokenizer '
            'class TokenizersBackend does not exist or is not currently imported."',
            evidence,
        )
    return Outcome.passed(f"tokenizer class TokenizersBackend, available in transformers {version}", evidence)


@check(
    "model.mtp-weights",
    title="MTP is requested only for a checkpoint that ships the MTP layer",
    category="model",
    facts=(MODEL_FILES,),
    fix=serve_fix(without_speculative_config),
)
def model_mtp_weights(facts: Facts, profile: Profile) -> Outcome:
    """``--speculative-config`` method ``mtp`` needs the tensors of layer ``num_hidden_layers``.

    What it checks:
        When MTP is requested: ``config.json`` declares ``num_nextn_predict_layers`` >= 1 and the
        index's ``weight_map`` has tensors ``model.layers.<num_hidden_layers>.*`` (layer 78 for GLM-5).

    Why it matters:
        ``lukealonso/GLM-5-NVFP4`` declares one MTP layer but ships no weights for it: MTP cannot load
        or drafts garbage. ``festr2/GLM-5-NVFP4-MTP`` restores them.

    How to fix:
        Use a checkpoint with the MTP layer, or drop ``--speculative-config``.

    Sources:
        - https://huggingface.co/festr2/GLM-5-NVFP4-MTP (restores layer 78, the MTP layer)
        - https://github.com/voipmonitor/rtx6kpro/blob/master/models/glm5.md
    """
    serve = profile.serve
    if serve is None or not serve.mtp:
        return Outcome.skipped("MTP is not requested")
    files: ModelFilesFact = facts[MODEL_FILES]
    if files["path"] is None:
        return _not_here(files)
    config = files["config"] or {}
    layers = config.get("num_hidden_layers")
    declared = config.get("num_nextn_predict_layers")
    evidence = {
        "num_hidden_layers": layers,
        "num_nextn_predict_layers": declared,
        "mtp_layer_present": files["mtp_layer_present"],
    }
    if not declared:
        return Outcome.failed(
            f"MTP is requested but {profile.model} declares no MTP layer (num_nextn_predict_layers)", evidence
        )
    if files["mtp_layer_present"] is False:
        return Outcome.failed(
            f"MTP is requested and config.json declares {declared} MTP layer(s), but the index has "
            f"no model.layers.{layers}.* tensors: this checkpoint ships no MTP weights "
            "(use festr2/GLM-5-NVFP4-MTP or drop --speculative-config)",
            evidence,
        )
    if files["mtp_layer_present"] is None:
        return Outcome.errored(
            "cannot tell whether the MTP layer is present (no usable index or layer count)", evidence
        )
    return Outcome.passed(f"the MTP layer (model.layers.{layers}.*) is in the checkpoint", evidence)
