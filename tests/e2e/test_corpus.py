"""A generated hostile corpus: argument vectors and environments no person would write, judged for the
doctor's own promises. Every example must end with no traceback, an exit code in {0, 1, 2}, within
its deadline, with no canary secret in any output, no process left behind, and nothing changed on
disk outside ``--output``.

Examples are derandomized (the same corpus every CI run) and their number is fixed, so the run fits
a time budget: ``IN_PROCESS_EXAMPLES`` argument vectors through ``main()`` in this process, and
``SUBPROCESS_EXAMPLES`` generated target environments plus argument vectors through the real CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from helpers import TargetEnv, doctor_env, make_env
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

IN_PROCESS_EXAMPLES = 400
SUBPROCESS_EXAMPLES = 120
RUN_DEADLINE_S = 60
CANARY = "corpus5ecretCANARY"

#: Values that broke something once, or look like they might: numbers past every limit, vLLM's
#: grammar at its edges, unicode digits, control codes, credentials, paths that are not files.
HOSTILE_TEXT = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "-2",
        "auto",
        "AUTO",
        "32k",
        "32K",
        "12.5k",
        "12.5K",
        "1e9",
        "9" * 400,
        "9" * 40 + "k",
        "²",
        "٣",
        "nan",
        "inf",
        "\x1b]0;pwned\x07",
        "\x00",
        "x" * 5000,
        f"https://u:{CANARY}@h.example/m",
        f"hf_{CANARY}abcdefgh",
        "/dev/zero",
        "/nonexistent/path",
        "..",
        "-",
        "--",
        "[[[[[[[[[[",
        '{"method": "mtp"}',
        "[" * 3000 + "]" * 3000,
    ]
)
TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=30))


def plausible(*values: str) -> st.SearchStrategy[str]:
    """Mostly values a user would give (so most runs get to judge something), sometimes hostile ones."""
    usual = st.sampled_from(values)
    return st.integers(0, 5).flatmap(lambda roll: TEXT if roll == 0 else usual)


SELECTORS = ("gpu", "vllm", "python.version", "host", "serve", "model", "cuda", "deepgemm", "transformers")
DEPLOYMENT = {
    "--max-model-len": plausible("32768", "32k", "32K", "auto", "-1", "65536", "300000", "202752"),
    "--tp": plausible("1", "2", "4", "8", "16", "3"),
    "--pp": plausible("1", "2"),
    "--gpu-memory-utilization": plausible("0.9", "0.95", "0.5", "1"),
    "--kv-cache-dtype": plausible("auto", "fp8", "fp8_e4m3", "bfloat16"),
    "--gpu": plausible("B200", "H200", "H100", "B300", "GB200"),
    "--model": plausible(
        "zai-org/GLM-5-FP8",
        "lukealonso/GLM-5-NVFP4",
        "zai-org/GLM-5",
        f"https://u:{CANARY}@h.example/zai-org/GLM-5-FP8",
    ),
    "--profile": plausible("glm5-fp8-b200-tp8", "glm5-fp8-h200-tp8", "glm5-nvfp4-b200-tp4"),
}
SELECTION = {"--select": plausible(*SELECTORS), "--ignore": plausible(*SELECTORS)}
OUTPUT = {"--format": plausible("json", "table")}
COMMAND_OPTIONS: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "run": {**DEPLOYMENT, **SELECTION, **OUTPUT},
    "fit": {**DEPLOYMENT, "--gpus": plausible("8", "4", "16", "1"), **OUTPUT},
    "fix": DEPLOYMENT,
    "preflight": {**SELECTION, **OUTPUT},
    "list": {},
    "explain": {},
    "schema": {},
}
COMMAND_FLAGS = {
    "run": ["--strict", "-v", "--no-plugins"],
    "fit": ["--no-plugins"],
    "fix": ["--all-failing", "--dry-run", "--no-plugins"],
    "preflight": ["--strict", "-v", "--warn-only"],
    "list": ["--no-plugins"],
    "explain": ["--no-plugins"],
    "schema": [],
}
SERVE_OPTIONS = {
    "--max-model-len": plausible("32768", "32k", "32K", "auto", "-1", "300000"),
    "-tp": plausible("8", "4", "3", "1"),
    "--port": plausible("8000", "9000", "65535", "70000"),
    "--gpu-memory-utilization": plausible("0.9", "0.95"),
    "--kv-cache-dtype": plausible("auto", "fp8", "fp8_e4m3"),
    "--speculative-config": plausible('{"method": "mtp", "num_speculative_tokens": 1}', "{}", "[]"),
    "--speculative-config.method": plausible("mtp"),
    "--api-key": plausible(CANARY, f"-{CANARY}"),
    "--tool-call-parser": plausible("glm47", "glm45"),
    "--reasoning-parser": plausible("glm45"),
    "--download-dir": plausible("/nonexistent", "/tmp"),
}


@st.composite
def option_pairs(draw: st.DrawFn, options: dict[str, st.SearchStrategy[str]]) -> list[str]:
    argv: list[str] = []
    if not options:
        return argv
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(sorted(options)))
        value = draw(options[name])
        argv += [name, value] if draw(st.booleans()) else [f"{name}={value}"]
    return argv


@st.composite
def doctor_argv(draw: st.DrawFn, with_preflight: bool) -> list[str]:
    commands = ["run", "run", "run", "fit", "fix", "list", "explain", "schema"] + (
        ["preflight", "preflight", "preflight"] if with_preflight else []
    )
    command = draw(st.sampled_from(commands))
    argv = [command]
    if command in ("fix", "explain"):
        argv.append(draw(plausible("gpu.vram", "vllm", "serve.parsers", "host", "model.files", "python.version")))
    argv += draw(option_pairs(COMMAND_OPTIONS[command]))
    if draw(st.integers(0, 9)) == 0:  # now and then an option this command does not take
        argv += draw(option_pairs(DEPLOYMENT))
    argv += draw(st.lists(st.sampled_from(COMMAND_FLAGS[command]), max_size=2)) if COMMAND_FLAGS[command] else []
    if command == "preflight" or (command == "fix" and draw(st.booleans())):
        argv += ["--", "vllm", "serve", draw(plausible("zai-org/GLM-5-FP8", "lukealonso/GLM-5-NVFP4"))]
        argv += draw(option_pairs(SERVE_OPTIONS))
    return [arg.replace("\x00", "") for arg in argv]  # argv cannot carry NUL; everything else goes


ENVIRONMENT = st.fixed_dictionaries(
    {},
    optional={
        "CUDA_VISIBLE_DEVICES": TEXT,
        "GLM5_DOCTOR_NVML_TIMEOUT_S": TEXT,
        "VLLM_ATTENTION_BACKEND": TEXT,
        "CUDA_HOME": TEXT,
        "HF_HOME": TEXT,
        "DG_JIT_CACHE_DIR": TEXT,
        "VLLM_SPEC": st.just(f"vllm @ https://deploy:{CANARY}@pypi.internal/v.whl"),
    },
).map(lambda env: {key: value.replace("\x00", "") for key, value in env.items()})


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and modification time: what 'changed on disk' compares."""
    listing = {}
    for path in sorted(root.rglob("*")):
        with contextlib.suppress(OSError):
            stat = path.lstat()
            listing[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return listing


def tagged_processes(tag: str) -> list[psutil.Process]:
    """Live processes that carry ``tag`` in their environment: the doctor's children, wherever they went."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.environ().get("GLM5_CORPUS_TAG") == tag and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


# --- through main(), in this process ---------------------------------------------------------------


@contextlib.contextmanager
def environment(overrides: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(overrides)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@given(argv=doctor_argv(with_preflight=False), env=ENVIRONMENT)
@_settings(IN_PROCESS_EXAMPLES)
def test_generated_argument_vectors_keep_every_promise(argv: list[str], env: dict[str, str]) -> None:
    from glm5_doctor.cli import main

    if "--run" in argv:  # the corpus never changes the machine
        return
    stdout, stderr = io.StringIO(), io.StringIO()
    overrides = {**env, "HF_TOKEN": f"hf_{CANARY}xyz", "GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1"}
    with environment(overrides), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    said = stdout.getvalue() + stderr.getvalue()
    event(f"{argv[0]} exit {code}")
    assert code in (0, 1, 2), (argv, env, code, said[-2000:])
    assert "Traceback" not in said and "internal error" not in said, (argv, said[-2000:])
    assert CANARY not in said, (argv, env)
    assert "\x1b]0;" not in said and "\x07" not in said, (argv, "a control sequence reached the output")


# --- through the real CLI, against generated environments -------------------------------------------


@pytest.fixture(scope="module")
def corpus_env(tmp_path_factory: pytest.TempPathFactory) -> TargetEnv:
    return make_env(tmp_path_factory.mktemp("corpus") / "venv")


DIST_NAMES = st.sampled_from(["vllm", "transformers", "torch", "deep-gemm", "flashinfer-python", "kernels"])
METADATA_LINES = st.lists(
    st.one_of(
        st.builds(lambda v: f"Version: {v}", TEXT),
        st.builds(lambda v: f"Requires-Dist: {v}", TEXT),
        st.builds(lambda v: f"Requires-Python: {v}", TEXT),
        st.just("Requires-Dist: transformers<5,>=4.56.0"),
        st.just("Requires-Dist: torch==2.9.1"),
        TEXT,
    ),
    max_size=6,
)


@st.composite
def generated_environment(draw: st.DrawFn) -> dict[str, object]:
    dists = draw(st.dictionaries(DIST_NAMES, METADATA_LINES, max_size=3))
    direct_url = draw(
        st.one_of(
            st.none(),
            st.just({"url": f"https://u:{CANARY}/with/slash@h.example/x.whl", "archive_info": {}}),
            st.just([1, 2, 3]),
            TEXT,
        )
    )
    files = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "vllm/__init__.py",
                    "vllm/model_executor/models/registry.py",
                    "vllm/_C.abi3.so",
                    "torch/version.py",
                    "transformers/__init__.py",
                ]
            ),
            TEXT,
            max_size=3,
        )
    )
    return {"dists": dists, "direct_url": direct_url, "files": files}


def write_environment(target: TargetEnv, spec: dict[str, object]) -> None:
    for entry in target.site.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    dists: dict[str, list[str]] = spec["dists"]  # type: ignore[assignment]
    for name, lines in dists.items():
        folder = target.site / f"{name.replace('-', '_')}-1.0.dist-info"
        folder.mkdir()
        (folder / "METADATA").write_text("Metadata-Version: 2.1\nName: " + name + "\n" + "\n".join(lines) + "\n")
        if spec["direct_url"] is not None:
            (folder / "direct_url.json").write_text(json.dumps(spec["direct_url"]))
    files: dict[str, str] = spec["files"]  # type: ignore[assignment]
    for relative, content in files.items():
        path = target.site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@given(spec=generated_environment(), argv=doctor_argv(with_preflight=True), env=ENVIRONMENT)
@_settings(SUBPROCESS_EXAMPLES)
def test_generated_environments_keep_every_promise(
    corpus_env: TargetEnv,
    tmp_path_factory: pytest.TempPathFactory,
    spec: dict[str, object],
    argv: list[str],
    env: dict[str, str],
) -> None:
    write_environment(corpus_env, spec)
    work = tmp_path_factory.mktemp("run")
    home = work / "home"
    home.mkdir()
    server = work / "vllm"  # preflight's server: exits at once, so an exec ends the run too
    server.write_text("#!/bin/sh\nexit 0\n")
    server.chmod(0o755)
    argv = [str(server) if arg == "vllm" else arg for arg in argv]
    if "--python" not in argv and argv[0] not in ("list", "explain", "schema"):
        argv[1:1] = ["--python", str(corpus_env.python)]
    output = work / "report.out"
    if argv[0] in ("run", "preflight") and "--" not in argv[:2]:
        argv[1:1] = ["--output", str(output)]
    tag = uuid.uuid4().hex
    full_env = {
        **doctor_env(),
        **env,
        "HOME": str(home),
        "HF_TOKEN": f"hf_{CANARY}xyz",
        "GLM5_CORPUS_TAG": tag,
    }
    before = (tree(home), tree(corpus_env.root))
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "glm5_doctor", *argv],
            capture_output=True,
            env=full_env,
            cwd=work,
            timeout=RUN_DEADLINE_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {RUN_DEADLINE_S} s: {argv} {env}")
    said = (completed.stdout + completed.stderr).decode("utf-8", errors="replace")
    event(f"{argv[0]} exit {completed.returncode}")
    if output.exists():
        said += output.read_text(errors="replace")
    assert completed.returncode in (0, 1, 2), (argv, env, spec, completed.returncode, said[-2000:])
    assert "Traceback" not in said and "internal error" not in said, (argv, spec, said[-2000:])
    assert CANARY not in said, (argv, env, spec)
    leftovers = tagged_processes(tag)
    for process in leftovers:
        with contextlib.suppress(psutil.Error):
            process.kill()
    assert leftovers == [], (argv, "processes left behind")
    assert (tree(home), tree(corpus_env.root)) == before, (argv, "the run changed files")
