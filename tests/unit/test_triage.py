"""The triage matcher: each real log excerpt -> its signature, and the rules for logs as they really are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from glm5_doctor.engine.registry import load_registry
from glm5_doctor.engine.triage import BLOCK, MESSAGE_LINES, Matcher, Verdict, clean, serve_argv
from glm5_doctor.knowledge.advisories import load_builtin
from glm5_doctor.knowledge.signatures import SIGNATURES, by_id
from hypothesis import given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).parent.parent / "fixtures" / "triage"
#: log text as a program really printed it: runs made by this project (real/) and excerpts of public
#: threads (public/), each named ``<signature id>.<n>.log`` and headed by where it comes from
REAL_RUNS = sorted((FIXTURES / "real").glob("*.log"))
PUBLIC_THREADS = sorted((FIXTURES / "public").glob("*.log"))
REAL_EXCERPTS = REAL_RUNS + PUBLIC_THREADS
#: the signatures' error lines in constructed framings (worker prefixes, vLLM headers, tracebacks)
CONSTRUCTED = FIXTURES / "constructed"
FRAMINGS = sorted(CONSTRUCTED.glob("*.log"))


def signature_of(path: Path) -> str:
    stem = path.name.removesuffix(".log")
    head, _, tail = stem.rpartition(".")
    return head if tail.isdigit() else stem


def triage(lines: list[str]) -> Verdict:
    matcher = Matcher()
    for line in lines:
        matcher.feed(line)
    return matcher.finish()


def excerpt(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def header(path: Path, key: str) -> str | None:
    for line in excerpt(path):
        if line.startswith(f"# {key}: "):
            return line.split(": ", 1)[1].strip()
    return None


def test_every_signature_has_a_real_excerpt_and_every_excerpt_a_signature() -> None:
    ids = [signature.id for signature in SIGNATURES]
    assert len(ids) == len(set(ids))
    assert set(ids) == {signature_of(path) for path in REAL_EXCERPTS}
    assert {signature_of(path) for path in FRAMINGS} <= set(ids)


@pytest.mark.parametrize("path", REAL_RUNS, ids=[p.name for p in REAL_RUNS])
def test_a_real_run_says_what_ran_where_and_when(path: Path) -> None:
    what = header(path, "real run")
    assert what and "2026-" in what and "machine" in what, f"{path.name}: no '# real run:' header"


@pytest.mark.parametrize("path", PUBLIC_THREADS, ids=[p.name for p in PUBLIC_THREADS])
def test_a_public_excerpt_names_its_thread(path: Path) -> None:
    thread = header(path, "public thread")
    assert thread and thread.startswith("https://github.com/"), f"{path.name}: no '# public thread:' URL"


@pytest.mark.parametrize("path", REAL_EXCERPTS, ids=[f"{p.parent.name}/{p.name}" for p in REAL_EXCERPTS])
def test_each_real_excerpt_maps_to_its_signature(path: Path) -> None:
    verdict = triage(excerpt(path))
    assert verdict.match is not None, f"{path.name}: no signature matched"
    assert verdict.match.signature.id == signature_of(path)
    assert not verdict.match.line.startswith("#"), "matched the excerpt's header, not the log"


@pytest.mark.parametrize("path", FRAMINGS, ids=[p.stem for p in FRAMINGS])
def test_each_constructed_framing_maps_to_its_signature(path: Path) -> None:
    verdict = triage(excerpt(path))
    assert verdict.match is not None and verdict.match.signature.id == path.stem
    assert not verdict.match.line.startswith("#")
    advisory = header(path, "advisory")
    if advisory:
        assert advisory in verdict.match.signature.advisories


def test_share_of_real_excerpts_mapped_to_the_right_check_or_advisory() -> None:
    right = 0
    for path in REAL_EXCERPTS:
        match = triage(excerpt(path)).match
        expected = by_id(signature_of(path))
        assert expected is not None
        if match is None:
            continue
        same_checks = set(match.signature.checks) & set(expected.checks)
        same_advisories = set(match.signature.advisories) & set(expected.advisories)
        right += bool(same_checks or same_advisories)
    assert (right, len(REAL_EXCERPTS)) == (len(REAL_EXCERPTS), len(REAL_EXCERPTS))


def test_signatures_name_real_checks_and_advisories_and_cite_sources() -> None:
    registry = load_registry(autoload_plugins=False)
    advisories = {item.id for item in load_builtin().advisories}
    for signature in SIGNATURES:
        assert signature.checks or signature.advisories, signature.id
        assert all(registry.get(check) is not None for check in signature.checks), signature.id
        assert set(signature.advisories) <= advisories, signature.id
        assert signature.raised_at and all(
            ("http" in s or "wheel" in s or "DeepGEMM" in s or "CPython" in s or "NCCL" in s)
            for s in signature.raised_at
        ), signature.id
    covered = {aid for s in SIGNATURES for aid in s.advisories}
    assert len(covered) >= 12


@pytest.mark.parametrize(
    ("raw", "message", "level"),
    [
        ("(VllmWorker rank=3 pid=123) ERROR 02-25 10:05:00 [x.py:6] boom\n", "boom", "ERROR"),
        ("(EngineCore_DP0 pid=3907) INFO 02-25 10:05:00 [core.py:1] hi\n", "hi", "INFO"),
        ("(RayWorkerWrapper pid=5, ip=10.0.0.2) ValueError: x\n", "ValueError: x", None),
        ("\x1b[1;36m(Worker_TP1 pid=4)\x1b[0;0m WARNING 01-02 03:04:05.123 [a.py:9] w\n", "w", "WARNING"),
        ("[2026-02-24T20:21:58Z] (EngineCore_DP0 pid=6940) ValueError: y\n", "ValueError: y", None),
        ("plain line\n", "plain line", None),
    ],
)
def test_clean_strips_colours_worker_prefixes_and_vllm_headers(raw: str, message: str, level: str | None) -> None:
    assert clean(raw) == (message, level)


def test_the_first_fatal_cause_wins_over_later_re_raises() -> None:
    lines = excerpt(CONSTRUCTED / "torch.no-kernel-image.log") + excerpt(CONSTRUCTED / "deepgemm.unavailable.log")
    verdict = triage(lines)
    assert verdict.match is not None and verdict.match.signature.id == "torch.no-kernel-image"


def test_interleaved_workers_keep_the_fatal_line_and_its_own_traceback() -> None:
    lines = [
        "(VllmWorker rank=0 pid=10) INFO 02-25 10:00:00 [gpu_worker.py:1] Loading weights took 300 s\n",
        "(VllmWorker rank=3 pid=13) ERROR 02-25 10:00:01 [mp.py:6] Traceback (most recent call last):\n",
        "(VllmWorker rank=1 pid=11) INFO 02-25 10:00:01 [gpu_worker.py:1] Loading weights took 301 s\n",
        '(VllmWorker rank=3 pid=13) ERROR 02-25 10:00:01 [multiproc_executor.py:6]   File "x.py", line 1, in f\n',
        "(VllmWorker rank=3 pid=13) ERROR 02-25 10:00:01 [multiproc_executor.py:6] RuntimeError: DeepGEMM backend "
        "is unavailable in the current vLLM environment, or the available DeepGEMM package does not provide it\n",
    ]
    verdict = triage(lines)
    assert verdict.match is not None and verdict.match.signature.id == "deepgemm.unavailable"
    assert verdict.match.line_number == 5
    assert verdict.match.line.startswith("RuntimeError: DeepGEMM backend is unavailable")


def test_an_unknown_failure_keeps_the_last_error_block() -> None:
    lines = [
        "INFO 02-25 10:00:00 [api_server.py:1] vLLM API server version 0.19.1\n",
        "ERROR 02-25 10:00:01 [core.py:866] EngineCore failed to start.\n",
        "ERROR 02-25 10:00:01 [core.py:866] Traceback (most recent call last):\n",
        "ERROR 02-25 10:00:01 [core.py:866] KeyError: 'model.layers.78.mlp.gate.weight'\n",
    ]
    verdict = triage(lines)
    assert verdict.match is None and verdict.failure_seen
    assert verdict.last_exception == "KeyError: 'model.layers.78.mlp.gate.weight'"
    assert verdict.last_block[-1] == "KeyError: 'model.layers.78.mlp.gate.weight'"
    assert verdict.deployment.vllm_version == "0.19.1"


def test_a_healthy_log_shows_no_failure() -> None:
    verdict = triage(["INFO 02-25 10:00:00 [api_server.py:1] Starting vLLM API server on http://0.0.0.0:8000\n"])
    assert verdict.match is None and not verdict.failure_seen and not verdict.truncated


def test_a_truncated_last_line_still_matches_and_is_reported() -> None:
    text = "".join(excerpt(CONSTRUCTED / "flashinfer.version-mismatch.log"))
    verdict = triage(text[: text.index("Please install")].splitlines(keepends=True))
    assert verdict.truncated
    assert verdict.match is not None and verdict.match.signature.id == "flashinfer.version-mismatch"


def test_the_deployment_is_read_from_the_non_default_args_line() -> None:
    verdict = triage(excerpt(CONSTRUCTED / "deepgemm.unavailable.log"))
    assert verdict.deployment.vllm_version == "0.16.0"
    assert verdict.deployment.args["tensor_parallel_size"] == 8
    argv = serve_argv(verdict.deployment)
    assert argv[:3] == ["vllm", "serve", "zai-org/GLM-5-FP8"]
    assert "--enable-auto-tool-choice" in argv and "--tool-call-parser" in argv
    json.dumps(verdict.deployment.to_dict())


def test_the_v1_engine_config_line_is_a_fallback_for_the_deployment() -> None:
    verdict = triage(
        [
            "INFO 07-10 20:58:45 [core.py:61] Initializing a V1 LLM engine (v0.8.3) with config: model='./m', "
            "speculative_config=None, max_seq_len=8196, tensor_parallel_size=2, pipeline_parallel_size=1, "
            "kv_cache_dtype=auto,\n"
        ]
    )
    assert verdict.deployment.vllm_version == "0.8.3"
    assert verdict.deployment.args == {
        "model": "./m",
        "max_model_len": "8196",
        "tensor_parallel_size": "2",
        "pipeline_parallel_size": "1",
        "kv_cache_dtype": "auto",
    }


CORE = "(EngineCore_DP0 pid=7) ERROR 06-18 10:00:00 [core.py:866] "
WRAPPED_SELECTOR = [
    f"{CORE}ValueError: No valid attention backend found for cuda with\n",
    f"{CORE}AttentionSelectorConfig(head_size=576, dtype=torch.bfloat16,\n",
    f"{CORE}kv_cache_dtype=fp8_e4m3, use_mla=True, use_sparse=True).\n",
    f"{CORE}Reasons: {{\n",
    f"{CORE}  FLASHMLA_SPARSE: [kv_cache_dtype not supported],\n",
    f"{CORE}  FLASHMLA: [FlashMLA Sparse is only supported on Hopper and Blackwell devices.]\n",
    f"{CORE}}}\n",
]


def test_an_exception_message_wrapped_over_lines_is_matched_whole() -> None:
    """The dtype reason on line 5 decides, not the generic backend reason on line 6 seen alone."""
    lines = [*WRAPPED_SELECTOR, "(APIServer pid=1) INFO 06-18 10:00:01 [api_server.py:1] shutting down\n"]
    matcher = Matcher()
    spoken = [found for line in lines if (found := matcher.feed(line)) is not None]
    assert [found.signature.id for found in spoken] == ["attention.kv-cache-dtype-rejected"]
    assert spoken[0].line_number == 1
    assert spoken[0].line.startswith("ValueError: No valid attention backend found for cuda with AttentionSelector")


def test_a_log_that_ends_inside_a_message_is_matched_when_it_ends() -> None:
    matcher = Matcher()
    assert all(matcher.feed(line) is None for line in WRAPPED_SELECTOR)
    verdict = matcher.finish()
    assert verdict.match is not None and verdict.match.signature.id == "attention.kv-cache-dtype-rejected"


def test_a_new_record_ends_a_message_and_is_matched_on_its_own() -> None:
    lines = [
        "ValueError: unexpected layout (\n",
        "  rank 3\n",
        "Traceback (most recent call last):\n",
        '  File "vllm/utils/deep_gemm.py", line 124, in _missing\n',
        "RuntimeError: DeepGEMM backend is not available or outdated. Please install or update the `deep_gemm`\n",
    ]
    verdict = triage(lines)
    assert verdict.match is not None and verdict.match.signature.id == "deepgemm.unavailable"
    assert verdict.match.line_number == 5


def test_a_message_is_joined_over_a_bounded_number_of_lines() -> None:
    endless = ["RuntimeError: a message that never ends (\n"] + [f"  part {n}\n" for n in range(MESSAGE_LINES + 10)]
    lines = [*endless[: MESSAGE_LINES + 5], "  Error while creating shared memory segment /dev/shm/nccl-x\n"]
    verdict = triage(lines)
    assert verdict.match is not None and verdict.match.signature.id == "nccl.shm-too-small"
    assert verdict.match.line_number == MESSAGE_LINES + 6


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            '  File "/opt/venv/lib/python3.12/site-packages/vllm/utils/network_utils.py", line 90, in get_open_port\n',
            "host.internal-port-in-use",
        ),
        (
            '  File "/opt/venv/lib/python3.12/site-packages/vllm/entrypoints/openai/api_server.py", line 498, in '
            "create_server_socket\n",
            "host.port-in-use",
        ),
    ],
)
def test_the_same_errno_98_is_told_apart_by_the_frame_that_raised_it(frame: str, expected: str) -> None:
    verdict = triage(["Traceback (most recent call last):\n", frame, "OSError: [Errno 98] Address already in use\n"])
    assert verdict.match is not None and verdict.match.signature.id == expected


PIECES = [
    "(VllmWorker rank=3 pid=12) ERROR 02-25 10:00:01 [multiproc_executor.py:6] ",
    "(EngineCore_DP0 pid=9) INFO 02-25 10:00:00 [core.py:1] ",
    "\x1b[1;36m",
    "Traceback (most recent call last):",
    '  File "x.py", line 1, in get_open_port',
    "ValueError: No valid attention backend found for cuda with AttentionSelectorConfig(",
    "use_sparse=True, kv_cache_dtype=fp8).",
    "Reasons: {FLASHMLA_SPARSE: [kv_cache_dtype not supported]}",
    "OSError: [Errno 98] Address already in use",
    "pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig",
    "  Value error, User-specified max_model_len (300000) is greater than the derived max_model_len (202752)",
    "RuntimeError: DeepGEMM backend is not available or outdated.",
    "non-default args: {'tensor_parallel_size': 8, ",
    "vLLM API server version 0.19.1",
    "KeyError: 'glm_moe_dsa'",
    "",
]


@given(
    lines=st.lists(
        st.lists(st.sampled_from(PIECES) | st.text(max_size=40), max_size=4).map(lambda parts: "".join(parts) + "\n"),
        max_size=MESSAGE_LINES * 2,
    ),
    truncate=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_any_sequence_of_log_pieces_gives_one_consistent_verdict(lines: list[str], truncate: bool) -> None:
    if truncate and lines:
        lines[-1] = lines[-1].rstrip("\n")
    matcher = Matcher()
    spoken = [found for line in lines if (found := matcher.feed(line)) is not None]
    verdict = matcher.finish()
    assert len(spoken) <= 1
    if spoken:
        assert verdict.match is spoken[0]
    if verdict.match is not None:
        assert 1 <= verdict.match.line_number <= len(lines) == verdict.lines
        assert verdict.failure_seen
        assert len(verdict.match.line) <= 1000
    assert len(verdict.last_block) <= BLOCK
    assert triage(lines).match == verdict.match


def test_what_vllm_reports_at_info_level_is_not_a_cause() -> None:
    lines = [
        "(APIServer pid=1) INFO 12-04 18:22:00 [network_utils.py:205] bind: [Errno 98] Address already in use, "
        "trying port 8001\n",
        "(EngineCore_DP0 pid=9) ERROR 12-04 18:23:00 [core.py:866] RuntimeError: DeepGEMM backend is not available "
        "or outdated. Please install or update the `deep_gemm` to a newer version to enable FP8 kernels.\n",
    ]
    verdict = triage(lines)
    assert verdict.match is not None and verdict.match.signature.id == "deepgemm.unavailable"
    assert verdict.match.line_number == 2


def test_a_message_a_terminal_wrapped_mid_word_is_read_without_the_breaks() -> None:
    """https://github.com/odysseus-dev/odysseus/issues/207 shows the line cut at 80 columns."""
    lines = [
        "(EngineCore pid=42103) ValueError: Free memory on device cuda:0 (13.33/15.47 GiB\n",
        ") on startup is less than desired GPU memory utilization (0.9, 13.92 GiB). Decre\n",
        "ase GPU memory utilization or reduce GPU memory used by other processes.\n",
    ]
    verdict = triage(lines)
    assert verdict.match is not None and verdict.match.signature.id == "memory.free-below-utilization"
    assert verdict.match.line_number == 1
