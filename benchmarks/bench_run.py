"""How long a full ``glm5-doctor run`` takes, against ``python -m torch.utils.collect_env`` in the same run.

    python benchmarks/bench_run.py [--runs 7] [--python /opt/venv/bin/python]

Without ``--python`` the doctor judges its own interpreter (described in-process, the usual
case when it is installed beside vLLM) and the baseline runs in that interpreter too.

The baseline is PyTorch's own environment report, run by the target interpreter (which must have
torch installed); it is what people run today to answer "is this machine set up?". Both are timed
as whole processes, wall clock, median of ``--runs``, after one warm-up run each so the page cache
is not what is measured. Prints both, the ratio, and the doctor's per-check durations.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def timed(command: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], subprocess.CompletedProcess[str]]:
    last = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        last = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - started)
    return times, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--python",
        default=None,
        help="target interpreter (baseline runs there too); default: the doctor's own, in-process",
    )
    parser.add_argument("--doctor-args", default="", help="extra arguments for glm5-doctor run")
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD", "1")

    target = ["--python", args.python] if args.python else []
    doctor = [sys.executable, "-m", "glm5_doctor", "run", "--format", "json", *target, *args.doctor_args.split()]
    doctor_times, doctor_run = timed(doctor, args.runs, env)
    report = json.loads(doctor_run.stdout)
    baseline = [args.python or sys.executable, "-m", "torch.utils.collect_env"]
    baseline_times, baseline_run = timed(baseline, max(3, args.runs // 2), env)
    baseline_ok = baseline_run.returncode == 0

    doctor_median = statistics.median(doctor_times)
    print(
        f"glm5-doctor run --format json : median {doctor_median * 1000:7.1f} ms  "
        f"(min {min(doctor_times) * 1000:.1f}, max {max(doctor_times) * 1000:.1f}, n={len(doctor_times)}, "
        f"{len(report['results'])} checks)"
    )
    if baseline_ok:
        baseline_median = statistics.median(baseline_times)
        print(
            f"python -m torch.utils.collect_env: median {baseline_median * 1000:7.1f} ms  "
            f"(min {min(baseline_times) * 1000:.1f}, max {max(baseline_times) * 1000:.1f}, n={len(baseline_times)})"
        )
        print(f"ratio: glm5-doctor is {baseline_median / doctor_median:.1f}x faster")
    else:
        last_line = (baseline_run.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"baseline unavailable in {args.python}: {last_line}")
    slowest = sorted(report["results"], key=lambda r: r["duration_ms"], reverse=True)[:5]
    print("slowest checks: " + ", ".join(f"{r['id']} {r['duration_ms']} ms" for r in slowest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
