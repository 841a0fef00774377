"""Record what a real driver's NVML answers, call by call, as JSON (fixtures for the NVML probe's tests).

    python scripts/capture_nvml.py > nvml-answers.json

Every call is made independently; an NVML error is recorded by its class name instead of
stopping the capture. Values are converted to plain JSON (ctypes structs to dicts, bytes to
str). Nothing here is used at run time; the doctor's own probe lives in ``doctor/probes``.
"""

from __future__ import annotations

import ctypes
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import pynvml


def plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, ctypes.Array):
        return [plain(item) for item in value]
    if hasattr(value, "_fields_"):
        return {name: plain(getattr(value, name)) for name, *_ in value._fields_}
    return repr(value)


def call(name: str, function: Callable[..., Any], *args: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        value = plain(function(*args))
        answer: dict[str, Any] = {"value": value}
    except pynvml.NVMLError as exc:
        answer = {"error": type(exc).__name__, "message": str(exc)}
    except Exception as exc:  # noqa: BLE001 - every oddity is a fact worth keeping
        answer = {"error": type(exc).__name__, "message": str(exc)}
    answer["ms"] = round((time.perf_counter() - started) * 1000, 3)
    answer["call"] = name
    return answer


def fabric_info(handle: Any) -> Any:
    # The struct argument is the trap the reference warns about: build it, set its version, pass it.
    info = pynvml.c_nvmlGpuFabricInfoV_t()
    info.version = pynvml.nvmlGpuFabricInfo_v2
    pynvml.nvmlDeviceGetGpuFabricInfoV(handle, ctypes.byref(info))
    return info


def fabric_info_v3(handle: Any) -> Any:
    """v3 adds healthSummary (what gpu.nvlink-multicast reads); R550-R560 drivers answer ArgumentVersionMismatch."""
    info = pynvml.c_nvmlGpuFabricInfo_v3_t()
    pynvml.nvmlDeviceGetGpuFabricInfoV(handle, ctypes.byref(info))
    return info


def fabric_info_v4(handle: Any) -> Any:
    """v4 lists the fabric cliques, multicast ones included (nvidia-ml-py declares it; which drivers export it is
    what this capture finds out)."""
    info = pynvml.c_nvmlGpuFabricInfo_v4_t()
    pynvml.nvmlDeviceGetGpuFabricInfo_v4(handle, ctypes.byref(info))
    return info


def capabilities(handle: Any) -> Any:
    caps = pynvml.c_nvmlDeviceCapabilities_v1_t()
    code = pynvml.nvmlDeviceGetCapabilities(handle, ctypes.byref(caps))
    return {"return": code, "capMask": caps.capMask}


def platform_info(handle: Any) -> Any:
    info = pynvml.c_nvmlPlatformInfo_v1_t()
    pynvml.nvmlDeviceGetPlatformInfo(handle, ctypes.byref(info))
    return info


def device(index: int, count: int) -> dict[str, Any]:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    calls = [
        ("name", pynvml.nvmlDeviceGetName, handle),
        ("uuid", pynvml.nvmlDeviceGetUUID, handle),
        ("pci_bus_id", lambda h: pynvml.nvmlDeviceGetPciInfo(h).busId, handle),
        ("memory_v1", pynvml.nvmlDeviceGetMemoryInfo, handle),
        ("memory_v2", lambda h: pynvml.nvmlDeviceGetMemoryInfo(h, version=pynvml.nvmlMemory_v2), handle),
        ("cuda_compute_capability", pynvml.nvmlDeviceGetCudaComputeCapability, handle),
        ("architecture", pynvml.nvmlDeviceGetArchitecture, handle),
        ("persistence_mode", pynvml.nvmlDeviceGetPersistenceMode, handle),
        ("mig_mode", pynvml.nvmlDeviceGetMigMode, handle),
        ("ecc_mode", pynvml.nvmlDeviceGetEccMode, handle),
        (
            "ecc_volatile_uncorrected",
            lambda h: pynvml.nvmlDeviceGetTotalEccErrors(
                h, pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, pynvml.NVML_VOLATILE_ECC
            ),
            handle,
        ),
        ("remapped_rows", pynvml.nvmlDeviceGetRemappedRows, handle),
        ("clocks_event_reasons", pynvml.nvmlDeviceGetCurrentClocksEventReasons, handle),
        ("compute_processes", pynvml.nvmlDeviceGetComputeRunningProcesses, handle),
        ("fabric_info_v", fabric_info, handle),
        ("fabric_info", pynvml.nvmlDeviceGetGpuFabricInfo, handle),
        ("fabric_info_v3", fabric_info_v3, handle),
        ("fabric_info_v4", fabric_info_v4, handle),
        ("capabilities", capabilities, handle),
        ("platform_info", platform_info, handle),
        ("power_limit_mw", pynvml.nvmlDeviceGetEnforcedPowerLimit, handle),
        ("temperature_c", lambda h: pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU), handle),
        ("serial", pynvml.nvmlDeviceGetSerial, handle),
        ("board_part_number", pynvml.nvmlDeviceGetBoardPartNumber, handle),
    ]
    answers = [call(name, function, *args) for name, function, *args in calls]
    for link in range(18):
        answers.append(call(f"nvlink_state[{link}]", pynvml.nvmlDeviceGetNvLinkState, handle, link))
    for peer in range(count):
        if peer != index:
            other = pynvml.nvmlDeviceGetHandleByIndex(peer)
            # pynvml.NVML_P2P_CAPS_INDEX_READ is the tuple (0,) and fails with ArgumentError (kept as
            # evidence of the trap); the integer index is what the call needs.
            constant = pynvml.NVML_P2P_CAPS_INDEX_READ
            answers.append(call(f"p2p_read_constant[{peer}]", pynvml.nvmlDeviceGetP2PStatus, handle, other, constant))
            answers.append(call(f"p2p_read[{peer}]", pynvml.nvmlDeviceGetP2PStatus, handle, other, 0))
            answers.append(call(f"p2p_nvlink[{peer}]", pynvml.nvmlDeviceGetP2PStatus, handle, other, 2))
            answers.append(call(f"topology[{peer}]", pynvml.nvmlDeviceGetTopologyCommonAncestor, handle, other))
    return {"index": index, "answers": answers}


def device_nodes() -> dict[str, Any]:
    """What NVLS and IMEX need from /dev, as this container sees it (gpu.nvlink-multicast, gpu.imex)."""
    import os

    try:
        with open("/proc/devices", encoding="utf-8") as handle:
            caps = [line.strip() for line in handle if "nvidia-caps" in line]
    except OSError as exc:
        caps = [f"unreadable: {exc}"]
    channels_dir = "/dev/nvidia-caps-imex-channels"
    return {
        "proc_devices_nvidia_caps": caps,
        "dev_nvidia_caps": sorted(os.listdir("/dev/nvidia-caps")) if os.path.isdir("/dev/nvidia-caps") else None,
        "imex_channels": sorted(os.listdir(channels_dir)) if os.path.isdir(channels_dir) else None,
    }


def main() -> int:
    started = time.perf_counter()
    init = call("init", pynvml.nvmlInit)
    capture: dict[str, Any] = {"nvidia_ml_py": getattr(pynvml, "__version__", None), "init": init}
    if "error" not in init:
        capture["system"] = [
            call("driver_version", pynvml.nvmlSystemGetDriverVersion),
            call("cuda_driver_version_v2", pynvml.nvmlSystemGetCudaDriverVersion_v2),
            call("nvml_version", pynvml.nvmlSystemGetNVMLVersion),
            call("device_count", pynvml.nvmlDeviceGetCount),
        ]
        count = pynvml.nvmlDeviceGetCount()
        capture["devices"] = [device(index, count) for index in range(count)]
        capture["nvlink_bw_mode"] = call("nvlink_bw_mode", pynvml.nvmlSystemGetNvlinkBwMode)
        capture["device_nodes"] = device_nodes()
        capture["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
        pynvml.nvmlShutdown()
    json.dump(capture, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
