"""model.*: config.json is GLM-5's and within limits, shards complete, tokenizer loadable, MTP weights present."""

from __future__ import annotations

from typing import Any

import pytest
from glm5_doctor.checks.model import model_config, model_mtp_weights, model_tokenizer
from glm5_doctor.checks.model import model_files as model_files_check
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.host import HOST, HostFact
from glm5_doctor.probes.model_files import MODEL_FILES, ModelFilesFact

from unit.facts import GLM5_CONFIG, dist, distributions, facts, host_fact, model_files, profile, serve, shard

SNAPSHOT = "/root/.cache/huggingface/hub/models--zai-org--GLM-5-FP8/snapshots/" + "a" * 40
MTP = serve(speculative_config={"method": "mtp", "num_speculative_tokens": 1})


def config(deployment: Profile | None = None, **files: Any) -> Outcome:
    return model_config(facts({MODEL_FILES: model_files(**files)}), deployment or profile())


# --- model.config ----------------------------------------------------------------------------------


def test_glm5_fp8_config_passes() -> None:
    outcome = config()
    assert outcome.status is Status.PASS
    assert outcome.message == "GLM-5 (glm_moe_dsa), max_position_embeddings 202752, fp8 weights"
    assert outcome.evidence["quantization"] == "fp8"
    assert outcome.evidence["expected"] == "fp8"


def test_model_not_on_disk_is_skipped_until_downloaded() -> None:
    outcome = config(on_disk=False)
    assert outcome.status is Status.SKIP
    assert outcome.message == (
        "zai-org/GLM-5-FP8 is not on disk yet (looked in /root/.cache/huggingface/hub/models--zai-org--GLM-5-FP8); "
        "checked after download"
    )
    nowhere = config(on_disk=False, searched=[], model="/models/glm5")
    assert nowhere.message.startswith("/models/glm5 is not on disk yet (looked in the path given)")


def test_an_unreadable_config_fails() -> None:
    outcome = config(config=None, config_error="config.json is not valid JSON (line 3)")
    assert outcome.status is Status.FAIL
    assert outcome.message == f"{SNAPSHOT}: config.json is not valid JSON (line 3)"


@pytest.mark.parametrize(
    "changes",
    [
        {"architectures": ["DeepseekV32ForCausalLM"]},
        {"model_type": "deepseek_v32"},
        {"architectures": None},
    ],
)
def test_another_model_fails(changes: dict[str, Any]) -> None:
    outcome = config(config={**GLM5_CONFIG, **changes})
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"{SNAPSHOT} is not GLM-5: architectures")
    assert outcome.message.endswith("(expected GlmMoeDsaForCausalLM / glm_moe_dsa)")


def test_a_context_longer_than_the_model_fails() -> None:
    outcome = config(profile(max_model_len=262144))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("--max-model-len 262144 exceeds the model's max_position_embeddings 202752")
    assert "User-specified max_model_len (262144) is greater than the derived max_model_len" in outcome.message


def test_the_models_full_context_and_auto_pass() -> None:
    assert config(profile(max_model_len=202752)).status is Status.PASS
    assert config(profile(max_model_len=-1, max_model_len_auto=True)).status is Status.PASS
    no_limit = config(profile(max_model_len=10**7), config={**GLM5_CONFIG, "max_position_embeddings": None})
    assert no_limit.status is Status.PASS


@pytest.mark.parametrize(
    ("quantization_config", "hf_quant_config", "declared"),
    [
        ({"quant_method": "modelopt", "quant_algo": "NVFP4"}, None, "nvfp4"),
        (None, {"quantization": {"quant_algo": "NVFP4"}}, "nvfp4"),
        ({"quant_method": "modelopt_fp4"}, None, "nvfp4"),
        ({"quant_method": "compressed-tensors", "quant_algo": "W4A4_FP4"}, None, "nvfp4"),
        ({"quant_method": "awq"}, None, "awq"),
    ],
)
def test_a_checkpoint_quantized_otherwise_than_the_profile_warns(
    quantization_config: dict[str, Any] | None, hf_quant_config: dict[str, Any] | None, declared: str
) -> None:
    outcome = config(
        config={**GLM5_CONFIG, "quantization_config": quantization_config}, hf_quant_config=hf_quant_config
    )
    assert outcome.status is Status.WARN
    assert outcome.message.startswith(f"the checkpoint declares {declared} quantization, the profile expects fp8")


def test_fp8_declared_by_its_format_matches() -> None:
    outcome = config(config={**GLM5_CONFIG, "quantization_config": {"fmt": "float8_e4m3fn_fp8"}})
    assert outcome.status is Status.PASS
    assert outcome.evidence["quantization"] == "fp8"


def test_an_unquantized_checkpoint_for_an_fp8_profile_passes() -> None:
    unquantized = {**GLM5_CONFIG, "quantization_config": None}
    outcome = config(config=unquantized)
    assert outcome.status is Status.PASS
    assert outcome.message.endswith(", unquantized weights")
    empty_method = config(config={**GLM5_CONFIG, "quantization_config": {"quant_method": ""}})
    assert empty_method.evidence["quantization"] is None


def test_nvfp4_profile_with_an_nvfp4_checkpoint_passes() -> None:
    nvfp4 = profile(model="lukealonso/GLM-5-NVFP4", tensor_parallel_size=4)
    outcome = config(
        nvfp4,
        config={**GLM5_CONFIG, "quantization_config": None},
        hf_quant_config={"quantization": {"quant_algo": "NVFP4"}},
    )
    assert outcome.status is Status.PASS
    assert outcome.message.endswith(", nvfp4 weights")
    mismatch = config(nvfp4)
    assert mismatch.status is Status.WARN
    assert mismatch.message.startswith("the checkpoint declares fp8 quantization, the profile expects nvfp4")


def test_a_bf16_profile_is_not_judged_on_quantization() -> None:
    assert config(profile(model="zai-org/GLM-5")).status is Status.PASS


# --- model.files -----------------------------------------------------------------------------------


def files(deployment: Profile | None = None, host: HostFact | None = None, **changes: Any) -> Outcome:
    return model_files_check(
        facts({MODEL_FILES: model_files(**changes), HOST: host or host_fact()}), deployment or profile()
    )


def test_complete_shards_pass() -> None:
    outcome = files()
    assert outcome.status is Status.PASS
    assert outcome.message == f"all 3 shards complete (15.0 GB) in {SNAPSHOT}"
    assert outcome.evidence["shards"] == 3
    assert outcome.evidence["download_gb"] == 756.2


def test_not_downloaded_warns_with_the_size() -> None:
    outcome = files(on_disk=False)
    assert outcome.status is Status.WARN
    assert outcome.message == (
        "zai-org/GLM-5-FP8 is not on disk: vllm serve will first download it (~756 GB) into "
        "/root/.cache/huggingface/hub; download it beforehand"
    )
    assert outcome.evidence["disk_free_gb"] == 2000.0


def test_an_unknown_model_not_downloaded_warns_without_a_size() -> None:
    outcome = files(profile(model="org/other"), on_disk=False, disk_free_bytes=10**9)
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("org/other is not on disk: vllm serve will first download it into")


def test_not_downloaded_and_offline_fails() -> None:
    outcome = files(host=host_fact(hf_hub_offline=True), on_disk=False)
    assert outcome.status is Status.FAIL
    assert outcome.message == "zai-org/GLM-5-FP8 is not in the cache and HF_HUB_OFFLINE is set: vLLM cannot download it"


def test_not_downloaded_onto_a_disk_too_small_fails() -> None:
    """The real 1 x H200 machine: 137.4 GB free at /root/.cache (run.json)."""
    outcome = files(on_disk=False, disk_free_bytes=137_400_000_000, disk_path="/root/.cache")
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "zai-org/GLM-5-FP8 is not on disk; its ~756 GB download does not fit the 137 GB free at /root/.cache"
    )


def test_disk_free_evidence_in_tenths_of_a_gb() -> None:
    assert files(on_disk=False, disk_free_bytes=137_456_000_000).evidence["disk_free_gb"] == 137.5


def test_exactly_enough_disk_warns_only() -> None:
    assert files(on_disk=False, disk_free_bytes=756_200_000_000).status is Status.WARN
    assert files(on_disk=False, disk_free_bytes=None).status is Status.WARN


def test_an_unreadable_index_fails() -> None:
    outcome = files(index_error="model.safetensors.index.json is missing")
    assert outcome.status is Status.FAIL
    assert outcome.message == f"{SNAPSHOT}: model.safetensors.index.json is missing"


def test_incomplete_shards_fail() -> None:
    shards = [
        shard(1, 4, problem="missing"),
        shard(2, 4, problem="truncated: 10 of 20 bytes"),
        shard(3, 4),
        shard(4, 4),
    ]
    outcome = files(shards=shards)
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "2 of 4 shards are not complete: model-00001-of-00004.safetensors (missing), "
        "model-00002-of-00004.safetensors (truncated: 10 of 20 bytes)"
    )


def test_more_than_three_bad_shards_are_cut() -> None:
    outcome = files(shards=[shard(n, 4, problem="missing") for n in (1, 2, 3, 4)])
    assert outcome.message.startswith("4 of 4 shards are not complete:")
    assert outcome.message.endswith("model-00003-of-00004.safetensors (missing) ...")
    three = files(shards=[shard(n, 3, problem="missing") for n in (1, 2, 3)])
    assert not three.message.endswith("...")


def test_leftover_downloads_warn() -> None:
    outcome = files(incomplete_downloads=["blobs/abc.incomplete", "blobs/def.incomplete"])
    assert outcome.status is Status.WARN
    assert outcome.message == "2 unfinished download(s) left in the cache (blobs/abc.incomplete ...)"


# --- model.tokenizer -------------------------------------------------------------------------------


def tokenizer(transformers: str | None, **changes: Any) -> Outcome:
    dists = [dist("transformers", transformers)] if transformers else []
    return model_tokenizer(
        facts({MODEL_FILES: model_files(**changes), DISTRIBUTIONS: distributions(*dists)}), profile()
    )


def test_tokenizers_backend_on_transformers_5_passes() -> None:
    outcome = tokenizer("5.0.0")
    assert outcome.status is Status.PASS
    assert outcome.message == "tokenizer class TokenizersBackend, available in transformers 5.0.0"


def test_tokenizers_backend_on_transformers_4_fails() -> None:
    outcome = tokenizer("4.57.6")
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("tokenizer class TokenizersBackend needs transformers 5, not 4.57.6")


def test_tokenizers_backend_without_transformers_fails() -> None:
    outcome = tokenizer(None)
    assert outcome.status is Status.FAIL
    assert outcome.message == "tokenizer class TokenizersBackend needs transformers 5, and none is installed"
    assert tokenizer("not-a-version").status is Status.FAIL


@pytest.mark.parametrize(
    ("tokenizer_class", "shown"), [("PreTrainedTokenizerFast", "PreTrainedTokenizerFast"), (None, "(not stated)")]
)
def test_other_tokenizer_classes_pass(tokenizer_class: str | None, shown: str) -> None:
    outcome = tokenizer("4.57.6", tokenizer_class=tokenizer_class)
    assert outcome.status is Status.PASS
    assert outcome.message == f"tokenizer class {shown}"


def test_tokenizer_of_a_model_not_on_disk_is_skipped() -> None:
    assert tokenizer("5.0.0", on_disk=False).status is Status.SKIP


# --- model.mtp-weights -----------------------------------------------------------------------------


def mtp(deployment: Profile, files_fact: ModelFilesFact | None = None) -> Outcome:
    return model_mtp_weights(facts({MODEL_FILES: files_fact or model_files()}), deployment)


def test_mtp_layer_present_passes() -> None:
    outcome = mtp(profile(serve=MTP))
    assert outcome.status is Status.PASS
    assert outcome.message == "the MTP layer (model.layers.78.*) is in the checkpoint"


@pytest.mark.parametrize("command", [None, serve(), serve(speculative_config={"method": "ngram"})])
def test_mtp_not_requested_is_skipped(command: Any) -> None:
    outcome = mtp(profile(serve=command))
    assert outcome.status is Status.SKIP
    assert outcome.message == "MTP is not requested"


def test_mtp_for_a_model_not_on_disk_is_skipped() -> None:
    assert mtp(profile(serve=MTP), model_files(on_disk=False)).status is Status.SKIP


@pytest.mark.parametrize("declared", [0, None])
def test_mtp_without_a_declared_layer_fails(declared: int | None) -> None:
    outcome = mtp(profile(serve=MTP), model_files(config={**GLM5_CONFIG, "num_nextn_predict_layers": declared}))
    assert outcome.status is Status.FAIL
    assert outcome.message == "MTP is requested but zai-org/GLM-5-FP8 declares no MTP layer (num_nextn_predict_layers)"


def test_mtp_declared_but_not_shipped_fails() -> None:
    outcome = mtp(profile(serve=MTP), model_files(mtp_layer_present=False))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        "MTP is requested and config.json declares 1 MTP layer(s), but the index has no model.layers.78.* tensors"
    )


def test_mtp_presence_unknown_is_an_error() -> None:
    outcome = mtp(profile(serve=MTP), model_files(mtp_layer_present=None))
    assert outcome.status is Status.ERROR
    assert outcome.message == "cannot tell whether the MTP layer is present (no usable index or layer count)"


@pytest.mark.parametrize(
    ("model", "gb"),
    [("zai-org/GLM-5-FP8", 756.2), ("lukealonso/GLM-5-NVFP4", 446.0), ("zai-org/GLM-5", 1507.7), ("org/x", None)],
)
def test_download_size_per_checkpoint(model: str, gb: float | None) -> None:
    assert files(profile(model=model), on_disk=False).evidence["download_gb"] == gb


def test_an_fp4_algorithm_in_hf_quant_config_is_nvfp4() -> None:
    outcome = config(hf_quant_config={"quantization": {"quant_algo": "W4A16_FP4"}})
    assert outcome.status is Status.WARN
    assert outcome.evidence["quantization"] == "nvfp4"
