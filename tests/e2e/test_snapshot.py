"""``glm5-doctor snapshot`` and ``--from-snapshot``: saved facts judged again give the live verdicts,
a snapshot meets its published schema, unreadable ones are usage errors, and no secret gets in."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import (
    FIXTURES,
    REAL_H200,
    REAL_H200X2,
    TargetEnv,
    build_fake_nvml,
    by_id,
    doctor_env,
    make_env,
    nvml_env,
    real_scenario,
    run_doctor,
)

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the fake NVML library")

#: capture -> (the snapshot kept beside it, the scenario's P2P status, deployment flags it was taken with)
REAL = {
    "h200": (REAL_H200, FIXTURES / "real" / "h200-gvisor" / "snapshot.json", None, ()),
    "h200x2": (REAL_H200X2, FIXTURES / "real" / "h200x2-gvisor" / "snapshot-tp2.json", 0, ("--tp", "2")),
}
#: Facts that move between two probe runs on one machine (free host memory, free disk, load).
VOLATILE = {"host.memory", "model.files"}


@pytest.fixture(scope="module")
def fake_nvml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the fake NVML library")
    return build_fake_nvml(tmp_path_factory.mktemp("fake-nvml"))


def snapshot_schema() -> dict[str, Any]:
    completed = run_doctor("schema", "--snapshot")
    assert completed.returncode == 0
    schema: dict[str, Any] = json.loads(completed.stdout)
    return schema


def verdicts(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """What each check said (timings aside); for the volatile ones only the status."""
    said: dict[str, tuple[Any, ...]] = {}
    for r in report["results"]:
        message = re.sub(r"\d+ ms\b", "N ms", r["message"])
        evidence = {key: value for key, value in r["evidence"].items() if not key.endswith("_ms")}
        said[r["id"]] = (r["status"],) if r["id"] in VOLATILE else (r["status"], message, evidence)
    return said


def replay(snapshot: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    completed = run_doctor("run", "--from-snapshot", str(snapshot), "--format", "json", *args, env=env or doctor_env())
    assert completed.stdout, completed.stderr
    return completed.returncode, json.loads(completed.stdout)


@needs_gcc
@pytest.mark.parametrize("name", sorted(REAL))
def test_live_and_replayed_verdicts_are_equal(name: str, fake_nvml: Path, tmp_path: Path) -> None:
    """On one machine (the fake NVML playing a real capture, a target with vLLM and transformers):
    the live run and the judgment of a snapshot taken there agree on every check."""
    capture, _, p2p, flags = REAL[name]
    target = make_env(tmp_path / "venv")
    target.add_vllm_release("0.16.0")
    target.add_transformers_release("5.2.0")
    env = nvml_env(fake_nvml, real_scenario(capture, p2p=p2p), tmp_path / "nvml")
    live = run_doctor("run", "--format", "json", "--python", str(target.python), *flags, env=env)
    taken = run_doctor("snapshot", "-o", str(tmp_path / "s.json"), "--python", str(target.python), *flags, env=env)
    assert taken.returncode == 0, taken.stderr
    code, replayed = replay(tmp_path / "s.json")
    assert code == live.returncode
    assert verdicts(replayed) == verdicts(json.loads(live.stdout))
    assert replayed["profile"] == json.loads(live.stdout)["profile"]
    assert replayed["target"]["snapshot"]["file"] == str(tmp_path / "s.json")


@needs_gcc
@pytest.mark.parametrize("name", sorted(REAL))
def test_the_kept_real_snapshots_judge_as_the_captures_do_live(
    name: str, fake_nvml: Path, tmp_path: Path, target_env: TargetEnv
) -> None:
    """The snapshots kept in tests/fixtures/real/ (scripts/make_real_snapshots.py) give today's GPU verdicts."""
    capture, kept, p2p, flags = REAL[name]
    env = nvml_env(fake_nvml, real_scenario(capture, p2p=p2p), tmp_path / "nvml")
    # the kept snapshots saw no /dev/nvidia-caps (taken off a GPU host): the live run sees none either,
    # whatever this machine's own /dev holds
    (tmp_path / "no-devices").mkdir()
    env["GLM5_DOCTOR_DEVICE_ROOT"] = str(tmp_path / "no-devices")
    live = run_doctor("run", "--format", "json", "--select", "gpu", "--python", str(target_env.python), *flags, env=env)
    _, replayed = replay(kept, "--select", "gpu")
    assert verdicts(replayed) == verdicts(json.loads(live.stdout))


def test_what_the_kept_real_snapshots_say() -> None:
    _, single = replay(REAL["h200"][1], "--select", "gpu")
    results = by_id(single)
    assert results["gpu.driver"]["evidence"]["driver"] == "580.159.04"
    assert results["gpu.count"]["message"] == "1 GPU(s) visible, but TP 8 x PP 1 needs 8"
    assert results["gpu.architecture"]["status"] == "warn"
    assert single["target"]["gpus"] == "1 x NVIDIA H200"
    code, pair = replay(REAL["h200x2"][1], "--select", "gpu")
    results = by_id(pair)
    assert results["gpu.fabric"]["message"] == "fabric COMPLETED on all 2 GPUs"
    assert results["gpu.count"]["message"] == "2 x NVIDIA H200 for TP 2 x PP 1"
    assert "weights 348.5 GiB" in results["gpu.vram"]["message"]
    assert code == 1


def test_deployment_flags_apply_on_top_of_the_snapshots_deployment() -> None:
    _, report = replay(REAL["h200"][1], "--select", "gpu.count", "--tp", "1")
    assert report["profile"]["tensor_parallel_size"] == 1
    assert report["profile"]["gpu"] == "B200", "the rest of the snapshot's deployment stays"
    assert by_id(report)["gpu.count"]["status"] == "pass"
    _, report = replay(REAL["h200"][1], "--select", "gpu.count", "--profile", "glm5-nvfp4-b200-tp4")
    assert by_id(report)["gpu.count"]["message"] == "1 GPU(s) visible, but TP 4 x PP 1 needs 4"


@pytest.mark.parametrize("name", sorted(REAL))
def test_the_kept_snapshots_meet_the_published_schema(name: str) -> None:
    jsonschema.validate(json.loads(REAL[name][1].read_text()), snapshot_schema())


def test_a_fresh_snapshot_meets_the_schema(target_env: TargetEnv, tmp_path: Path) -> None:
    completed = run_doctor("snapshot", "--python", str(target_env.python), "--gpu", "H200", env=doctor_env())
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    jsonschema.validate(document, snapshot_schema())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["taken_at"])
    assert document["profile"]["gpu"] == "H200" and document["profile"]["detect_gpu"] is False
    assert document["target"]["python"] == str(target_env.python)
    # Every fact a built-in check reads was gathered (or its failure recorded), whatever the selection.
    from glm5_doctor.engine.registry import load_registry

    declared = {fact.name for item in load_registry(autoload_plugins=False).checks for fact in item.facts}
    assert declared <= set(document["facts"]) | set(document["errors"])


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(content)
    return path


def kept(**changes: Any) -> str:
    document = json.loads(REAL["h200"][1].read_text())
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None})


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a glm5-doctor snapshot (a JSON list"),
        ('{"schema_version": 1, "results": []}', "not a glm5-doctor snapshot"),
        (kept(facts=[1]), '"facts" must be an object, not an array'),
        (kept(errors={"nvml": 3}), '"errors" must map fact names to messages'),
        (kept(profile={"name": "p"}), '"profile": model is missing'),
        (kept(profile={"name": "p", "model": "m", "tensor_parallel_size": "8"}), "tensor_parallel_size has the wrong"),
        (kept(profile={"name": "p", "model": "m", "tensor_parallel_size": 0}), "must be at least 1"),
        (kept(taken_at=None), '"taken_at" must be a string, not missing or null'),
    ],
)
def test_a_malformed_snapshot_is_a_usage_error(tmp_path: Path, content: str, said: str) -> None:
    path = write(tmp_path, content)
    completed = run_doctor("run", "--from-snapshot", str(path))
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert said in completed.stderr and str(path) in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr


def test_a_missing_or_binary_file_is_a_usage_error(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.json", write(tmp_path, "")):
        completed = run_doctor("run", "--from-snapshot", str(path))
        assert completed.returncode == 2
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00junk")
    completed = run_doctor("fit", "--from-snapshot", str(tmp_path / "binary"))
    assert completed.returncode == 2 and "not UTF-8" in completed.stderr


def test_a_snapshot_of_an_unknown_version_is_refused_clearly(tmp_path: Path) -> None:
    completed = run_doctor("run", "--from-snapshot", str(write(tmp_path, kept(snapshot_version=2))))
    assert completed.returncode == 2
    assert "snapshot_version 2 cannot be read by this glm5-doctor (it reads version 1)" in completed.stderr


def test_an_older_tools_snapshot_of_a_known_version_is_read(tmp_path: Path) -> None:
    """Written by an older glm5-doctor: its profile lacks fields added since and has one since removed."""
    document = json.loads(REAL["h200"][1].read_text())
    document["tool"]["version"] = "0.0.9"
    for field in ("gpus", "serve", "max_model_len_auto"):
        del document["profile"][field]
    document["profile"]["retired_field"] = True
    code, report = replay(write(tmp_path, json.dumps(document)), "--select", "gpu")
    assert code == 1
    assert report["target"]["snapshot"]["tool_version"] == "0.0.9"
    assert by_id(report)["gpu.count"]["message"] == "1 GPU(s) visible, but TP 8 x PP 1 needs 8"


def test_from_snapshot_refuses_options_that_probe_this_machine(target_env: TargetEnv) -> None:
    for option in (["--python", str(target_env.python)], ["--deep"]):
        completed = run_doctor("run", "--from-snapshot", str(REAL["h200"][1]), *option)
        assert completed.returncode == 2
        assert "--from-snapshot judges saved facts" in completed.stderr


def test_fit_and_fix_read_a_snapshot() -> None:
    completed = run_doctor("fit", "--from-snapshot", str(REAL["h200x2"][1]), "--format", "json")
    assert completed.returncode == 1
    fit = json.loads(completed.stdout)
    assert fit["gpus"] == 2 and fit["weights_gib_per_gpu"] == pytest.approx(348.5, abs=0.1)
    shown = run_doctor("fix", "vllm.installed", "--from-snapshot", str(REAL["h200x2"][1]))
    assert shown.returncode == 1
    assert "fix: install-vllm.sh" in shown.stdout
    refused = run_doctor("fix", "vllm.installed", "--run", "--yes", "--from-snapshot", str(REAL["h200x2"][1]))
    assert refused.returncode == 2
    assert "shows fixes only" in refused.stderr


# --- the canary audit -----------------------------------------------------------------------------

CANARY_TOKEN = "hf_CanarySnapshotToken0123456789"
CANARY_KEY = "canary-plain-key-4711"
CANARY_PASSWORD = "canary-url-password-99"
CANARY_USER = "canaryuserx"
CANARIES = (CANARY_TOKEN, CANARY_KEY, CANARY_PASSWORD, CANARY_USER)


def test_no_planted_secret_reaches_a_snapshot(tmp_path: Path) -> None:
    """Secrets planted everywhere the probes read: variables, URLs with credentials (direct_url.json,
    METADATA, index URLs), paths (the target environment, the caches) and the Hugging Face token."""
    url = f"https://{CANARY_USER}:{CANARY_PASSWORD}@git.example.com/org/repo.git"
    target = make_env(tmp_path / f"envs-{CANARY_KEY}" / "venv")
    target.add_vllm_release("0.16.0")
    target.add_transformers_release(
        "5.2.0", version="5.3.0.dev0", direct_url={"url": url, "vcs_info": {"vcs": "git", "commit_id": "abc"}}
    )
    target.add_dist(
        "leaky-metadata",
        "1.0",
        metadata=(
            "Metadata-Version: 2.1\nName: leaky-metadata\nVersion: 1.0\n"
            f"Home-page: {url}\nDownload-URL: https://x.example.com/?token={CANARY_TOKEN}\n"
            f"Requires-Dist: private-package @ {url}\n\nKey {CANARY_KEY} in the description.\n"
        ),
    )
    hf_home = tmp_path / f"hf-{CANARY_TOKEN}"
    (hf_home / "token").parent.mkdir()
    (hf_home / "token").write_text(CANARY_TOKEN)
    env = doctor_env(
        HF_TOKEN=CANARY_TOKEN,
        HF_HOME=str(hf_home),
        MY_SERVICE_API_KEY=CANARY_KEY,
        PIP_EXTRA_INDEX_URL=url,
        VLLM_ATTENTION_BACKEND=f"FLASHMLA {CANARY_TOKEN}",
        DG_JIT_CACHE_DIR=str(tmp_path / CANARY_PASSWORD / "jit"),
        XDG_CACHE_HOME=str(tmp_path / f"cache-{CANARY_KEY}"),
        CUDA_HOME=f"/opt/{CANARY_PASSWORD}/cuda",
    )
    completed = run_doctor(
        "snapshot", "--python", str(target.python), "--model", f"/models/{CANARY_KEY}/GLM-5-FP8", env=env
    )
    assert completed.returncode == 0, completed.stderr
    text = completed.stdout + completed.stderr
    for canary in CANARIES:
        assert canary not in text, canary
    document = json.loads(completed.stdout)
    # The probes did read the planted places (else this test would prove nothing): masks stand where they were.
    facts = json.dumps(document["facts"])
    assert document["target"]["python"] == str(target.python).replace(CANARY_KEY, "***")
    assert '"url": "https://***@git.example.com/org/repo.git"' in facts  # direct_url.json
    assert '"private-package @ https://***@git.example.com/org/repo.git"' in facts  # METADATA
    assert "/opt/***/cuda" in facts
    assert f"{tmp_path}/***/jit" in facts
    assert document["facts"]["host"]["hf_token_set"] is True
    assert document["profile"]["model"] == "/models/***/GLM-5-FP8"
    # ... and the redacted snapshot is still judged, with no secret in the verdicts either.
    saved = write(tmp_path, completed.stdout)
    for fmt in ("json", "junit", "markdown", "github", "table"):
        replayed = run_doctor("run", "--from-snapshot", str(saved), "--format", fmt, "-v", env=doctor_env())
        assert replayed.returncode == 1, replayed.stderr
        for canary in CANARIES:
            assert canary not in replayed.stdout + replayed.stderr, (fmt, canary)


def test_a_snapshot_from_before_a_fact_field_existed_is_judged_as_unknown_not_crashed() -> None:
    """The kept snapshots predate vllm_files' sparse_mla_backends: the field reads as unknown (None)."""
    from glm5_doctor.engine.snapshot import parse_snapshot, upgraded

    document = json.loads(REAL["h200"][1].read_text())
    document["facts"]["vllm_files"] = {"package_dir": None}  # an older doctor's shape: one field only
    facts = parse_snapshot(document).facts.data
    assert facts["vllm_files"]["package_dir"] is None
    assert "sparse_mla_backends" in facts["vllm_files"] and facts["vllm_files"]["sparse_mla_backends"] is None
    assert upgraded({"not_a_fact": {"x": 1}}) == {"not_a_fact": {"x": 1}}


def test_a_fact_the_snapshot_predates_is_an_error_that_says_so(tmp_path: Path) -> None:
    document = json.loads(REAL["h200"][1].read_text())
    del document["facts"]["nvml"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(document))
    completed = run_doctor("run", "--from-snapshot", str(older), "--select", "gpu.driver", "--format", "json")
    row = by_id(json.loads(completed.stdout))["gpu.driver"]
    assert row["status"] == "error"
    assert "the snapshot (glm5-doctor" in row["message"] and "predates this fact: take it again" in row["message"]
