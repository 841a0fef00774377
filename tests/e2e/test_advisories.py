"""advisories.known-bugs through the real CLI: real target environments (dist-info versions), real serve
commands through preflight, the fake NVML for drivers, ``--advisories FILE`` and ``glm5-doctor advisories``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from glm5_doctor.deployment.serve_args import parse_serve_command
from glm5_doctor.report.schema import REPORT_SCHEMA
from helpers import TargetEnv, build_fake_nvml, by_id, doctor_env, nvml_env, run_doctor, run_json, scenario_lines

CHECK = "advisories.known-bugs"
PREFLIGHT = (sys.executable, "-m", "glm5_doctor", "preflight", "--select", "advisories", "--format", "json")
LMCACHE = '{"kv_connector":"LMCacheConnectorV1","kv_role":"kv_both"}'


def matched(result: dict[str, Any]) -> list[str]:
    return [match["id"] for match in result["evidence"]["matches"]]


def judged(target: TargetEnv, *args: str) -> dict[str, Any]:
    _, report = run_json("--python", str(target.python), "--select", "advisories", *args)
    jsonschema.validate(report, REPORT_SCHEMA)
    return report


# --- run: versions and flags -------------------------------------------------------------------------


@pytest.mark.parametrize(("vllm", "expected"), [("0.28.0", "fail"), ("0.29.0", "warn")])
def test_hopper_fp8_e4m3_kv_at_the_last_affected_and_first_unaffected_vllm(
    target_env: TargetEnv, vllm: str, expected: str
) -> None:
    target_env.add_dist("vllm", vllm)
    report = judged(target_env, "--gpu", "H200", "--kv-cache-dtype", "fp8_e4m3")
    result = by_id(report)[CHECK]
    assert result["status"] == expected
    # H200 at TP 8 on vLLM >= 0.23.1: the fused all-reduce advisory (warn) applies to both
    assert "GLM5-ADV-0019" in matched(result)
    assert ("GLM5-ADV-0008" in matched(result)) is (expected == "fail")
    if expected == "fail":
        assert "GLM5-ADV-0008 [fail]" in result["message"]
        assert "https://github.com/vllm-project/recipes/issues/565" in result["message"]
        shown = next(m for m in result["evidence"]["matches"] if m["id"] == "GLM5-ADV-0008")
        assert shown["matched_on"] == {"vllm": "0.28.0", "compute_capability": "9.0", "kv_cache_dtype": "fp8_e4m3"}


def test_the_same_vllm_on_blackwell_or_with_fp8_kv_is_not_matched(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "0.28.0")
    assert by_id(judged(target_env, "--gpu", "B200", "--kv-cache-dtype", "fp8_e4m3"))[CHECK]["status"] == "pass"
    assert "GLM5-ADV-0008" not in matched(by_id(judged(target_env, "--gpu", "H200", "--kv-cache-dtype", "fp8"))[CHECK])


@pytest.mark.parametrize(("vllm", "deep_gemm", "expected"), [("0.19.1", False, "fail"), ("0.19.1", True, "pass")])
def test_deepgemm_missing_before_the_bundled_copy(
    target_env: TargetEnv, vllm: str, deep_gemm: bool, expected: str
) -> None:
    target_env.add_dist("vllm", vllm)
    if deep_gemm:
        target_env.add_dist("deep_gemm", "2.1.1+c9f8b34")
    result = by_id(judged(target_env, "--gpu", "B200"))[CHECK]
    assert result["status"] == expected
    if expected == "fail":
        assert matched(result) == ["GLM5-ADV-0017"]
        assert result["evidence"]["matches"][0]["fixed_in"] == {"vllm": "0.20.0"}
        assert "fixed in vllm 0.20.0" in result["message"]


def test_a_warn_advisory_warns_and_the_shadowing_deepgemm_is_reported(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "0.21.0")
    target_env.add_dist("deep_gemm", "2.1.1+c9f8b34")
    report = judged(target_env, "--gpu", "B200")
    result = by_id(report)[CHECK]
    assert result["status"] == "warn"
    assert matched(result) == ["GLM5-ADV-0018"]
    code, _ = run_json("--python", str(target_env.python), "--select", "advisories", "--gpu", "B200", "--strict")
    assert code == 1


def test_without_a_serve_command_flag_dependent_advisories_are_undetermined(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "0.19.0")
    target_env.add_dist("deep_gemm", "2.1.1")
    result = by_id(judged(target_env, "--gpu", "H200"))[CHECK]
    assert result["status"] == "pass"
    undetermined = {item["id"]: item["needs"] for item in result["evidence"]["undetermined"]}
    assert undetermined["GLM5-ADV-0003"] == ["kv_connector"]
    assert "would need values this run does not know" in result["message"]


def test_the_database_appears_in_the_table_header_and_the_json(target_env: TargetEnv) -> None:
    target_env.add_dist("vllm", "0.29.0")
    report = judged(target_env, "--gpu", "B200")
    assert report["advisories"]["version"] == "2026.12.1"
    assert report["advisories"]["source"] == "builtin" and report["advisories"]["count"] >= 25
    table = run_doctor("run", "--python", str(target_env.python), "--select", "advisories", "--gpu", "B200")
    assert "Advisory database 2026.12.1 (2026-12-04), " in table.stdout


# --- preflight: the real serve command ----------------------------------------------------------------


def fake_vllm(bin_dir: Path, python: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "vllm"
    script.write_text(f"#!{python}\nimport sys\nsys.exit(7)\n")
    script.chmod(0o755)
    return script


def preflight(
    tmp_path: Path, *command: str, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    report_file = tmp_path / "report.json"
    process = subprocess.run(
        [*PREFLIGHT, "--output", str(report_file), *extra, "--", *command],
        capture_output=True,
        text=True,
        env=env or doctor_env(),
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    return process.returncode, report, process.stderr


@pytest.mark.parametrize(("vllm", "expected_code"), [("0.19.0", 1), ("0.18.0", 7)])
def test_preflight_refuses_lmcache_on_glm5_from_the_first_reported_vllm(
    target_env: TargetEnv, tmp_path: Path, vllm: str, expected_code: int
) -> None:
    target_env.add_dist("vllm", vllm)
    target_env.add_dist("deep_gemm", "2.1.1")
    target_env.add_dist("lmcache", "0.4.3.dev77")
    server = fake_vllm(tmp_path / "bin", target_env.python)
    command = [str(server), "serve", "zai-org/GLM-5-FP8", "-tp", "8", "--kv-transfer-config", LMCACHE]
    code, report, stderr = preflight(tmp_path, *command)
    assert code == expected_code, stderr
    result = by_id(report)[CHECK]
    if expected_code == 1:
        assert matched(result) == ["GLM5-ADV-0003"]
        assert "not starting the server" in stderr
    else:
        assert result["status"] == "pass"  # exit 7: the server itself ran


def test_preflight_mtp_with_glm_tool_parser_warns_and_still_starts(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_dist("vllm", "0.24.0")
    server = fake_vllm(tmp_path / "bin", target_env.python)
    command = [
        str(server), "serve", "zai-org/GLM-5-FP8", "--tensor-parallel-size", "8",
        "--tool-call-parser", "glm47", "--reasoning-parser", "glm45", "--enable-auto-tool-choice",
        "--speculative-config.method", "mtp", "--speculative-config.num_speculative_tokens", "3",
    ]  # fmt: skip
    code, report, stderr = preflight(tmp_path, *command)
    assert code == 7, stderr
    result = by_id(report)[CHECK]
    assert result["status"] == "warn"
    assert "GLM5-ADV-0009" in matched(result)
    assert "GLM5-ADV-0010" not in matched(result), "the forced-tool-call report is GLM-5.2 only"


def test_preflight_mtp_advisory_ends_at_the_last_reported_vllm(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_dist("vllm", "0.25.1")
    server = fake_vllm(tmp_path / "bin", target_env.python)
    command = [str(server), "serve", "zai-org/GLM-5-FP8", "-tp", "8", "--tool-call-parser", "glm47"]
    command += ["--speculative-config", '{"method": "mtp", "num_speculative_tokens": 3}']
    _, report, _ = preflight(tmp_path, *command)
    assert "GLM5-ADV-0009" not in matched(by_id(report)[CHECK])


def test_preflight_reads_load_format_for_the_runai_streamer_advisory(target_env: TargetEnv, tmp_path: Path) -> None:
    """On a GB10 (compute capability 12.1, played by the fake NVML, so a real GPU here changes nothing)."""
    target_env.add_dist("vllm", "0.30.0")
    target_env.add_dist("runai-model-streamer", "0.15.0")
    server = fake_vllm(tmp_path / "bin", target_env.python)
    gb10 = scenario_lines("b200x8", **{"count": 2, "gpu.*.name": "NVIDIA GB10", "gpu.*.cc": "12.1"})
    env = nvml_env(build_fake_nvml(tmp_path / "fake-nvml"), gb10, tmp_path / "nvml")
    base = [str(server), "serve", "zai-org/GLM-5.3-Flash", "-tp", "2"]
    _, report, _ = preflight(tmp_path, *base, "--load-format", "runai_streamer", env=env)
    assert "GLM5-ADV-0004" in {item["id"] for item in by_id(report)[CHECK]["evidence"]["matches"]}
    _, report, _ = preflight(tmp_path, *base, "--load-format=safetensors", env=env)
    assert "GLM5-ADV-0004" not in {item["id"] for item in by_id(report)[CHECK]["evidence"]["matches"]}


def test_serve_args_read_load_format_and_kv_transfer_config() -> None:
    serve = parse_serve_command(
        ["vllm", "serve", "m", "--load-format", "runai_streamer", "--kv-transfer-config", LMCACHE]
    )
    assert serve.load_format == "runai_streamer" and serve.kv_connector == "LMCacheConnectorV1"
    dotted = parse_serve_command(["vllm", "serve", "m", "--kv-transfer-config.kv_connector", "NixlConnector"])
    assert dotted.kv_transfer_config == {"kv_connector": "NixlConnector"}
    assert parse_serve_command(["vllm", "serve", "m"]).kv_connector is None


# --- drivers through the fake NVML ---------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the fake NVML library")
@pytest.mark.parametrize(
    ("driver", "expected"),
    [("570.133.19", ["GLM5-ADV-0021", "GLM5-ADV-0022"]), ("570.133.20", ["GLM5-ADV-0021"]), ("580.95.05", [])],
)
def test_driver_advisories_on_a_b200(target_env: TargetEnv, tmp_path: Path, driver: str, expected: list[str]) -> None:
    library = build_fake_nvml(tmp_path / "fake-nvml")
    target_env.add_dist("vllm", "0.20.0")
    target_env.add_dist("deep_gemm", "2.1.1")  # keeps GLM5-ADV-0016 (0.20.0 off Python 3.12) out of the way
    env = nvml_env(library, scenario_lines("b200x8", driver=driver), tmp_path / "nvml")
    _, report = run_json("--python", str(target_env.python), "--select", "advisories", env=env)
    result = by_id(report)[CHECK]
    assert [m for m in matched(result) if m in ("GLM5-ADV-0021", "GLM5-ADV-0022")] == expected
    assert result["evidence"]["deployment"]["compute_capability"] == ["10.0"]


# --- --advisories FILE and the advisories command -------------------------------------------------------


def newer_database(tmp_path: Path, **header: str) -> Path:
    data = {
        "database": {"name": "site advisories", "version": "2027.1.1", "date": "2027-01-15", **header},
        "advisories": [
            {
                "id": "GLM5-ADV-0100",
                "title": "A bug found after this release",
                "severity": "fail",
                "affected": [{"distribution": "vllm", "specifier": "<0.34.0"}],
                "conditions": {"tensor_parallel_size": ">=8"},
                "fixed_in": {"vllm": "0.34.0"},
                "workaround": "Upgrade.",
                "sources": ["https://github.com/vllm-project/vllm/issues/1"],
                "notes": "A test entry.",
            }
        ],
    }
    path = tmp_path / "advisories.json"
    path.write_text(json.dumps(data))
    return path


def test_a_newer_database_from_a_file(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_dist("vllm", "0.33.0")
    path = newer_database(tmp_path)
    report = judged(target_env, "--gpu", "B200", "--advisories", str(path))
    assert report["advisories"] == {
        "name": "site advisories", "version": "2027.1.1", "date": "2027-01-15", "source": str(path), "count": 1,
    }  # fmt: skip
    assert matched(by_id(report)[CHECK]) == ["GLM5-ADV-0100"]
    table = run_doctor("run", "--python", str(target_env.python), "--select", "advisories", "--advisories", str(path))
    assert f"Advisory database 2027.1.1 (2027-01-15) from {path}, 1 advisories" in table.stdout
    assert by_id(judged(target_env, "--gpu", "B200", "--tp", "4", "--advisories", str(path)))[CHECK]["status"] == "pass"


def test_a_bad_database_file_is_a_usage_error_everywhere(target_env: TargetEnv, tmp_path: Path) -> None:
    bad = newer_database(tmp_path, date="soon")
    for args in (("run", "--advisories", str(bad)), ("advisories", "--advisories", str(bad))):
        completed = run_doctor(*args)
        assert completed.returncode == 2
        assert "database.date" in completed.stderr and not completed.stdout
    (tmp_path / "broken.json").write_text("{not json")
    assert "not valid JSON" in run_doctor("advisories", "--advisories", str(tmp_path / "broken.json")).stderr
    assert "no such file" in run_doctor("advisories", "--advisories", str(tmp_path / "missing.json")).stderr
    server = fake_vllm(tmp_path / "bin", target_env.python)
    code, report, stderr = preflight(
        tmp_path, str(server), "serve", "zai-org/GLM-5-FP8", extra=("--advisories", str(bad))
    )
    assert code == 2 and not report and "database.date" in stderr


def test_the_advisories_command_lists_and_filters() -> None:
    listing = run_doctor("advisories")
    assert listing.returncode == 0
    assert "Advisory database 2026.12.1 (2026-12-04)" in listing.stdout
    assert "GLM5-ADV-0001" in listing.stdout and "GLM5-ADV-0025" in listing.stdout
    data = json.loads(run_doctor("advisories", "--format", "json", "--distribution", "driver").stdout)
    assert [item["id"] for item in data["advisories"]] == ["GLM5-ADV-0021", "GLM5-ADV-0022"]
    assert data["database"]["shown"] == 2
    warn = json.loads(run_doctor("advisories", "--format", "json", "--severity", "warn").stdout)
    assert warn["advisories"] and {item["severity"] for item in warn["advisories"]} == {"warn"}
    one = run_doctor("advisories", "--id", "glm5-adv-0003")
    assert "LMCacheConnectorV1" in one.stdout and "GLM5-ADV-0004" not in one.stdout
    unknown = run_doctor("advisories", "--id", "GLM5-ADV-9999")
    assert unknown.returncode == 2 and "unknown advisory GLM5-ADV-9999" in unknown.stderr
