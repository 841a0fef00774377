"""``glm5-doctor fleet`` on a local Ray cluster, against the same number of sequential ``glm5-doctor snapshot`` runs.

    python benchmarks/bench_fleet.py [--workers 2] [--runs 3]

Starts a Ray head (``ray start --head``, 1 CPU, no dashboard) in a temporary folder, then adds the
workers one at a time; after each, times ``glm5-doctor fleet --format json`` (median of --runs) and
the same number of ``glm5-doctor snapshot`` runs one after the other. Per-node overhead is what the
fleet run costs beyond the slowest node's own snapshot (Ray connect, dispatch, shipping the facts back,
judging each node here). Every process of the cluster is killed at the end (the ones that name its
temporary folder, and their children). Needs ``pip install 'glm5-doctor[fleet]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

DOCTOR = [sys.executable, "-m", "glm5_doctor"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="g5b-", dir="/tmp"))
    ray = str(Path(sys.executable).parent / "ray")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(RAY_DISABLE_USAGE_STATS="1", GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD="1")
    port = _free_port()
    env["RAY_ADDRESS"] = f"127.0.0.1:{port}"
    try:
        _start(ray, ["--head", f"--port={port}", f"--temp-dir={work / 'ray'}", "--include-dashboard=false"], env)
        _measure(1, args.runs, env)
        for _ in range(args.workers):
            _start(ray, [f"--address=127.0.0.1:{port}", f"--node-manager-port={_free_port()}"], env)
            _measure(_alive(env), args.runs, env)
    finally:
        _kill(str(work / "ray"))
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _measure(nodes: int, runs: int, env: dict[str, str]) -> None:
    fleet, inside = [], []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(
            [*DOCTOR, "fleet", "--format", "json"], env=env, capture_output=True, text=True, check=False
        )
        fleet.append(time.perf_counter() - started)
        report = json.loads(completed.stdout)
        assert len(report["nodes"]) == nodes, completed.stderr[-500:]
        inside.append(max(node["duration_ms"] for node in report["nodes"]) / 1000)
    sequential = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(nodes):
            subprocess.run([*DOCTOR, "snapshot"], env=env, capture_output=True, check=True)
        sequential.append(time.perf_counter() - started)
    fleet_s, sequential_s, slowest = statistics.median(fleet), statistics.median(sequential), statistics.median(inside)
    print(
        f"{nodes} nodes: fleet {fleet_s:5.2f} s | {nodes} sequential snapshots {sequential_s:5.2f} s "
        f"(one: {sequential_s / nodes:4.2f} s) | slowest node answered after {slowest:4.2f} s | "
        f"overhead beyond one snapshot {fleet_s - sequential_s / nodes:+5.2f} s (n={runs})",
        flush=True,
    )


def _alive(env: dict[str, str]) -> int:
    code = "import ray, logging; ray.init(logging_level=logging.ERROR); print(sum(n['Alive'] for n in ray.nodes()))"
    completed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return int(completed.stdout.strip().splitlines()[-1])


def _start(ray: str, args: list[str], env: dict[str, str]) -> None:
    subprocess.run(
        [ray, "start", "--disable-usage-stats", "--num-cpus=1", *args],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _kill(mark: str) -> None:
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter(["cmdline"]):
        try:
            if process.pid != os.getpid() and any(mark in part for part in process.info["cmdline"] or ()):
                found[process.pid] = process
                found.update({child.pid: child for child in process.children(recursive=True)})
        except psutil.Error:
            continue
    for process in found.values():
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(list(found.values()), timeout=10)


if __name__ == "__main__":
    sys.exit(main())
