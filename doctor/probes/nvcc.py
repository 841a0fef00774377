"""The ``nvcc`` fact: the CUDA compiler as DeepGEMM's JIT will find it.

nvcc is located exactly the way DeepGEMM does it (``CUDA_HOME``, then ``CUDA_PATH``, then
the folder above ``which nvcc``, then ``/usr/local/cuda``; ``DG_JIT_NVCC_COMPILER``
overrides the compiler only), because a working ``nvcc`` on PATH does not help when
``CUDA_HOME`` points somewhere else. ``nvcc --version`` runs once, with a timeout.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from typing import TypedDict

from glm5_doctor.engine import deadlines, processes
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext

NVCC_TIMEOUT_S = deadlines.NVCC_VERSION_S
DEFAULT_CUDA_HOME = "/usr/local/cuda"
RELEASE = re.compile(r"release (\d+)\.(\d+)")
OUTPUT_LIMIT = 2000


class NvccFact(TypedDict):
    cuda_home: str | None
    #: which rule chose cuda_home: "CUDA_HOME", "CUDA_PATH", "which nvcc", "/usr/local/cuda"
    cuda_home_source: str | None
    nvcc_override: str | None
    nvcc: str | None
    nvcc_exists: bool
    nvcc_on_path: str | None
    cuobjdump: str | None
    cuobjdump_exists: bool
    version_output: str | None
    release: str | None
    run_error: str | None
    #: True when nvcc itself is broken (hung, could not start, non-zero exit); False when it only
    #: printed something without a release line
    run_failed: bool


NVCC: FactKey[NvccFact] = FactKey("nvcc", NvccFact)


def probe_nvcc(context: ProbeContext) -> NvccFact:
    environ = context.environ
    on_path = shutil.which("nvcc", path=environ.get("PATH", os.defpath))
    cuda_home, source = None, None
    for variable in ("CUDA_HOME", "CUDA_PATH"):
        if environ.get(variable):
            cuda_home, source = environ[variable], variable
            break
    else:
        if on_path:
            cuda_home, source = os.path.dirname(os.path.dirname(on_path)), "which nvcc"
        elif os.path.exists(DEFAULT_CUDA_HOME):
            cuda_home, source = DEFAULT_CUDA_HOME, DEFAULT_CUDA_HOME
    override = environ.get("DG_JIT_NVCC_COMPILER") or None
    nvcc = override or (os.path.join(cuda_home, "bin", "nvcc") if cuda_home else None)
    cuobjdump = os.path.join(cuda_home, "bin", "cuobjdump") if cuda_home else None
    fact: NvccFact = {
        "cuda_home": cuda_home,
        "cuda_home_source": source,
        "nvcc_override": override,
        "nvcc": nvcc,
        "nvcc_exists": bool(nvcc and os.path.isfile(nvcc)),
        "nvcc_on_path": on_path,
        "cuobjdump": cuobjdump,
        "cuobjdump_exists": bool(cuobjdump and os.path.isfile(cuobjdump)),
        "version_output": None,
        "release": None,
        "run_error": None,
        "run_failed": False,
    }
    if nvcc and fact["nvcc_exists"]:
        _read_nvcc_version(fact, nvcc, environ)
    return fact


def _read_nvcc_version(fact: NvccFact, nvcc: str, environ: Mapping[str, str]) -> None:
    try:
        completed = processes.run_bounded([nvcc, "--version"], NVCC_TIMEOUT_S, env=environ)
    except OSError as exc:
        fact["run_error"] = f"cannot run {nvcc}: {exc.strerror or exc}"
        fact["run_failed"] = True
        return
    if completed.timed_out:
        fact["run_error"] = f"'{nvcc} --version' did not finish within {NVCC_TIMEOUT_S:g} s"
        fact["run_failed"] = True
        return
    output = (completed.stdout + completed.stderr).decode("utf-8", errors="replace").strip()
    fact["version_output"] = output[-OUTPUT_LIMIT:] or None
    match = RELEASE.search(output)
    if match:
        fact["release"] = f"{match.group(1)}.{match.group(2)}"
    if completed.returncode != 0:
        fact["run_error"] = f"'{nvcc} --version' exited with status {completed.returncode}"
        fact["run_failed"] = True
    elif not match:
        fact["run_error"] = "nvcc --version printed no 'release X.Y' line"
        fact["run_failed"] = not output
