"""GPUs through NVML, surveyed in a child process with a hard timeout.

A hung driver puts an NVML caller into uninterruptible sleep
(https://github.com/NVIDIA/open-gpu-kernel-modules/issues/1333,
https://github.com/NVIDIA/gpu-monitoring-tools/issues/46):
the survey runs in ``nvml_child.py`` under ``sys.executable``, writing one event per line to a
file as it goes, and is abandoned at the deadline. The answers gathered until then are kept,
and the last step it started names what hung. Process names for the PIDs NVML reports are
looked up here with psutil (NVML gives host PIDs; inside a container they may not resolve).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

from glm5_doctor.engine import deadlines, processes
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext

#: NVML error class -> what the fact says (and the checks explain).
FATAL_STATES = {
    "NVMLError_LibraryNotFound": "library_not_found",
    "NVMLError_DriverNotLoaded": "driver_not_loaded",
    "NVMLError_LibRmVersionMismatch": "driver_library_mismatch",
    "NVMLError_NoPermission": "no_permission",
    "nvml_py_missing": "nvml_py_missing",
}


class NvmlFact(TypedDict):
    #: ok, library_not_found, driver_not_loaded, driver_library_mismatch, no_permission,
    #: nvml_py_missing, hung, error
    status: str
    error: str | None
    hung_at: str | None
    driver_version: str | None
    cuda_driver_version: int | None
    device_count: int | None
    devices: list[dict[str, Any]]
    p2p: dict[str, dict[str, Any]]
    process_names: dict[str, str | None]
    cuda_visible_devices: str | None
    duration_ms: int


NVML: FactKey[NvmlFact] = FactKey("nvml", NvmlFact)


def probe_nvml(context: ProbeContext) -> NvmlFact:
    if not library_present(context.environ):
        # No libnvidia-ml.so.1 where the dynamic loader looks: the same answer the child would give,
        # without starting it (most of a run on a machine without GPUs, such as CI).
        fact = _assemble([{"fatal": "NVMLError_LibraryNotFound"}], context.environ.get("CUDA_VISIBLE_DEVICES"))
        fact["error"] = "libnvidia-ml.so.1 is not in LD_LIBRARY_PATH, the loader cache or the default folders"
        return fact
    source = (Path(__file__).parent / "nvml_child.py").read_text(encoding="utf-8")
    started = time.monotonic()
    timeout = deadlines.nvml_s(context.environ)
    with tempfile.TemporaryDirectory(prefix="glm5-doctor-nvml-") as workdir:
        events_path = os.path.join(workdir, "events.jsonl")
        child = processes.start(
            # -S -E: no site processing and no PYTHON* variables, the fastest start; the folder
            # holding pynvml is handed over instead (half of the probe's time was Python starting).
            [sys.executable, "-S", "-E", "-c", source, events_path, _pynvml_folder()],
            env=context.environ,
            stdout=subprocess.DEVNULL,
        )
        with processes.tracked(child):
            hung, stderr_bytes = _wait(child, timeout)
        events = _read_events(events_path)
        stderr_text = stderr_bytes[-4000:].decode("utf-8", errors="replace").strip()
    fact = _assemble(events, context.environ.get("CUDA_VISIBLE_DEVICES"))
    fact["duration_ms"] = int((time.monotonic() - started) * 1000)
    if hung is not None:
        fact["status"] = "hung"
        fact["hung_at"] = next((e["step"] for e in reversed(events) if "step" in e), "starting NVML")
        fact["error"] = f"NVML did not answer within {timeout:g} s{hung}"
    elif fact["status"] == "ok" and not any("done" in event for event in events):
        fact["status"] = "error"
        fact["error"] = f"the NVML survey stopped early: {stderr_text.splitlines()[-1] if stderr_text else 'no output'}"
    return fact


LIBRARY = "libnvidia-ml.so.1"
LOADER_CACHE = "/etc/ld.so.cache"
DEFAULT_LIBRARY_DIRS = (
    "/lib",
    "/usr/lib",
    "/lib64",
    "/usr/lib64",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
)


def library_present(environ: Any) -> bool:
    """Could ``dlopen("libnvidia-ml.so.1")`` find the library? The places the loader searches, read cheaply."""
    folders = [*(environ.get("LD_LIBRARY_PATH") or "").split(":"), *DEFAULT_LIBRARY_DIRS]
    if any(folder and os.path.exists(os.path.join(folder, LIBRARY)) for folder in folders):
        return True
    try:
        with open(LOADER_CACHE, "rb") as handle:
            return LIBRARY.encode() in handle.read(16 << 20)
    except OSError:
        return True  # unsure: let the child try


def _pynvml_folder() -> str:
    """The sys.path entry that holds nvidia-ml-py's pynvml for this interpreter ("" if it is missing)."""
    spec = importlib.util.find_spec("pynvml")
    if spec is None or not spec.origin:
        return ""
    return os.path.dirname(spec.origin)


def _wait(child: subprocess.Popen[bytes], timeout: float) -> tuple[str | None, bytes]:
    """(None, stderr) when the child finished; else why it was abandoned (killed, or stuck in the driver).

    ``communicate`` returns the moment the child's pipes close; ``Popen.wait(timeout)`` would poll
    with sleeps of up to 50 ms, which is most of a fast survey.
    """
    try:
        _, stderr = child.communicate(timeout=timeout)
        return None, stderr or b""
    except subprocess.TimeoutExpired:
        processes.kill_group(child.pid)
    try:
        _, stderr = child.communicate(timeout=deadlines.REAP_S)
        return " (the survey was stopped)", stderr or b""
    except subprocess.TimeoutExpired:
        import psutil  # only here: a hung driver is rare, and psutil costs import time

        try:
            state: str = psutil.Process(child.pid).status()
        except psutil.Error:
            state = "unknown"
        if state == psutil.STATUS_DISK_SLEEP:
            return f" (process {child.pid} is stuck in uninterruptible sleep inside the driver)", b""
        return f" (process {child.pid} did not stop; state {state})", b""


def _read_events(path: str) -> list[dict[str, Any]]:
    events = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a line cut short by the kill
                if isinstance(event, dict):
                    events.append(event)
    except OSError:
        pass
    return events


def _assemble(events: list[dict[str, Any]], visible: str | None) -> NvmlFact:
    fact: NvmlFact = {
        "status": "ok",
        "error": None,
        "hung_at": None,
        "driver_version": None,
        "cuda_driver_version": None,
        "device_count": None,
        "devices": [],
        "p2p": {},
        "process_names": {},
        "cuda_visible_devices": visible,
        "duration_ms": 0,
    }
    for event in events:
        if "fatal" in event:
            fact["status"] = FATAL_STATES.get(event["fatal"], "error")
            fact["error"] = event.get("error") or event["fatal"]
        elif "system" in event:
            system = event["system"]
            fact["driver_version"] = system.get("driver_version")
            fact["cuda_driver_version"] = system.get("cuda_driver_version")
            fact["device_count"] = system.get("device_count")
        elif "device" in event:
            fact["devices"].append(event["device"])
        elif "p2p" in event:
            fact["p2p"] = event["p2p"]
    pids = {str(p["pid"]) for d in fact["devices"] for p in d.get("processes") or []}
    fact["process_names"] = {pid: _process_name(int(pid)) for pid in sorted(pids)}
    return fact


def _process_name(pid: int) -> str | None:
    try:
        import psutil
    except ImportError:
        return None
    try:
        process = psutil.Process(pid)
        return " ".join(process.cmdline()[:3]) or process.name()
    except (psutil.Error, OSError):
        return None
