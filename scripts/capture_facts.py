"""Turn the real NVML captures into the ``nvml`` *fact* the checks judge (fixtures for tests/unit).

    python scripts/capture_facts.py

For each real capture (``tests/fixtures/real/*/nvml-answers.json``, recorded call by call on a real
H200 machine by ``scripts/capture_nvml.py``) this compiles the fake ``libnvidia-ml.so.1`` with gcc,
replays the answers through it and runs the doctor's real probe, ``probe_nvml``, exactly as the
end-to-end tests do. The fact is written beside the capture as ``facts-nvml.json``.

Two values are not NVML answers and are pinned to what the real run reported, so the unit tests can
assert the real run's messages word for word:

- ``duration_ms``: the probe time of the real run (``gpu.driver`` evidence ``probe_ms``);
- P2P on the two-GPU node: that capture predates the integer-index fix (it holds only the tuple
  constant's ArgumentError), so every pair answers what the doctor's own real run measured there:
  read OK and NVLink OK (``run-tp2.json``: "P2P read works for all 2 pairs (2 over NVLink)").
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.nvml import NvmlFact, probe_nvml

ROOT = Path(__file__).resolve().parents[1]


def _load_test_helpers() -> Any:
    """tests/helpers.py: the fake NVML library and the scenario made of a real capture, as the e2e tests use them."""
    spec = importlib.util.spec_from_file_location("helpers", ROOT / "tests" / "helpers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["helpers"] = module
    spec.loader.exec_module(module)
    return module


helpers = _load_test_helpers()
REAL_H200: Path = helpers.REAL_H200
REAL_H200X2: Path = helpers.REAL_H200X2

#: capture -> (the real run's JSON report, the P2P status every pair answered there, or None)
CAPTURES: dict[Path, tuple[Path, int | None]] = {
    REAL_H200: (REAL_H200.parent / "run.json", None),
    REAL_H200X2: (REAL_H200X2.parent / "run-tp2.json", 0),
}


def real_probe_ms(report: Path) -> int:
    results = json.loads(report.read_text())["results"]
    driver = next(result for result in results if result["id"] == "gpu.driver")
    return int(driver["evidence"]["probe_ms"])


def capture_fact(library: Path, capture: Path, workdir: Path) -> NvmlFact:
    report, p2p = CAPTURES[capture]
    env = helpers.nvml_env(library, helpers.real_scenario(capture, p2p=p2p), workdir, CUDA_VISIBLE_DEVICES=None)
    fact = probe_nvml(ProbeContext(environ=env))
    if fact["status"] != "ok":
        raise SystemExit(f"{capture}: the probe answered {fact['status']}: {fact['error']}")
    fact["duration_ms"] = real_probe_ms(report)
    return fact


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="glm5-doctor-capture-") as workdir:
        library = helpers.build_fake_nvml(Path(workdir) / "lib")
        for number, capture in enumerate(CAPTURES):
            fact: dict[str, Any] = dict(capture_fact(library, capture, Path(workdir) / f"run{number}"))
            target = capture.parent / "facts-nvml.json"
            target.write_text(json.dumps(fact, indent=2, sort_keys=True) + "\n")
            print(f"{target.relative_to(ROOT)}: {len(fact['devices'])} GPU(s), driver {fact['driver_version']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
