"""Redaction time on hostile text, against the redaction patterns of the previous release in the same run.

    python benchmarks/bench_redact.py [--size 1000000] [--runs 3]

The baseline is glm5-doctor 0.1.0's URL-credential pattern (unbounded scheme and user parts),
which is quadratic on text that looks like the start of a URL many times over: a 120,000-character
``--model`` took 85 s through it. Each input is ``--size`` characters; the median of ``--runs`` is
printed for both, with the ratio. The current redactor runs whole (every pattern, the literal
secrets and the control-character escape); the baseline only its one pattern, so the comparison
favours the baseline.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from glm5_doctor.engine.redact import Redactor

#: glm5-doctor 0.1.0 (commit ce4ac39), doctor/redact.py: the pattern that made redaction quadratic.
BASELINE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@:]+(?::[^/\s@]*)?@")
INPUTS = {
    "letters": "a",
    "scheme-like runs": "a://",
    "user:password-like runs": "a://b:",
    "bearer words": "token ",
}


def median_seconds(function: object, text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function(text)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-size", type=int, default=50_000, help="the baseline is quadratic: keep it small")
    args = parser.parse_args()
    redactor = Redactor({"HF_TOKEN": "hf_" + "x" * 20})
    now_header = f"now, {args.size:,} chars"
    before_header = f"0.1.0, {args.baseline_size:,}"
    print(f"{'input':<26}{now_header:>22}{before_header:>24}")
    for name, unit in INPUTS.items():
        text = (unit * (args.size // len(unit) + 1))[: args.size]
        small = text[: args.baseline_size]
        now = median_seconds(redactor.text, text, args.runs)
        before = median_seconds(lambda value: BASELINE.sub("***@", value), small, args.runs)
        print(f"{name:<26}{now:>20.3f} s{before:>22.3f} s")


if __name__ == "__main__":
    main()
