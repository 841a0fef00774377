"""Triton: the assembler it runs for every kernel vLLM and torch.compile generate."""

from __future__ import annotations

from glm5_doctor.checks._gpu import target_capability
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome, Report, Result
from glm5_doctor.knowledge.ptxas import BLACKWELL_ASSEMBLER_FROM, ptxas_floor
from glm5_doctor.probes.nvml import NVML
from glm5_doctor.probes.triton_ptxas import TRITON_PTXAS, TritonPtxasFact


def ptxas_variable(result: Result, report: Report) -> dict[str, str]:
    variable = result.outcome.evidence.get("variable")
    return {"PTXAS_VARIABLE": str(variable)} if variable else {}


@check(
    "triton.ptxas",
    title="Triton's ptxas knows the GPU's architecture",
    category="toolchain",
    facts=(TRITON_PTXAS, NVML),
    fix=Fix("set-triton-ptxas.sh", environment=ptxas_variable),
)
def triton_ptxas(facts: Facts, profile: Profile) -> Outcome:
    """The assembler Triton will run for this GPU is a release that can target it.

    What it checks:
        Which ptxas Triton picks, as ``triton/knobs.py`` does: ``TRITON_PTXAS_PATH`` (from Triton 3.6,
        ``TRITON_PTXAS_BLACKWELL_PATH`` for compute capability 10.0 and above) when that binary answers
        ``--version``, else the one bundled in ``triton/backends/nvidia/bin``; its ``release X.Y``
        against the first release that knows the GPU: 12.8 for sm_100 (B200), 12.9 for sm_103
        (B300, GB300), 11.8 for sm_90 (H100, H200). The GPU is the one NVML finds, else the planned one.

    Why it matters:
        Triton assembles every kernel it generates (vLLM's Triton kernels, torch.compile) with this
        binary. Triton 3.5's bundled ptxas is 12.8, so on a B300 the first compile stops with
        "ptxas fatal : Value 'sm_103a' is not defined for option 'gpu-name'", after the weights are loaded.

    How to fix:
        Point ``TRITON_PTXAS_PATH`` (``TRITON_PTXAS_BLACKWELL_PATH`` on Triton 3.6+) at the ptxas of
        a CUDA toolkit new enough for the GPU, or upgrade Triton: ``glm5-doctor fix triton.ptxas``.

    Sources:
        - triton 3.6.0 wheel: triton/knobs.py (env_nvidia_tool), triton/backends/nvidia/compiler.py (get_ptxas)
        - https://github.com/sgl-project/sglang/pull/22852 (the sm_103a workaround for B300/GB300)
        - https://github.com/triton-lang/triton/issues/10331 (bundled ptxas releases per Triton wheel)
        - https://github.com/triton-lang/triton/issues/8539 (TRITON_PTXAS_PATH as the fix)
        - https://docs.nvidia.com/cuda/parallel-thread-execution/#release-notes (targets per PTX ISA)
    """
    found: TritonPtxasFact = facts[TRITON_PTXAS]
    if found["package_dir"] is None:
        return Outcome.skipped("Triton is not installed in the target environment")
    capability, gpu = target_capability(facts, profile)
    if capability is None:
        return Outcome.skipped(f"the compute capability of {gpu} is not known here")
    tools = {tool["tool"]: tool for tool in found["tools"]}
    name = "ptxas-blackwell" if capability >= BLACKWELL_ASSEMBLER_FROM and "ptxas-blackwell" in tools else "ptxas"
    tool = tools.get(name)
    arch = f"sm_{capability[0]}{capability[1]}a"
    evidence: dict[str, object] = {
        "gpu": gpu,
        "arch": arch,
        "tool": name,
        "variable": tool["variable"] if tool else None,
        "path": tool["path"] if tool else None,
        "source": tool["source"] if tool else None,
        "release": tool["release"] if tool else None,
        "triton": found["package_dir"],
    }
    if tool is None or tool["release"] is None:
        why = tool["problem"] if tool else "no ptxas in Triton's package"
        return Outcome.failed(f"Triton has no working {name} ({why}): every Triton kernel compile would fail", evidence)
    floor = ptxas_floor(capability)
    evidence["needs"] = f"{floor[0]}.{floor[1]}" if floor else None
    release = tuple(int(part) for part in tool["release"].split("."))
    where = f"{tool['path']} ({'via ' + tool['variable'] if tool['source'] != 'bundled' else 'bundled'})"
    note = f"; {tool['problem']}" if tool["problem"] else ""
    if floor is None:
        return Outcome.skipped(f"no known ptxas floor for {arch}; Triton will use {name} {tool['release']}", evidence)
    if release < floor:
        return Outcome.failed(
            f"Triton would assemble {arch} for {gpu} with {name} {tool['release']} at {where}, which predates "
            f"{floor[0]}.{floor[1]}: \"ptxas fatal : Value '{arch}' is not defined for option 'gpu-name'\"; "
            f"set {tool['variable']} to a CUDA {floor[0]}.{floor[1]}+ ptxas{note}",
            evidence,
        )
    return Outcome.passed(f"Triton will assemble {arch} with {name} {tool['release']} at {where}{note}", evidence)
