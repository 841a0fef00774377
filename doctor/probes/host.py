"""The host around the GPUs: shared memory, container, RAM, the port, file limits, Hub settings."""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import socket
from typing import Any, TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext


class HostFact(TypedDict):
    shm_total_bytes: int | None
    container: str | None
    memory_total_bytes: int | None
    memory_available_bytes: int | None
    port: int
    bind_host: str
    port_free: bool | None
    port_error: str | None
    port_holders: list[dict[str, Any]]
    nofile_soft: int | None
    nofile_hard: int | None
    hf_hub_offline: bool
    hf_token_set: bool
    vllm_attention_backend: str | None


HOST: FactKey[HostFact] = FactKey("host", HostFact)


def probe_host(context: ProbeContext) -> HostFact:
    environ = context.environ
    profile = context.profile
    serve = profile.serve if profile else None
    port = profile.port if profile else 8000
    bind_host = serve.host if serve and serve.host else "0.0.0.0"
    fact: HostFact = {
        "shm_total_bytes": _shm(),
        "container": _container(environ),
        "memory_total_bytes": None,
        "memory_available_bytes": None,
        "port": port,
        "bind_host": bind_host,
        "port_free": None,
        "port_error": None,
        "port_holders": [],
        "nofile_soft": None,
        "nofile_hard": None,
        "hf_hub_offline": environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"),
        "hf_token_set": bool(environ.get("HF_TOKEN") or environ.get("HUGGING_FACE_HUB_TOKEN")),
        "vllm_attention_backend": environ.get("VLLM_ATTENTION_BACKEND"),
    }
    try:
        import psutil

        memory = psutil.virtual_memory()
        fact["memory_total_bytes"], fact["memory_available_bytes"] = int(memory.total), int(memory.available)
    except (ImportError, OSError):
        pass
    fact["port_free"], fact["port_error"] = _port_free(bind_host, port)
    if fact["port_free"] is False:
        fact["port_holders"] = _listeners(port)
    with contextlib.suppress(OSError, ValueError):
        fact["nofile_soft"], fact["nofile_hard"] = resource.getrlimit(resource.RLIMIT_NOFILE)
    return fact


def _shm() -> int | None:
    try:
        stats = os.statvfs("/dev/shm")
    except OSError:
        return None
    return stats.f_frsize * stats.f_blocks


def _container(environ: Any) -> str | None:
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    if os.path.exists("/.dockerenv"):
        return "docker"
    if os.path.exists("/run/.containerenv"):
        return "podman"
    try:
        with open("/proc/1/cgroup", encoding="utf-8", errors="replace") as handle:
            cgroup = handle.read(4096)
    except OSError:
        return None
    for marker in ("kubepods", "docker", "containerd", "libpod"):
        if marker in cgroup:
            return marker
    return None


def _port_free(host: str, port: int) -> tuple[bool | None, str | None]:
    """Bind and release at once, as vLLM's server will bind (no SO_REUSEPORT); nothing is served."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return False, "address already in use"
        if exc.errno == errno.EACCES:
            return False, "permission denied (ports below 1024 need root)"
        return None, exc.strerror or str(exc)
    return True, None


def _listeners(port: int) -> list[dict[str, Any]]:
    try:
        import psutil

        found = []
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port:
                name = None
                if connection.pid:
                    try:
                        name = " ".join(psutil.Process(connection.pid).cmdline()[:4])
                    except psutil.Error:
                        name = None
                found.append({"pid": connection.pid, "name": name})
        return found
    except (ImportError, OSError, RuntimeError):
        return []
    except Exception:  # noqa: BLE001 - psutil.AccessDenied and friends: the holder stays unnamed
        return []
