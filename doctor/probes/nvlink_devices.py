"""The ``nvlink_devices`` fact: what NVLink multicast (NVLS) and IMEX need from ``/dev``, as this container sees it.

NCCL's NVLS and multi-node NVLink (MNNVL) allocate fabric memory: the driver's
``nvidia-caps-imex-channels`` character device must be listed in ``/proc/devices`` and an IMEX
channel node (``/dev/nvidia-caps-imex-channels/channelN``) must be accessible to the user; a
container that does not pass ``/dev/nvidia-caps*`` through cannot use them. Also the NCCL and vLLM
variables that switch these features off. ``GLM5_DOCTOR_DEVICE_ROOT`` prefixes ``/dev`` and
``/proc`` (tests build a device tree there).
"""

from __future__ import annotations

import os
from typing import TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext

ROOT_VARIABLE = "GLM5_DOCTOR_DEVICE_ROOT"
IMEX_DEVICE = "nvidia-caps-imex-channels"
SETTINGS = ("NCCL_NVLS_ENABLE", "NCCL_MNNVL_ENABLE", "NCCL_IMEX_ENABLE", "VLLM_FLASHINFER_ALLREDUCE_BACKEND")
MAX_CHANNELS = 64


class NvlinkDevicesFact(TypedDict):
    #: the major number /proc/devices gives nvidia-caps-imex-channels (None: the driver did not create it)
    imex_major: int | None
    proc_devices_readable: bool
    caps_dir: bool
    imex_channels: list[str]
    #: channels this user can open for reading and writing
    imex_channels_accessible: list[str]
    settings: dict[str, str]


NVLINK_DEVICES: FactKey[NvlinkDevicesFact] = FactKey("nvlink_devices")


def probe_nvlink_devices(context: ProbeContext) -> NvlinkDevicesFact:
    root = context.environ.get(ROOT_VARIABLE) or "/"
    major, readable = None, False
    try:
        with open(os.path.join(root, "proc", "devices"), encoding="utf-8", errors="replace") as handle:
            readable = True
            for line in handle.read(1 << 16).splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == IMEX_DEVICE and parts[0].isdigit():
                    major = int(parts[0])
    except OSError:
        pass
    channels_dir = os.path.join(root, "dev", IMEX_DEVICE)
    try:
        channels = sorted(name for name in os.listdir(channels_dir) if name.startswith("channel"))[:MAX_CHANNELS]
    except OSError:
        channels = []
    accessible = [name for name in channels if os.access(os.path.join(channels_dir, name), os.R_OK | os.W_OK)]
    return {
        "imex_major": major,
        "proc_devices_readable": readable,
        "caps_dir": os.path.isdir(os.path.join(root, "dev", "nvidia-caps")),
        "imex_channels": channels,
        "imex_channels_accessible": accessible,
        "settings": {name: context.environ[name] for name in SETTINGS if name in context.environ},
    }
