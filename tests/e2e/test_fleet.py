"""``glm5-doctor fleet`` against a real local Ray cluster: a head and two workers started with ``ray start``.

The nodes differ through the environment ``ray start`` ran in (which Ray's workers inherit): the head
and worker A see different vLLM dist-info folders through PYTHONPATH, worker A names an interface and
an address it lacks, worker B plays another driver through the fake NVML. Worker B's scenario file
is then rewritten to hang the NVML survey: once it is judged hung at the node deadline, once its raylet
is killed during the run. Every process of the cluster is killed at the end (by the cluster's own temp
folder, which every one of them names, and their children), never by name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from helpers import build_fake_nvml, doctor_env, scenario_lines

pytest.importorskip("ray", reason="Ray is not installed: the fleet tests need pip install 'glm5-doctor[fleet]'")

pytestmark = pytest.mark.slow

START_S = 120
HEAD_VLLM, WORKER_VLLM = "0.17.0", "0.16.0"
HEAD_DRIVER, B_DRIVER = "580.95.05", "575.57.08"
MISSING_IP = "10.254.254.254"


@dataclass
class Cluster:
    address: str
    temp_dir: Path
    work: Path
    b_scenario: Path
    b_port: int
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ray() -> str:
    found = Path(sys.executable).parent / "ray"
    return str(found) if found.exists() else shutil.which("ray") or "ray"


def _vllm_dist(root: Path, version: str) -> Path:
    info = root / f"vllm-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}\n")
    return root


def _write_scenario(path: Path, scenario: dict[str, Any]) -> None:
    path.write_text("".join(f"{key}={value}\n" for key, value in scenario.items() if not key.startswith("_")))


def _start(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(
        [_ray(), "start", "--disable-usage-stats", "--num-cpus=1", *args],
        env=env,
        check=True,
        capture_output=True,
        timeout=START_S,
        stdin=subprocess.DEVNULL,
    )


def _processes_naming(mark: str) -> list[psutil.Process]:
    """Every process whose command line names ``mark`` (the cluster's temp folder), and their children."""
    me = os.getpid()
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter(["cmdline"]):
        try:
            if process.pid != me and any(mark in part for part in process.info["cmdline"] or ()):
                found[process.pid] = process
                found.update({child.pid: child for child in process.children(recursive=True)})
        except psutil.Error:
            continue
    return list(found.values())


def _kill(processes: list[psutil.Process]) -> None:
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(processes, timeout=10)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    work = Path(tempfile.mkdtemp(prefix="g5f-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    temp_dir = work / "ray"
    try:
        nvml = build_fake_nvml(work / "nvml")
        base = doctor_env(RAY_DISABLE_USAGE_STATS="1", GLM5_DOCTOR_NVML_TIMEOUT_S="300")
        base["LD_LIBRARY_PATH"] = f"{nvml}:{base.get('LD_LIBRARY_PATH', '')}".rstrip(":")
        head_scenario, b_scenario = work / "head.txt", work / "b.txt"
        _write_scenario(head_scenario, scenario_lines("b200x8"))
        _write_scenario(b_scenario, scenario_lines("b200x8", driver=B_DRIVER))
        port = _free_port()
        address = f"127.0.0.1:{port}"
        head_env = {
            **base,
            "FAKE_NVML_SCENARIO": str(head_scenario),
            "PYTHONPATH": str(_vllm_dist(work / "head-site", HEAD_VLLM)),
        }
        _start(["--head", f"--port={port}", f"--temp-dir={temp_dir}", "--include-dashboard=false"], head_env)
        a_env = {
            **base,
            "FAKE_NVML_SCENARIO": str(head_scenario),
            "PYTHONPATH": str(_vllm_dist(work / "a-site", WORKER_VLLM)),
            "VLLM_HOST_IP": MISSING_IP,
            "NCCL_SOCKET_IFNAME": "=ib-missing0",
        }
        _start([f"--address={address}", f"--node-manager-port={_free_port()}"], a_env)
        b_port = _free_port()
        b_env = {
            **base,
            "FAKE_NVML_SCENARIO": str(b_scenario),
            "PYTHONPATH": str(_vllm_dist(work / "b-site", HEAD_VLLM)),
        }
        _start([f"--address={address}", f"--node-manager-port={b_port}"], b_env)
        driver_env = doctor_env(RAY_ADDRESS=address, RAY_DISABLE_USAGE_STATS="1")
        yield Cluster(address, temp_dir, work, b_scenario, b_port, driver_env)
    finally:
        _kill(_processes_naming(str(temp_dir)))
        shutil.rmtree(work, ignore_errors=True)


def _fleet(cluster: Cluster, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glm5_doctor", "fleet", *args],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _fleet_json(cluster: Cluster, *args: str) -> tuple[int, dict[str, Any]]:
    completed = _fleet(cluster, "--format", "json", *args)
    assert completed.stdout, f"no report; stderr: {completed.stderr[-2000:]}"
    return completed.returncode, json.loads(completed.stdout)


def _cross(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["id"]: result for result in report["results"]}


def _node_names(report: dict[str, Any], b_port: int) -> tuple[str, str, str]:
    """(head, worker A, worker B) by what each node reported (B by its node manager port)."""
    head = next(node["name"] for node in report["nodes"] if node["head"])
    b = next(node["name"] for node in report["nodes"] if node["name"].endswith(f":{b_port}"))
    a = next(node["name"] for node in report["nodes"] if node["name"] not in (head, b))
    return head, a, b


def test_differing_nodes_are_named_with_the_exact_difference(cluster: Cluster) -> None:
    from glm5_doctor.report.schema import REPORT_SCHEMA
    from jsonschema import validate

    code, report = _fleet_json(cluster)
    validate(report, REPORT_SCHEMA)
    assert code == 1
    assert report["summary"]["nodes"] == 3
    head, a, b = _node_names(report, cluster.b_port)
    assert all(node["error"] is None and node["report"] for node in report["nodes"])
    cross = _cross(report)
    assert cross["fleet.nodes-answered"]["status"] == "pass"
    versions = cross["fleet.package-versions"]
    assert versions["status"] == "fail"
    assert f"vllm: {HEAD_VLLM} on {head}, {b}; {WORKER_VLLM} on {a}" in versions["message"]
    assert "torch" not in versions["message"]  # the same (absent) everywhere: not a difference
    driver = cross["fleet.driver-versions"]
    assert driver["status"] == "fail"
    assert f"driver: {HEAD_DRIVER} on {head}, {a}; {B_DRIVER} on {b}" in driver["message"]
    network = cross["fleet.network-interfaces"]
    assert network["status"] == "fail"
    assert f"{a}: NCCL_SOCKET_IFNAME==ib-missing0 matches no interface" in network["message"]
    assert f"VLLM_HOST_IP={MISSING_IP} is not an address of this node" in network["message"]
    assert head not in network["message"] and b not in network["message"]
    assert list(network["evidence"]["problems"]) == [a]
    # every node judged here: each node's report is a full report of its own
    for node in report["nodes"]:
        validate(node["report"], REPORT_SCHEMA)
        assert "ray node" in node["report"]["target"]["snapshot"]["file"]


def test_the_terminal_shows_the_nodes_as_columns(cluster: Cluster) -> None:
    completed = _fleet(cluster)
    assert completed.returncode == 1, completed.stderr[-2000:]
    lines = completed.stdout.splitlines()
    header = next(line for line in lines if line.startswith("check "))
    assert len(re.findall(r"\S+:\d+", header)) == 3  # the three nodes are the columns
    assert any(line.startswith("FAIL") and "fleet.driver-versions" in line for line in lines)
    assert lines[-1].startswith("NOT READY")


def test_a_hung_node_is_an_error_row_at_its_deadline_and_the_others_are_judged(cluster: Cluster) -> None:
    _write_scenario(cluster.b_scenario, scenario_lines("hang"))
    code, report = _fleet_json(cluster, "--node-timeout", "15")
    head, a, b = _node_names(report, cluster.b_port)
    nodes = {node["name"]: node for node in report["nodes"]}
    assert code == 1
    assert nodes[b]["report"] is None
    assert nodes[b]["error"] == "no answer within the node deadline of 15 s"
    assert nodes[head]["report"] and nodes[a]["report"]
    answered = _cross(report)["fleet.nodes-answered"]
    assert answered["status"] == "error"
    assert f"1 of 3 nodes gave no facts: {b}: no answer within the node deadline" in answered["message"]
    # the cross-node checks compare the nodes that answered
    assert f"{WORKER_VLLM} on {a}" in _cross(report)["fleet.package-versions"]["message"]


def test_a_node_killed_during_the_run_is_an_error_row_before_its_deadline(cluster: Cluster) -> None:
    _write_scenario(cluster.b_scenario, scenario_lines("hang"))
    command = [sys.executable, "-m", "glm5_doctor", "fleet", "--format", "json", "--node-timeout", "150"]
    with subprocess.Popen(
        command, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    ) as running:
        raylet = _wait_for_hung_survey(cluster)
        _kill([raylet, *raylet.children(recursive=True)])
        stdout, stderr = running.communicate(timeout=240)
    report = json.loads(stdout)
    nodes = {node["name"]: node for node in report["nodes"]}
    b = next(name for name in nodes if name.endswith(f":{cluster.b_port}"))
    assert running.returncode == 1, stderr[-2000:]
    assert nodes[b]["report"] is None
    assert nodes[b]["error"]
    assert "node deadline" not in nodes[b]["error"]  # Ray said the node died: an answer before the deadline
    assert all(node["report"] for name, node in nodes.items() if name != b)


def _wait_for_hung_survey(cluster: Cluster) -> psutil.Process:
    """Worker B's raylet, once its node task is inside the hung NVML survey."""
    for _ in range(600):
        for raylet in _processes_naming(f"--node_manager_port={cluster.b_port}"):
            if "raylet" not in raylet.name():
                continue
            children = raylet.children(recursive=True)
            if any("glm5-doctor-nvml-" in " ".join(_cmdline(child)) for child in children):
                return raylet
        time.sleep(0.2)
    raise AssertionError("worker B's node task never reached the NVML survey")


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def test_an_address_where_no_cluster_answers_is_a_usage_error() -> None:
    port = _free_port()  # nothing listens there
    completed = subprocess.run(
        [sys.executable, "-m", "glm5_doctor", "fleet", "--address", f"127.0.0.1:{port}", "--format", "json"],
        env=doctor_env(RAY_DISABLE_USAGE_STATS="1"),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert f"glm5-doctor: no Ray cluster at 127.0.0.1:{port}: Connection refused" in completed.stderr
