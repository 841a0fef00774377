"""Triage time on a large log, against GNU grep scanning the same log for the same keywords, in the same run.

    python benchmarks/bench_triage.py [--megabytes 100] [--runs 3]

The log is a real failed launch (tests/fixtures/triage/real/transformers.kernels-left-behind.1.log) whose
fatal traceback comes after ``--megabytes`` of vLLM start-up lines with worker prefixes, ANSI colours and
an ERROR block now and then, so every line is cleaned and keyword-searched. It is timed at that size and
at twice it: the time per megabyte staying flat is the linear-time claim. The baseline is
``grep -c -F`` with every signature keyword, the least any tool can do to find these words in the file.
``glm5-doctor triage --no-confirm`` runs as a child process, start-up included.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from glm5_doctor.knowledge.signatures import SIGNATURES

ROOT = Path(__file__).resolve().parent.parent
FAILURE = ROOT / "tests" / "fixtures" / "triage" / "real" / "transformers.kernels-left-behind.1.log"
FILLER = (
    "\x1b[1;36m(VllmWorker rank={rank} pid=4{rank}21)\x1b[0;0m INFO 12-04 18:22:{second:02d} [default_loader.py:291] "
    "Loading weights took {second}.31 seconds\n",
    "(EngineCore_DP0 pid=3907) INFO 12-04 18:22:{second:02d} [gpu_model_runner.py:2653] Model loading took 88.70 "
    "GiB and {second}.2 seconds\n",
    "(VllmWorker rank={rank} pid=4{rank}21) WARNING 12-04 18:22:{second:02d} [fused_moe.py:727] Using default MoE "
    "config. Performance might be sub-optimal! Config file not found at /opt/venv/lib/python3.12/x.json\n",
    "(VllmWorker rank={rank} pid=4{rank}21) ERROR 12-04 18:22:{second:02d} [multiproc_executor.py:6] "
    "Traceback (most recent call last):\n",
    "(VllmWorker rank={rank} pid=4{rank}21) ERROR 12-04 18:22:{second:02d} [multiproc_executor.py:6]   File "
    '"/opt/venv/lib/python3.12/site-packages/vllm/worker.py", line {second}, in execute_model\n',
    "(VllmWorker rank={rank} pid=4{rank}21) ERROR 12-04 18:22:{second:02d} [multiproc_executor.py:6] "
    "RuntimeError: request {second} was aborted by the client\n",
)


def write_log(path: Path, megabytes: int) -> None:
    target = megabytes * 1_000_000
    block = "".join(
        FILLER[index % len(FILLER)].format(rank=index % 8, second=index % 60) for index in range(6000)
    ).encode()
    with path.open("wb") as log:
        written = 0
        while written < target:
            log.write(block)
            written += len(block)
        log.write(FAILURE.read_bytes())


def median_seconds(command: list[str], runs: int, expected: set[int]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        times.append(time.perf_counter() - started)
        if completed.returncode not in expected:
            raise SystemExit(f"{command[:3]} exited {completed.returncode}: {completed.stderr.decode()[-500:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    grep = shutil.which("grep")
    if grep is None:
        raise SystemExit("the baseline needs GNU grep on PATH")
    keywords = sorted({keyword for signature in SIGNATURES for keyword in signature.keywords})
    with tempfile.TemporaryDirectory() as directory:
        words = Path(directory) / "keywords.txt"
        words.write_text("\n".join(keywords) + "\n")
        print(f"{'log':<12}{'glm5-doctor triage':>22}{'grep -c -F':>14}{'ratio':>8}{'triage s/100 MB':>18}")
        for megabytes in (args.megabytes, 2 * args.megabytes):
            log = Path(directory) / f"serve-{megabytes}.log"
            write_log(log, megabytes)
            triage = median_seconds(
                [sys.executable, "-m", "glm5_doctor", "triage", "--no-confirm", str(log)], args.runs, {1}
            )
            baseline = median_seconds([grep, "-c", "-F", "-f", str(words), str(log)], args.runs, {0, 1})
            print(
                f"{megabytes:>5} MB     {triage:>18.2f} s{baseline:>12.2f} s{triage / baseline:>7.1f}x"
                f"{triage / megabytes * 100:>16.2f} s"
            )
            log.unlink()


if __name__ == "__main__":
    main()
