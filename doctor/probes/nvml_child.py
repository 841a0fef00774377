"""Survey every GPU through NVML, in a child process; one JSON event per line into a file.

Run by ``doctor/probes/nvml.py`` as ``python -c <this source> EVENTS_FILE``: standalone (nvidia-ml-py
and the standard library only), because an NVML call can block forever inside the driver and
only a separate process can be abandoned. Events are written and flushed as they happen, so when
the parent gives up it still has every GPU answered so far and the call that hung:
``{"step": ...}`` before each call, ``{"device": {...}}`` per GPU, ``{"p2p": {...}}``, ``{"done": ...}``.
Every call is made separately; an NVML error becomes its class name, never an exception.
"""

import ctypes
import json
import sys
import time
from collections.abc import Callable
from typing import Any

P2P_READ = 0  # the int: pynvml.NVML_P2P_CAPS_INDEX_READ is the tuple (0,) and breaks ctypes
P2P_NVLINK = 2
MAX_LINKS = 18
ECC_UNCORRECTED = 1
ECC_VOLATILE = 0
VERSION_MISMATCH = 25  # NVML_ERROR_ARGUMENT_VERSION_MISMATCH: the driver predates the struct version


class Events:
    """Appends one JSON object per line and flushes at once: the parent may kill us at any moment."""

    def __init__(self, path: str) -> None:
        self.path = path

    def emit(self, **event: Any) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")


def plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return repr(value)


def main(path: str) -> int:
    events = Events(path)
    started = time.monotonic()
    try:
        import pynvml
    except ImportError as exc:
        events.emit(fatal="nvml_py_missing", error=str(exc))
        return 0

    def call(step: str, function: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
        events.emit(step=step)
        try:
            return plain(function(*args)), None
        except pynvml.NVMLError as exc:
            return None, type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - e.g. NVMLLibraryMismatchError, ctypes.ArgumentError
            return None, f"{type(exc).__name__}: {exc}"

    _, error = call("nvmlInit", pynvml.nvmlInit)
    if error:
        events.emit(fatal=error)
        return 0
    system = {}
    errors = {}
    for key, function in (
        ("driver_version", pynvml.nvmlSystemGetDriverVersion),
        ("cuda_driver_version", pynvml.nvmlSystemGetCudaDriverVersion_v2),
        ("nvml_version", pynvml.nvmlSystemGetNVMLVersion),
        ("device_count", pynvml.nvmlDeviceGetCount),
    ):
        system[key], failure = call(key, function)
        if failure:
            errors[key] = failure
    events.emit(system=system, errors=errors)
    handles = {}
    for index in range(system.get("device_count") or 0):
        events.emit(step=f"device {index}: nvmlDeviceGetHandleByIndex")
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)  # the raw handle: never through plain()
        except Exception as exc:  # noqa: BLE001 - a GPU that cannot be opened is reported, the rest go on
            events.emit(device={"index": index, "errors": {"handle": type(exc).__name__}})
            continue
        handles[index] = handle
        events.emit(device=survey(index, handle, pynvml, call))
    pairs = {}
    for first, first_handle in handles.items():
        for second, second_handle in handles.items():
            if first != second:
                key = f"{first}-{second}"
                read, read_error = call(
                    f"p2p {key}: read", pynvml.nvmlDeviceGetP2PStatus, first_handle, second_handle, P2P_READ
                )
                nvlink, nvlink_error = call(
                    f"p2p {key}: nvlink", pynvml.nvmlDeviceGetP2PStatus, first_handle, second_handle, P2P_NVLINK
                )
                pairs[key] = {
                    "read": read,
                    "nvlink": nvlink,
                    "errors": {
                        name: value for name, value in (("read", read_error), ("nvlink", nvlink_error)) if value
                    },
                }
    events.emit(p2p=pairs)
    call("nvmlShutdown", pynvml.nvmlShutdown)
    events.emit(done=int((time.monotonic() - started) * 1000))
    return 0


def survey(index: int, handle: Any, pynvml: Any, call: Callable[..., tuple[Any, str | None]]) -> dict[str, Any]:
    device: dict[str, Any] = {"index": index, "errors": {}}
    prefix = f"device {index}: "

    def ask(key: str, function: Callable[..., Any], *args: Any) -> Any:
        value, failure = call(prefix + key, function, *args)
        if failure:
            device["errors"][key] = failure
        return value

    device["name"] = ask("name", pynvml.nvmlDeviceGetName, handle)
    device["uuid"] = ask("uuid", pynvml.nvmlDeviceGetUUID, handle)
    device["pci_bus_id"] = ask("pci_bus_id", lambda h: pynvml.nvmlDeviceGetPciInfo(h).busId, handle)
    device["memory"] = ask("memory", memory_info, handle)
    device["compute_capability"] = ask("compute_capability", pynvml.nvmlDeviceGetCudaComputeCapability, handle)
    device["persistence_mode"] = ask("persistence_mode", pynvml.nvmlDeviceGetPersistenceMode, handle)
    device["mig_mode"] = ask("mig_mode", pynvml.nvmlDeviceGetMigMode, handle)
    device["ecc_mode"] = ask("ecc_mode", pynvml.nvmlDeviceGetEccMode, handle)
    device["ecc_volatile_uncorrected"] = ask(
        "ecc_volatile_uncorrected", pynvml.nvmlDeviceGetTotalEccErrors, handle, ECC_UNCORRECTED, ECC_VOLATILE
    )
    device["remapped_rows"] = ask("remapped_rows", pynvml.nvmlDeviceGetRemappedRows, handle)
    device["clocks_event_reasons"] = ask("clocks_event_reasons", pynvml.nvmlDeviceGetCurrentClocksEventReasons, handle)
    device["processes"] = ask("processes", compute_processes, handle)
    device["fabric"] = ask("fabric", fabric_info, handle)
    links = []
    for link in range(MAX_LINKS):
        state, failure = call(prefix + f"nvlink {link}", pynvml.nvmlDeviceGetNvLinkState, handle, link)
        if failure:
            if link == 0:
                device["errors"]["nvlink"] = failure
            break
        links.append(state)
    device["nvlink_active"] = sum(1 for state in links if state) if links else None
    device["nvlink_links"] = len(links)
    return device


def memory_info(handle: Any) -> dict[str, int]:
    """total/reserved/free/used bytes; v2 separates the driver's reserved memory (v1 counts it as used)."""
    import pynvml

    try:
        raw = pynvml.nvmlDeviceGetMemoryInfo(handle, version=pynvml.nvmlMemory_v2)
        return {"total": raw.total, "reserved": raw.reserved, "free": raw.free, "used": raw.used}
    except pynvml.NVMLError_FunctionNotFound:
        raw = pynvml.nvmlDeviceGetMemoryInfo(handle)
        return {"total": raw.total, "reserved": 0, "free": raw.free, "used": raw.used}


def compute_processes(handle: Any) -> list[dict[str, Any]]:
    import pynvml

    return [
        {"pid": item.pid, "used_memory": item.usedGpuMemory}
        for item in pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
    ]


def fabric_info(handle: Any) -> dict[str, Any]:
    """The v3 struct (adds the health summary) where the driver knows it, else v2 (R550-R560 drivers).

    ``cluster_uuid_set``: a non-zero cluster UUID, which multi-node NVLink (GB200 NVL72) fabrics report.
    """
    import pynvml

    for name in ("c_nvmlGpuFabricInfo_v3_t", "c_nvmlGpuFabricInfoV_t"):
        structure = getattr(pynvml, name, None)
        if structure is None:
            continue
        info = structure()
        try:
            pynvml.nvmlDeviceGetGpuFabricInfoV(handle, ctypes.byref(info))
        except pynvml.NVMLError as exc:
            if exc.value == VERSION_MISMATCH and name != "c_nvmlGpuFabricInfoV_t":
                continue
            raise
        return {
            "state": int(info.state),
            "status": int(info.status),
            "health_mask": int(info.healthMask),
            "health_summary": int(info.healthSummary) if hasattr(info, "healthSummary") else None,
            "clique_id": int(info.cliqueId),
            "cluster_uuid_set": any(int(byte) for byte in info.clusterUuid),
        }
    raise RuntimeError("nvidia-ml-py lacks the fabric info structures")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2]:
        sys.path.insert(0, sys.argv[2])  # started with -S: where pynvml lives, from the parent
    sys.exit(main(sys.argv[1]))
