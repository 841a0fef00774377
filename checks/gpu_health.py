"""GPU health from NVML: MIG, ECC and row remapping, persistence mode, clock slowdowns."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._fixes import first_gpu
from glm5_doctor.checks._gpu import gpus, label
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.nvml import NVML


@check(
    "gpu.ecc",
    title="ECC is on and no GPU has uncorrected errors or pending row remaps",
    category="gpu",
    facts=(NVML,),
    requires=("gpu.driver",),
    fix=Fix("reset-gpu.sh", environment=first_gpu),
)
def gpu_ecc(facts: Facts, profile: Profile) -> Outcome:
    """Memory health per GPU: volatile uncorrected ECC errors, pending row remaps, remap failures.

    What it checks:
        ``nvmlDeviceGetTotalEccErrors`` (uncorrected, volatile) must be 0; ``nvmlDeviceGetRemappedRows``
        must show no pending remap (needs a GPU reset) and no remap failure (needs service). ECC off
        is a warning.

    Why it matters:
        A GPU with uncorrected errors or a pending remap corrupts or crashes a multi-hour serving job
        (Xid 48/63/64); with TP=8 one bad GPU takes the whole engine down.

    How to fix:
        Drain the GPU and reset it (``nvidia-smi -r -i N``) so pending remaps apply; a remap failure or
        recurring errors mean the GPU needs replacement: ``glm5-doctor fix gpu.ecc``.

    Sources:
        - https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceQueries.html (ECC counts, remapped rows)
        - https://docs.nvidia.com/deploy/a100-gpu-mem-error-mgmt/index.html
    """
    found = gpus(facts, profile)
    problems, warnings = [], []
    evidence: dict[str, object] = {}
    for device in found.group:
        name = label(device)
        errors = device.get("ecc_volatile_uncorrected")
        rows = device.get("remapped_rows")
        mode = device.get("ecc_mode")
        evidence[name] = {"ecc_mode": mode, "uncorrected_volatile": errors, "remapped_rows": rows}
        if errors:
            problems.append(f"{name}: {errors} uncorrected ECC error(s) since the last reset")
        if rows and len(rows) == 4:
            if rows[3]:
                problems.append(f"{name}: row remapping failed (the GPU needs service)")
            elif rows[2]:
                problems.append(f"{name}: a row remap is pending (reset the GPU)")
        if mode and mode[0] == 0:
            warnings.append(f"{name}: ECC is off")
    if problems:
        return Outcome.failed("; ".join(problems), evidence)
    if warnings:
        return Outcome.warned("; ".join(warnings), evidence)
    return Outcome.passed(f"no uncorrected ECC errors or pending remaps on {len(found.group)} GPUs", evidence)


@check(
    "gpu.mig",
    title="MIG is off on the GPUs vLLM will use",
    category="gpu",
    facts=(NVML,),
    requires=("gpu.driver",),
    fix="disable-mig.sh",
)
def gpu_mig(facts: Facts, profile: Profile) -> Outcome:
    """Multi-Instance GPU mode is disabled (current and pending) on every GPU of the group.

    What it checks:
        ``nvmlDeviceGetMigMode``: current mode on fails, a pending change (applies at the next GPU
        reset) warns. GPUs without MIG support pass.

    Why it matters:
        With MIG on, CUDA sees slices, not GPUs: the memory and SMs GLM-5 needs are not there, and
        tensor parallelism across MIG instances is not supported.

    How to fix:
        ``nvidia-smi -i N -mig 0`` and a GPU reset, with nothing running: ``glm5-doctor fix gpu.mig``.

    Sources:
        - https://docs.nvidia.com/deploy/nvml-api/group__nvmlMultiInstanceGPU.html (nvmlDeviceGetMigMode)
        - https://docs.nvidia.com/datacenter/tesla/mig-user-guide/
    """
    found = gpus(facts, profile)
    modes = {label(d): d.get("mig_mode") for d in found.group}
    on = [name for name, mode in modes.items() if mode and mode[0] == 1]
    pending = [name for name, mode in modes.items() if mode and mode[0] == 0 and mode[1] == 1]
    evidence: dict[str, object] = {"mig_mode": modes}
    if on:
        return Outcome.failed(f"MIG is enabled on {', '.join(on)}: vLLM needs whole GPUs", evidence)
    if pending:
        return Outcome.warned(f"MIG will be enabled at the next reset of {', '.join(pending)}", evidence)
    return Outcome.passed(f"MIG off (or not supported) on all {len(found.group)} GPUs", evidence)


@check(
    "gpu.persistence",
    title="Persistence mode is on",
    category="gpu",
    facts=(NVML,),
    requires=("gpu.driver",),
    fix="enable-persistence-mode.sh",
)
def gpu_persistence(facts: Facts, profile: Profile) -> Outcome:
    """``nvmlDeviceGetPersistenceMode`` is 1 on every GPU of the group; off is a warning.

    What it checks:
        Persistence mode per GPU.

    Why it matters:
        Without it the driver tears GPU state down whenever no process holds the device: every CUDA
        start (each of vLLM's eight workers) pays seconds of re-initialisation, and ECC/remap state
        handling is delayed.

    How to fix:
        Run ``nvidia-persistenced`` (or ``nvidia-smi -pm 1``): ``glm5-doctor fix gpu.persistence``.

    Sources:
        - https://docs.nvidia.com/deploy/driver-persistence/index.html
        - https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceQueries.html (nvmlDeviceGetPersistenceMode)
    """
    found = gpus(facts, profile)
    off = [label(d) for d in found.group if d.get("persistence_mode") == 0]
    evidence: dict[str, object] = {label(d): d.get("persistence_mode") for d in found.group}
    if off:
        return Outcome.warned(
            f"persistence mode is off on {', '.join(off)}: slower CUDA start for every worker", evidence
        )
    return Outcome.passed(f"persistence mode on (or not reported) on {len(found.group)} GPUs", evidence)


@check(
    "gpu.throttle",
    title="No thermal or power-brake clock slowdown",
    category="gpu",
    facts=(NVML,),
    requires=("gpu.driver",),
    fix="choose-gpus.sh",
)
def gpu_throttle(facts: Facts, profile: Profile) -> Outcome:
    """``nvmlDeviceGetCurrentClocksEventReasons``: HW/SW thermal, HW slowdown or power brake is a warning.

    What it checks:
        The clock-event reason bits of every GPU of the group; idle and application-clock bits are
        normal and ignored.

    Why it matters:
        A thermally throttled or power-braked GPU in a TP group slows every token, since all eight
        ranks wait for the slowest.

    How to fix:
        Check cooling, power capping and the BMC's power-brake signal; nothing to change in software.

    Sources:
        - https://docs.nvidia.com/deploy/nvml-api/group__nvmlClocksEventReasons.html (clock event reason bits)
    """
    found = gpus(facts, profile)
    slow = {}
    for device in found.group:
        reasons = device.get("clocks_event_reasons") or 0
        named = [text for bit, text in knowledge.THROTTLE_BITS.items() if reasons & bit]
        if named:
            slow[label(device)] = named
    evidence: dict[str, object] = {label(d): d.get("clocks_event_reasons") for d in found.group}
    if slow:
        return Outcome.warned("clock slowdown: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in slow.items()), evidence)
    return Outcome.passed(f"no thermal or power-brake slowdown on {len(found.group)} GPUs", evidence)
