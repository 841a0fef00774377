"""Turn the real H200 captures into snapshots: ``glm5-doctor snapshot`` with the fake NVML playing them.

    python scripts/make_real_snapshots.py

For each capture in ``tests/fixtures/real/`` (``nvml-answers.json``, what the real driver answered,
call by call) the fake libnvidia-ml.so.1 of the tests plays the answers back to the real
nvidia-ml-py, and the doctor takes a snapshot of an empty target environment (no vLLM, no torch)
for the deployment the capture was judged at. The NVML facts are the real machine's; the host
facts are those of the machine that runs this script. The tests (``tests/e2e/test_snapshot.py``)
replay the snapshots and compare them with a live run against the same capture.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import REAL_H200, REAL_H200X2, build_fake_nvml, make_env, nvml_env, real_scenario, run_doctor  # noqa: E402

#: capture -> (the snapshot file written beside it, the scenario's P2P status, deployment flags)
CAPTURES = {
    REAL_H200: ("snapshot.json", None, ()),
    REAL_H200X2: ("snapshot-tp2.json", 0, ("--tp", "2")),
}


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="glm5-doctor-real-snapshots-"))
    try:
        library = build_fake_nvml(work / "nvml-lib")
        target = make_env(work / "venv")
        for capture, (name, p2p, flags) in CAPTURES.items():
            env = nvml_env(library, real_scenario(capture, p2p=p2p), work / "nvml")
            completed = run_doctor("snapshot", "--python", str(target.python), *flags, env=env)
            if completed.returncode != 0:
                print(completed.stderr, file=sys.stderr)
                return completed.returncode
            document = json.loads(completed.stdout)
            output = capture.parent / name
            output.write_text(json.dumps(document, indent=2) + "\n")
            print(f"{output.relative_to(ROOT)}: {document['target'].get('gpus')}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
