"""``run --deep``: compile a tiny kernel the way DeepGEMM's JIT will, to prove nvcc + headers work.

Same nvcc (found as DeepGEMM finds it), same single ``-I<deep_gemm>/include``, same C++
standard (DeepGEMM's JIT default, C++20), an arch flag for the target GPU. Runs in a fresh
temporary directory that is removed afterwards; nothing else on the machine changes.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import TypedDict

from glm5_doctor.engine import deadlines, processes
from glm5_doctor.engine.facts import FactKey, parse_version
from glm5_doctor.knowledge.cuda_devices import visible_devices
from glm5_doctor.knowledge.deepgemm import copy_vllm_uses
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.deep_gemm import probe_deep_gemm
from glm5_doctor.probes.distributions import DistributionsFact, probe_distributions
from glm5_doctor.probes.nvcc import probe_nvcc
from glm5_doctor.probes.nvml import probe_nvml

OUTPUT_LIMIT = 4000
KERNEL = """\
// glm5-doctor compile probe: the headers DeepGEMM's MQA-logits kernels start from.
#include <cutlass/arch/barrier.h>
#include <cute/arch/cluster_sm90.hpp>

__global__ void glm5_doctor_probe(int* out) {
    if (threadIdx.x == 0) {
        *out = static_cast<int>(cute::block_rank_in_cluster());
    }
}
"""


class CompileFact(TypedDict):
    ran: bool
    reason: str | None
    nvcc: str | None
    arch: str | None
    include_dir: str | None
    command: list[str]
    returncode: int | None
    produced_object: bool
    first_error: str | None
    output: str | None
    duration_ms: int | None


COMPILE: FactKey[CompileFact] = FactKey("compile", CompileFact)


def probe_compile(context: ProbeContext) -> CompileFact:
    fact: CompileFact = {
        "ran": False,
        "reason": None,
        "nvcc": None,
        "arch": context.gpu_arch,
        "include_dir": None,
        "command": [],
        "returncode": None,
        "produced_object": False,
        "first_error": None,
        "output": None,
        "duration_ms": None,
    }
    if not context.deep:
        fact["reason"] = "not asked for (run with --deep)"
        return fact
    nvcc = context.shared("nvcc", probe_nvcc)
    if not nvcc["nvcc"] or not nvcc["nvcc_exists"]:
        fact["reason"] = "no nvcc where DeepGEMM looks (see cuda.nvcc)"
        return fact
    distributions: DistributionsFact = context.shared("distributions", probe_distributions)
    vllm = distributions["by_name"].get("vllm", [])
    copy = copy_vllm_uses(
        parse_version(vllm[0]["version"]) if vllm else None, context.shared("deep_gemm", probe_deep_gemm)
    )
    if copy is None:
        fact["reason"] = "no DeepGEMM copy to take headers from (see deepgemm.installed)"
        return fact
    arch = context.gpu_arch or _detected_arch(context)
    fact["arch"] = arch
    if not arch:
        fact["reason"] = "no target GPU architecture known (no GPU found; name one with --gpu)"
        return fact
    fact["nvcc"], fact["include_dir"] = nvcc["nvcc"], copy["include_dir"]
    with tempfile.TemporaryDirectory(prefix="glm5-doctor-compile-") as workdir:
        source = os.path.join(workdir, "probe.cu")
        target = os.path.join(workdir, "probe.cubin")
        with open(source, "w", encoding="utf-8") as handle:
            handle.write(KERNEL)
        command = [
            nvcc["nvcc"],
            "-std=c++20",
            f"-arch={arch}",
            "-cubin",
            "-O1",
            f"-I{copy['include_dir']}",
            source,
            "-o",
            target,
        ]
        fact["command"] = command
        started = time.monotonic()
        timeout = deadlines.compile_s(context.environ)
        try:
            completed = processes.run_bounded(command, timeout, env=context.environ, cwd=workdir)
        except OSError as exc:
            fact["ran"], fact["first_error"] = True, f"cannot run nvcc: {exc.strerror or exc}"
            return fact
        if completed.timed_out:
            fact["ran"], fact["first_error"] = True, f"nvcc did not finish within {timeout:g} s"
            return fact
        output = (completed.stdout + completed.stderr).decode("utf-8", errors="replace")
        fact["ran"] = True
        fact["returncode"] = completed.returncode
        fact["produced_object"] = os.path.isfile(target) and os.path.getsize(target) > 0
        fact["output"] = output[-OUTPUT_LIMIT:] or None
        fact["first_error"] = first_error_line(output)
        fact["duration_ms"] = int((time.monotonic() - started) * 1000)
    return fact


def _detected_arch(context: ProbeContext) -> str | None:
    """The arch flag of the first GPU CUDA will see, from the shared NVML survey."""
    nvml = context.shared("nvml", probe_nvml)
    if nvml["status"] != "ok":
        return None
    visible = visible_devices(nvml["devices"], nvml["cuda_visible_devices"]).devices
    capabilities = [tuple(d["compute_capability"]) for d in visible if d.get("compute_capability")]
    if not capabilities:
        return None
    major, minor = min(capabilities)
    return f"sm_{major}{minor}a"


def first_error_line(output: str) -> str | None:
    """The first line nvcc or the host compiler marked as an error, else the first line at all."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return line
    return lines[0] if lines else None
