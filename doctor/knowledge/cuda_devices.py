"""Which NVML devices a CUDA program will see, from ``CUDA_VISIBLE_DEVICES``. Pure.

CUDA reads the list left to right and stops at the first entry it cannot resolve; entries are
indices or (unique prefixes of) ``GPU-`` UUIDs; unset means every GPU, empty means none. NVML
enumerates in PCI bus order, which is also CUDA's order when ``CUDA_DEVICE_ORDER=PCI_BUS_ID``
and, on the identical GPUs of an HGX board, its default "fastest first" order in practice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

INDEX = re.compile(r"-?[0-9]{1,9}")


@dataclass(frozen=True)
class Visible:
    devices: list[dict[str, Any]]
    #: why the list was cut short (an entry CUDA cannot resolve), or None
    problem: str | None


def visible_devices(devices: list[dict[str, Any]], cuda_visible_devices: str | None) -> Visible:
    if cuda_visible_devices is None:
        return Visible(list(devices), None)
    chosen: list[dict[str, Any]] = []
    for raw in cuda_visible_devices.split(","):
        token = raw.strip()
        if not token:
            break
        if INDEX.fullmatch(token):  # ASCII digits only: "²" is a digit to str.isdigit, not to CUDA
            index = int(token)
            match = next((d for d in devices if d.get("index") == index), None) if index >= 0 else None
        elif token.startswith("GPU-"):
            candidates = [d for d in devices if str(d.get("uuid") or "").startswith(token)]
            match = candidates[0] if len(candidates) == 1 else None
        else:
            match = None
        if match is None or match in chosen:
            return Visible(
                chosen,
                f"CUDA_VISIBLE_DEVICES entry {token[:40]!r} matches no GPU, so CUDA ignores it and everything after it",
            )
        chosen.append(match)
    return Visible(chosen, None)
