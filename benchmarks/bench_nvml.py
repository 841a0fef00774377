"""How long the doctor's NVML survey takes (child process, every GPU, the P2P matrix), against
``nvidia-smi --query-gpu=... --format=csv`` in the same run.

    python benchmarks/bench_nvml.py [--runs 10]

Uses whatever libnvidia-ml.so.1 the loader finds: the real driver on a GPU node, or the tests'
fake library when LD_LIBRARY_PATH and FAKE_NVML_SCENARIO point at it (8 simulated GPUs).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from glm5_doctor.probes import ProbeContext
from glm5_doctor.probes.nvml import probe_nvml

QUERY = "index,name,memory.total,memory.used,compute_cap,persistence_mode,mig.mode.current,ecc.mode.current"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    probe_times, fact = [], None
    for _ in range(args.runs + 1):
        started = time.perf_counter()
        fact = probe_nvml(ProbeContext())
        probe_times.append(time.perf_counter() - started)
    probe_times = probe_times[1:]
    assert fact is not None
    pairs = len(fact["p2p"])
    print(
        f"glm5-doctor NVML probe   : median {statistics.median(probe_times) * 1000:7.1f} ms "
        f"({fact['status']}, {len(fact['devices'])} GPUs, {pairs} P2P pairs, n={args.runs})"
    )
    smi = shutil.which("nvidia-smi")
    if smi is None:
        print("nvidia-smi               : not installed here")
        return 0
    smi_times = []
    for _ in range(args.runs + 1):
        started = time.perf_counter()
        subprocess.run([smi, f"--query-gpu={QUERY}", "--format=csv"], capture_output=True, check=False)
        smi_times.append(time.perf_counter() - started)
    print(f"nvidia-smi --query-gpu   : median {statistics.median(smi_times[1:]) * 1000:7.1f} ms (n={args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
