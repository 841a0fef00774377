"""NVLink multicast (NVLS) and multi-node NVLink (IMEX channels): usable here, or switched off."""

from __future__ import annotations

from glm5_doctor.checks._gpu import gpus, label
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.nvlink_devices import NVLINK_DEVICES, NvlinkDevicesFact
from glm5_doctor.probes.nvml import NVML

FABRIC_COMPLETED = 3
#: nvmlGpuFabricInfo_v3_t healthSummary: 1 healthy, 2 unhealthy, 3 limited capacity
UNHEALTHY_SUMMARIES = {2: "UNHEALTHY", 3: "LIMITED_CAPACITY"}
NVLS_ERROR = "Failed to bind NVLink SHARP (NVLS) Multicast memory ... CUDA error 401"


@check(
    "gpu.nvlink-multicast",
    title="NVLink multicast (NVLS) is usable, or switched off",
    category="gpu",
    facts=(NVML, NVLINK_DEVICES),
    fix="disable-nvlink-features.sh",
)
def gpu_nvlink_multicast(facts: Facts, profile: Profile) -> Outcome:
    """On NVSwitch systems NCCL uses NVLink SHARP multicast: the fabric must be healthy and reachable.

    What it checks:
        For a tensor-parallel group of two or more GPUs on a trained NVSwitch fabric (state
        COMPLETED): the fabric's health summary (``nvmlDeviceGetGpuFabricInfoV`` v3) is not
        UNHEALTHY or LIMITED_CAPACITY, and the container sees ``/dev/nvidia-caps``. Skipped without
        an NVSwitch fabric; passes when ``NCCL_NVLS_ENABLE=0`` switches NVLS off.

    Why it matters:
        NCCL turns NVLS on whenever the fabric reports multicast, even when binding multicast memory
        then fails: "NCCL WARN Cuda failure 401 'the operation cannot be performed in the present
        state'" in ``transport/nvls.cc`` at communicator set-up, after the weights are loaded.
        Containers without ``/dev/nvidia-caps`` fail the same way ("Cuda failure 1 'invalid argument'").

    How to fix:
        Repair the fabric (restart Fabric Manager; power-cycle if it persists), pass the device nodes
        through, or start vLLM with ``NCCL_NVLS_ENABLE=0`` (slower all-reduce, but it works):
        ``glm5-doctor fix gpu.nvlink-multicast``.

    Sources:
        - https://github.com/NVIDIA/nccl/issues/1788 (Cuda failure 401 in nvls.cc; NCCL_NVLS_ENABLE=0)
        - https://github.com/pytorch/pytorch/pull/177472 ; https://github.com/pytorch/ao/pull/3841
        - https://github.com/pie-project/pie/issues/500 (no /dev/nvidia-caps in the container)
        - https://docs.nvidia.com/deploy/nvml-api/structnvmlGpuFabricInfo__v3__t.html (healthSummary)
        - https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html (NCCL_NVLS_ENABLE)
    """
    devices: NvlinkDevicesFact = facts[NVLINK_DEVICES]
    found = gpus(facts, profile)
    group = found.group
    evidence: dict[str, object] = {
        "fabric": {label(d): d.get("fabric") for d in group},
        "caps_dir": devices["caps_dir"],
        "settings": devices["settings"],
    }
    if found.nvml["status"] != "ok":
        return Outcome.skipped("NVML did not answer (see gpu.driver)", evidence)
    if len(group) < 2:
        return Outcome.skipped(f"{len(group)} GPU in the group: NCCL has nothing to multicast", evidence)
    if devices["settings"].get("NCCL_NVLS_ENABLE") == "0":
        return Outcome.passed("NCCL_NVLS_ENABLE=0: NCCL will not use NVLink multicast", evidence)
    fabrics = [d.get("fabric") or {} for d in group]
    if not all(f.get("state") == FABRIC_COMPLETED for f in fabrics):
        return Outcome.skipped(
            "no trained NVSwitch fabric on every GPU: NCCL does not use NVLS (see gpu.fabric)", evidence
        )
    unhealthy = [
        f"{label(d)} {UNHEALTHY_SUMMARIES[summary]}"
        for d in group
        if (summary := (d.get("fabric") or {}).get("health_summary")) in UNHEALTHY_SUMMARIES
    ]
    if unhealthy:
        return Outcome.warned(
            f"the NVLink fabric reports {', '.join(unhealthy[:3])}: NCCL may fail binding multicast memory "
            f'("{NVLS_ERROR}"); repair the fabric or set NCCL_NVLS_ENABLE=0',
            evidence,
        )
    if not devices["caps_dir"]:
        return Outcome.warned(
            "this container has no /dev/nvidia-caps: NCCL's NVLink multicast set-up fails here (\"Cuda failure 1 "
            "'invalid argument'\" in nvls.cc); pass the device nodes through or set NCCL_NVLS_ENABLE=0",
            evidence,
        )
    return Outcome.passed(f"fabric healthy on {len(group)} GPUs and /dev/nvidia-caps visible", evidence)


@check(
    "gpu.imex",
    title="IMEX channels for multi-node NVLink are visible to this user",
    category="gpu",
    facts=(NVML, NVLINK_DEVICES),
    fix="disable-nvlink-features.sh",
)
def gpu_imex(facts: Facts, profile: Profile) -> Outcome:
    """On multi-node NVLink (GB200/GB300 NVL72) NCCL's MNNVL needs an IMEX channel the user can open.

    What it checks:
        Where the GPUs belong to a multi-node NVLink domain (fabric COMPLETED with a non-zero cluster
        UUID): ``/proc/devices`` lists ``nvidia-caps-imex-channels`` and at least one
        ``/dev/nvidia-caps-imex-channels/channelN`` exists and is readable and writable here. Skipped
        elsewhere; passes when ``NCCL_MNNVL_ENABLE=0`` switches MNNVL off.

    Why it matters:
        Without a channel, fabric memory cannot be shared: NCCL reports "MNNVL ... available but not
        working ... Check the IMEX channel configuration (/dev/nvidia-caps-imex-channels)", and
        cuMemCreate with fabric handles fails with CUDA_ERROR_NOT_PERMITTED.

    How to fix:
        Create the channel (``mknod /dev/nvidia-caps-imex-channels/channel0 c <major> 0``, the major
        from /proc/devices), pass it into the container (``NVIDIA_IMEX_CHANNELS``), or set
        ``NCCL_MNNVL_ENABLE=0``: ``glm5-doctor fix gpu.imex``.

    Sources:
        - https://github.com/NVIDIA/nccl/issues/1925 (NCCL in a container without privileges)
        - https://github.com/NVIDIA/nvidia-modprobe/issues/9 (creating IMEX channels with mknod)
        - https://github.com/microsoft/mscclpp/issues/467 (the CUDA driver API's IMEX channel requirement)
        - https://docs.nvidia.com/cuda/cuda-driver-api/group__CUDA__VA.html (CU_MEM_HANDLE_TYPE_FABRIC)
    """
    devices: NvlinkDevicesFact = facts[NVLINK_DEVICES]
    found = gpus(facts, profile)
    group = found.group
    evidence: dict[str, object] = {
        "imex_major": devices["imex_major"],
        "imex_channels": devices["imex_channels"],
        "imex_channels_accessible": devices["imex_channels_accessible"],
        "settings": devices["settings"],
    }
    if found.nvml["status"] != "ok":
        return Outcome.skipped("NVML did not answer (see gpu.driver)", evidence)
    multi_node = [
        d
        for d in group
        if (d.get("fabric") or {}).get("state") == FABRIC_COMPLETED and (d.get("fabric") or {}).get("cluster_uuid_set")
    ]
    if not multi_node:
        return Outcome.skipped("no multi-node NVLink domain (no fabric cluster UUID): IMEX is not used", evidence)
    if devices["settings"].get("NCCL_MNNVL_ENABLE") == "0":
        return Outcome.passed("NCCL_MNNVL_ENABLE=0: NCCL will not use multi-node NVLink", evidence)
    if devices["imex_major"] is None and devices["proc_devices_readable"]:
        problem = "the driver lists no nvidia-caps-imex-channels device in /proc/devices"
    elif not devices["imex_channels"]:
        problem = "no /dev/nvidia-caps-imex-channels/channel* is visible in this container"
    elif not devices["imex_channels_accessible"]:
        problem = f"{', '.join(devices['imex_channels'][:3])} exist but this user cannot open them"
    else:
        return Outcome.passed(
            f"{len(multi_node)} GPUs in a multi-node NVLink domain; IMEX channel(s) "
            f"{', '.join(devices['imex_channels_accessible'][:3])} usable",
            evidence,
        )
    return Outcome.warned(
        f'{len(multi_node)} GPUs are in a multi-node NVLink domain, but {problem}: NCCL reports "MNNVL ... '
        'available but not working ... Check the IMEX channel configuration"; create/pass an IMEX channel '
        "or set NCCL_MNNVL_ENABLE=0",
        evidence,
    )
