"""What the GPU checks share: the NVML fact, the GPUs CUDA will see, the tensor-parallel group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glm5_doctor import knowledge
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.facts import Facts
from glm5_doctor.knowledge.cuda_devices import visible_devices
from glm5_doctor.probes.nvml import NVML, NvmlFact

GIB = 1 << 30


@dataclass(frozen=True)
class Gpus:
    nvml: NvmlFact
    visible: list[dict[str, Any]]
    visibility_problem: str | None
    #: the GPUs vLLM will take: the first TP x PP visible ones
    group: list[dict[str, Any]]
    needed: int


def gpus(facts: Facts, profile: Profile) -> Gpus:
    nvml: NvmlFact = facts[NVML]
    visible = visible_devices(nvml["devices"], nvml["cuda_visible_devices"])
    needed = profile.tensor_parallel_size * profile.pipeline_parallel_size
    return Gpus(nvml, visible.devices, visible.problem, visible.devices[:needed], needed)


def label(device: dict[str, Any]) -> str:
    return f"GPU {device.get('index')} ({device.get('name') or 'unknown'})"


def cuda_total_gib(device: dict[str, Any]) -> float | None:
    """What CUDA sees: NVML total minus the driver's reserved memory (measured equal on H200)."""
    memory = device.get("memory")
    if not memory:
        return None
    return float(memory["total"] - (memory.get("reserved") or 0)) / GIB


def capability(device: dict[str, Any]) -> tuple[int, int] | None:
    value = device.get("compute_capability")
    return (int(value[0]), int(value[1])) if isinstance(value, list) and len(value) == 2 else None


def target_capability(facts: Facts, profile: Profile) -> tuple[tuple[int, int] | None, str]:
    """The GPU the toolchain must target: the GPUs NVML sees when it answered, else the profile's."""
    nvml = facts.get(NVML)
    if profile.detect_gpu and isinstance(nvml, dict) and nvml.get("status") == "ok":
        visible = visible_devices(nvml.get("devices") or [], nvml.get("cuda_visible_devices")).devices
        found = [(cap, device) for device in visible if (cap := capability(device))]
        if found:
            # the oldest GPU of the node is what every kernel must run on; name that one
            lowest, device = min(found, key=lambda pair: pair[0])
            return lowest, f"{device.get('name') or 'GPU'} (detected)"
    return knowledge.GPU_COMPUTE_CAPABILITY.get(profile.gpu.upper()), profile.gpu


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None
