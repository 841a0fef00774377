"""serve.*: the vllm serve arguments (preflight): parsers, content format, KV dtype, env, MTP, TP split."""

from __future__ import annotations

from typing import Any

import pytest
from glm5_doctor.checks.serve import (
    serve_attention_backend,
    serve_attention_backend_env,
    serve_chat_template_format,
    serve_kv_cache_dtype,
    serve_mtp_with_tools,
    serve_parsers,
    serve_tensor_parallel,
    serve_trust_remote_code,
)
from glm5_doctor.deployment.serve_args import ServeArgs
from glm5_doctor.engine.check import Check
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.host import HOST
from glm5_doctor.probes.model_files import MODEL_FILES
from glm5_doctor.probes.nvml import NVML, NvmlFact
from glm5_doctor.probes.vllm_files import VLLM_FILES

from unit.facts import (
    GLM5_CONFIG,
    device,
    dist,
    distributions,
    facts,
    host_fact,
    model_files,
    nvml_fact,
    nvml_failed,
    profile,
    real_vllm_files,
    serve,
    vllm_files,
)

NO_COMMAND = "no vllm serve command to judge (run through glm5-doctor preflight -- vllm serve ...)"
MTP = {"method": "mtp", "num_speculative_tokens": 1}


@pytest.mark.parametrize(
    "check",
    [
        serve_parsers,
        serve_chat_template_format,
        serve_kv_cache_dtype,
        serve_attention_backend,
        serve_trust_remote_code,
        serve_mtp_with_tools,
    ],
)
def test_without_a_serve_command_the_command_checks_skip(check: Check) -> None:
    all_facts = facts({VLLM_FILES: vllm_files(), DISTRIBUTIONS: distributions(), NVML: nvml_fact()})
    outcome = check(all_facts, profile())
    assert outcome.status is Status.SKIP
    assert outcome.message == NO_COMMAND


# --- serve.parsers ---------------------------------------------------------------------------------


def parsers(command: ServeArgs, **files: Any) -> Outcome:
    return serve_parsers(facts({VLLM_FILES: vllm_files(**files)}), profile(serve=command))


def test_glm5_parsers_present_in_vllm_pass() -> None:
    outcome = parsers(serve(tool_call_parser="glm47", reasoning_parser="glm45", enable_auto_tool_choice=True))
    assert outcome.status is Status.PASS
    assert outcome.message == "glm47, glm45: GLM-5's parsers, present in the installed vLLM"


def test_glm5_parsers_unconfirmed_without_a_registry() -> None:
    outcome = parsers(serve(reasoning_parser="glm45"), reasoning_parsers=None)
    assert outcome.status is Status.PASS
    assert outcome.message == "glm45: GLM-5's parsers (not confirmed: no vLLM parser registry to read)"
    outcome = parsers(serve(tool_call_parser="glm47"), tool_parsers=None)
    assert outcome.message == "glm47: GLM-5's parsers (not confirmed: no vLLM parser registry to read)"


def test_no_parsers_requested_passes() -> None:
    outcome = parsers(serve())
    assert outcome.status is Status.PASS
    assert outcome.message.startswith("no tool or reasoning parsing requested")


def test_auto_tool_choice_without_a_parser_fails() -> None:
    outcome = parsers(serve(enable_auto_tool_choice=True))
    assert outcome.status is Status.FAIL
    assert outcome.message == "--enable-auto-tool-choice needs --tool-call-parser (glm47 for GLM-5)"


@pytest.mark.parametrize(("parser", "why"), [("glm45", " (glm45 is GLM-4.5's tool format)"), ("hermes", "")])
def test_another_tool_parser_fails(parser: str, why: str) -> None:
    outcome = parsers(serve(tool_call_parser=parser))
    assert outcome.status is Status.FAIL
    assert outcome.message == f"--tool-call-parser {parser}{why}: GLM-5 needs glm47"


def test_a_tool_parser_this_vllm_lacks_fails() -> None:
    outcome = parsers(serve(tool_call_parser="glm47"), tool_parsers=["glm45", "hermes"])
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "the installed vLLM has no 'glm47': vllm serve stops with \"argument --tool-call-parser: "
        "invalid choice: 'glm47'\""
    )


def test_a_reasoning_parser_this_vllm_lacks_fails() -> None:
    outcome = parsers(serve(reasoning_parser="glm45"), reasoning_parsers=["deepseek_r1"])
    assert outcome.status is Status.FAIL
    assert "argument --reasoning-parser: invalid choice: 'glm45'" in outcome.message


def test_another_reasoning_parser_warns() -> None:
    outcome = parsers(serve(reasoning_parser="deepseek_r1"))
    assert outcome.status is Status.WARN
    assert outcome.message == "--reasoning-parser deepseek_r1: GLM-5's reasoning format is glm45"


# --- serve.chat-template-format --------------------------------------------------------------------


def content_format(command: ServeArgs) -> Outcome:
    return serve_chat_template_format(facts({}), profile(serve=command))


def test_no_tool_calling_needs_no_format() -> None:
    outcome = content_format(serve())
    assert outcome.status is Status.PASS
    assert outcome.message == "no tool calling requested"


@pytest.mark.parametrize(
    "command",
    [serve(tool_call_parser="glm47"), serve(enable_auto_tool_choice=True, chat_template_content_format="openai")],
)
def test_tool_calling_without_string_format_warns(command: ServeArgs) -> None:
    outcome = content_format(command)
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("tool calling without --chat-template-content-format string")


def test_tool_calling_with_string_format_passes() -> None:
    outcome = content_format(serve(tool_call_parser="glm47", chat_template_content_format="string"))
    assert outcome.status is Status.PASS
    assert outcome.message == "tool calling with --chat-template-content-format string"


# --- serve.kv-cache-dtype --------------------------------------------------------------------------


def kv(dtype: str, vllm: str | None = "0.19.1", nvml: NvmlFact | None = None, gpu: str = "B200") -> Outcome:
    dists = [dist("vllm", vllm)] if vllm else []
    values: dict[Any, Any] = {DISTRIBUTIONS: distributions(*dists), NVML: nvml or nvml_failed("library_not_found")}
    return serve_kv_cache_dtype(facts(values), profile(serve=serve(kv_cache_dtype=dtype), gpu=gpu))


@pytest.mark.parametrize("dtype", ["auto", "bfloat16", "fp8_ds_mla", "fp8", "fp8_e4m3", "fp8_e5m2", "float16"])
def test_every_known_dtype_passes_on_blackwell(dtype: str) -> None:
    outcome = kv(dtype)
    assert outcome.status is Status.PASS
    assert outcome.message == f"--kv-cache-dtype {dtype} is served by a sparse-MLA backend on B200"


def test_an_unknown_dtype_fails() -> None:
    outcome = kv("int8")
    assert outcome.status is Status.FAIL
    assert outcome.message == "--kv-cache-dtype int8 is not a dtype vLLM knows"


@pytest.mark.parametrize("dtype", ["fp8_e4m3", "fp8_e5m2", "float16"])
def test_dtypes_flashmla_sparse_lacks_fail_on_hopper(dtype: str) -> None:
    outcome = kv(dtype, nvml=nvml_fact([device(0, "NVIDIA H200", (9, 0))]))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"--kv-cache-dtype {dtype} on NVIDIA H200 (detected): only FlashMLA sparse")
    assert kv(dtype, gpu="H100").status is Status.FAIL


@pytest.mark.parametrize("dtype", ["auto", "fp8_ds_mla", "fp8"])
def test_flashmla_sparse_dtypes_pass_on_hopper(dtype: str) -> None:
    assert kv(dtype, gpu="H200").status is Status.PASS


def test_fp8_before_vllm_018_warns() -> None:
    outcome = kv("fp8", "0.17.1")
    assert outcome.status is Status.WARN
    assert outcome.message == (
        "--kv-cache-dtype fp8 on vLLM 0.17.1: FlashMLA sparse knows 'fp8' only from 0.18.0; use fp8_ds_mla"
    )
    assert kv("fp8", "0.18.0").status is Status.PASS
    assert kv("fp8", None).status is Status.PASS


# --- serve.attention-backend-env, serve.trust-remote-code, serve.mtp-with-tools ---------------------


def test_no_attention_backend_variable_passes() -> None:
    outcome = serve_attention_backend_env(facts({HOST: host_fact()}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "VLLM_ATTENTION_BACKEND is not set"
    empty = serve_attention_backend_env(facts({HOST: host_fact(vllm_attention_backend="")}), profile())
    assert empty.status is Status.PASS


def test_an_attention_backend_variable_warns() -> None:
    outcome = serve_attention_backend_env(facts({HOST: host_fact(vllm_attention_backend="FLASHMLA")}), profile())
    assert outcome.status is Status.WARN
    assert outcome.message == (
        "VLLM_ATTENTION_BACKEND=FLASHMLA is ignored by current vLLM: use --attention-backend FLASHMLA instead"
    )


@pytest.mark.parametrize(
    ("flag", "start"), [(True, "--trust-remote-code is set but not needed"), (False, "--trust-remote-code not set")]
)
def test_trust_remote_code_is_information_only(flag: bool, start: str) -> None:
    outcome = serve_trust_remote_code(facts({}), profile(serve=serve(trust_remote_code=flag)))
    assert outcome.status is Status.PASS
    assert outcome.message.startswith(start)
    assert outcome.evidence == {"trust_remote_code": flag}


def test_mtp_with_tool_calling_warns() -> None:
    outcome = serve_mtp_with_tools(facts({}), profile(serve=serve(speculative_config=MTP, tool_call_parser="glm47")))
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("MTP with tool calling has known breakage")


@pytest.mark.parametrize("command", [serve(speculative_config=MTP), serve(tool_call_parser="glm47"), serve()])
def test_mtp_or_tools_alone_pass(command: ServeArgs) -> None:
    outcome = serve_mtp_with_tools(facts({}), profile(serve=command))
    assert outcome.status is Status.PASS
    assert outcome.message == "MTP and tool calling are not combined"


# --- serve.tensor-parallel -------------------------------------------------------------------------


@pytest.mark.parametrize("tp", [1, 2, 4, 8, 16, 64])
def test_tp_dividing_64_heads_passes(tp: int) -> None:
    outcome = serve_tensor_parallel(facts({MODEL_FILES: model_files()}), profile(tensor_parallel_size=tp))
    assert outcome.status is Status.PASS
    assert outcome.message == f"64 heads / TP {tp} = {64 // tp} per rank"


@pytest.mark.parametrize("tp", [3, 6, 12])
def test_tp_not_dividing_the_heads_fails(tp: int) -> None:
    outcome = serve_tensor_parallel(facts({MODEL_FILES: model_files()}), profile(tensor_parallel_size=tp))
    assert outcome.status is Status.FAIL
    assert outcome.message == f'"Total number of attention heads (64) must be divisible by tensor parallel size ({tp})"'


def test_heads_come_from_the_config_on_disk() -> None:
    fact = model_files(config={**GLM5_CONFIG, "num_attention_heads": 96})
    outcome = serve_tensor_parallel(facts({MODEL_FILES: fact}), profile(tensor_parallel_size=3))
    assert outcome.status is Status.PASS
    assert outcome.evidence == {"num_attention_heads": 96, "tensor_parallel_size": 3}


def test_heads_of_an_unknown_model_not_on_disk_default_to_glm5s() -> None:
    fact = model_files(on_disk=False)
    outcome = serve_tensor_parallel(facts({MODEL_FILES: fact}), profile(model="org/other", tensor_parallel_size=8))
    assert outcome.status is Status.PASS
    assert outcome.evidence["num_attention_heads"] == 64


def _kv_on_sm120(dtype: str) -> Outcome:
    sm120 = nvml_fact([device(0, "NVIDIA RTX PRO 6000 Blackwell Server Edition", (12, 0))])
    values: dict[Any, Any] = {
        DISTRIBUTIONS: distributions(dist("vllm", "0.24.0")),
        NVML: sm120,
        VLLM_FILES: real_vllm_files("0.24.0"),
    }
    return serve_kv_cache_dtype(facts(values), profile(serve=serve(kv_cache_dtype=dtype)))


def test_a_dtype_the_installed_backends_take_on_this_gpu_passes_and_names_them() -> None:
    outcome = _kv_on_sm120("fp8_ds_mla")
    assert outcome.status is Status.PASS
    assert "FLASHINFER_MLA_SPARSE_SM120" in outcome.message and "read from vLLM 0.24.0" in outcome.message


def test_a_dtype_the_installed_backends_refuse_on_this_gpu_fails_with_what_they_take() -> None:
    outcome = _kv_on_sm120("bfloat16")
    assert outcome.status is Status.FAIL
    assert outcome.evidence["accepted"] == ["auto", "fp8", "fp8_ds_mla", "fp8_e4m3"]


# --- serve.attention-backend -----------------------------------------------------------------------


def forced(
    backend: str | None,
    gpu: tuple[str, tuple[int, int]] = ("NVIDIA B200", (10, 0)),
    dtype: str = "auto",
    release: str | None = "0.19.1",
) -> Outcome:
    """serve.attention-backend against the sparse-MLA backends the real vLLM ``release`` wheel's files state."""
    values: dict[Any, Any] = {
        DISTRIBUTIONS: distributions(dist("vllm", release or "0.19.1")),
        NVML: nvml_fact([device(0, gpu[0], gpu[1])]),
        VLLM_FILES: real_vllm_files(release) if release else vllm_files(sparse_mla_backends=None),
    }
    return serve_attention_backend(facts(values), profile(serve=serve(attention_backend=backend, kv_cache_dtype=dtype)))


def test_without_the_flag_vllm_chooses_and_it_passes() -> None:
    outcome = forced(None)
    assert outcome.status is Status.PASS
    assert outcome.message == "no --attention-backend: vLLM picks a sparse-MLA backend itself"


@pytest.mark.parametrize("backend", ["FLASHMLA_SPARSE", "flashinfer_mla_sparse"])
def test_a_sparse_backend_of_this_vllm_for_this_gpu_passes(backend: str) -> None:
    outcome = forced(backend)
    assert outcome.status is Status.PASS
    assert outcome.message == (
        f"--attention-backend {backend.upper()} is a sparse-MLA backend of vLLM 0.19.1 for NVIDIA B200 (detected)"
    )


@pytest.mark.parametrize("backend", ["CUTLASS_MLA", "FLASHMLA", "FLASHINFER_MLA", "FLASHMLA_SPARSE_V2"])
def test_a_dense_or_unknown_backend_fails_naming_the_sparse_ones(backend: str) -> None:
    outcome = forced(backend)
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        f"--attention-backend {backend} is not one of vLLM 0.19.1's sparse-MLA backends "
        "(FLASHINFER_MLA_SPARSE, FLASHMLA_SPARSE): GLM-5's DSA attention cannot run on it"
    )
    assert outcome.evidence["sparse_backends"] == ["FLASHINFER_MLA_SPARSE", "FLASHMLA_SPARSE"]


def test_a_sparse_backend_for_another_gpu_generation_fails() -> None:
    outcome = forced("FLASHINFER_MLA_SPARSE", gpu=("NVIDIA H200", (9, 0)))
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "--attention-backend FLASHINFER_MLA_SPARSE runs on compute capability 10.x; NVIDIA H200 (detected) is 9.0"
    )
    assert forced("FLASHMLA_SPARSE", gpu=("NVIDIA H200", (9, 0))).status is Status.PASS


def test_a_kv_cache_dtype_the_forced_backend_does_not_take_fails() -> None:
    outcome = forced("FLASHMLA_SPARSE", dtype="fp8_e4m3")
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "--attention-backend FLASHMLA_SPARSE takes --kv-cache-dtype auto, bfloat16, fp8_ds_mla, fp8, not fp8_e4m3"
    )
    assert forced("FLASHINFER_MLA_SPARSE", dtype="fp8_e4m3").status is Status.PASS


def test_without_readable_backends_a_dense_name_fails_and_a_sparse_name_is_not_judged() -> None:
    dense = forced("CUTLASS_MLA", release=None)
    assert dense.status is Status.FAIL
    assert dense.message == (
        "--attention-backend CUTLASS_MLA is not a sparse-MLA backend: GLM-5's DSA attention cannot run on it "
        '("sparse not supported")'
    )
    sparse = forced("FLASHMLA_SPARSE", release=None)
    assert sparse.status is Status.SKIP
    assert sparse.message == (
        "--attention-backend FLASHMLA_SPARSE: the installed vLLM states no sparse-MLA backends to confirm it against"
    )
