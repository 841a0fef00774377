"""The ``caches`` fact: every directory the server will write at start-up, resolved as each library does.

Each library's own variables and defaults (read from their sources, cited in the check), judged for
the user running the doctor: is the directory there, or can its nearest existing parent take it, and
how much room is left. Nothing is created. ``HOME=/`` (OpenShift's arbitrary UIDs) makes ``~/.cache``
``/.cache``; a root-owned site-packages makes FlashInfer's cubin download fail.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from collections.abc import Mapping
from typing import TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.interpreter import target_interpreter
from glm5_doctor.probes.package_files import find_package_dir


class CacheFact(TypedDict):
    #: the library that writes it and what it keeps there
    library: str
    purpose: str
    path: str
    #: the variable that chose the path, or "default"
    source: str
    #: the variable that moves it (what a fix sets)
    variable: str
    exists: bool
    nearest_existing: str
    writable: bool
    free_bytes: int | None


class CachesFact(TypedDict):
    user: str
    uid: int
    home: str
    caches: list[CacheFact]


CACHES: FactKey[CachesFact] = FactKey("caches")


def probe_caches(context: ProbeContext) -> CachesFact:
    environ = context.environ
    sys_path = target_interpreter(context)["sys_path"]
    home = environ.get("HOME") or os.path.expanduser("~")
    caches = []
    for library, purpose, path, source, variable in _resolve(environ, home, sys_path, _local_model(context)):
        caches.append(judge(library, purpose, path, source, variable))
    return {"user": _user(), "uid": os.geteuid(), "home": home, "caches": caches}


def _resolve(
    environ: Mapping[str, str], home: str, sys_path: list[str], local_model: bool
) -> list[tuple[str, str, str, str, str]]:
    def expand(path: str) -> str:
        return os.path.abspath(path.replace("~", home, 1) if path.startswith("~") else path)

    def pick(variable: str, default: str) -> tuple[str, str]:
        value = environ.get(variable)
        return (expand(value), variable) if value else (expand(default), "default")

    xdg = environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    found: list[tuple[str, str, str, str, str]] = []
    # vLLM: envs.py VLLM_CACHE_ROOT, default $XDG_CACHE_HOME/vllm (torch.compile artefacts live there).
    vllm_root, vllm_source = pick("VLLM_CACHE_ROOT", os.path.join(xdg, "vllm"))
    if vllm_source == "default" and environ.get("XDG_CACHE_HOME"):
        vllm_source = "XDG_CACHE_HOME"
    found.append(("vllm", "torch.compile and other vLLM caches", vllm_root, vllm_source, "VLLM_CACHE_ROOT"))
    # huggingface_hub constants.py: HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub.
    if not local_model:
        if environ.get("HF_HUB_CACHE"):
            hub, source = expand(environ["HF_HUB_CACHE"]), "HF_HUB_CACHE"
        elif environ.get("HF_HOME"):
            hub, source = os.path.join(expand(environ["HF_HOME"]), "hub"), "HF_HOME"
        else:
            hub, source = os.path.join(expand(xdg), "huggingface", "hub"), "default"
        found.append(("huggingface_hub", "model downloads and tokenizer files", hub, source, "HF_HOME"))
    if find_package_dir(sys_path, "triton"):
        # triton knobs.py: TRITON_CACHE_DIR, else $TRITON_HOME/.triton/cache (TRITON_HOME defaults to ~).
        base = environ.get("TRITON_HOME") or home
        path, source = pick("TRITON_CACHE_DIR", os.path.join(base, ".triton", "cache"))
        found.append(("triton", "compiled Triton kernels", path, source, "TRITON_CACHE_DIR"))
    if find_package_dir(sys_path, "torch"):
        # torch/_inductor/runtime/cache_dir_utils.py: TORCHINDUCTOR_CACHE_DIR, else $TMPDIR/torchinductor_<user>.
        temp = environ.get("TMPDIR") or tempfile.gettempdir()
        path, source = pick("TORCHINDUCTOR_CACHE_DIR", os.path.join(temp, "torchinductor_" + _user()))
        found.append(("torch inductor", "inductor's generated kernels", path, source, "TORCHINDUCTOR_CACHE_DIR"))
    if find_package_dir(sys_path, "flashinfer"):
        # flashinfer/jit/env.py: FLASHINFER_WORKSPACE_BASE (default ~)/.cache/flashinfer for JIT builds;
        # cubins go into the flashinfer_cubin package when it is installed, else FLASHINFER_CUBIN_DIR,
        # else the workspace's cubins/ folder.
        workspace_base = environ.get("FLASHINFER_WORKSPACE_BASE")
        workspace = os.path.join(expand(workspace_base) if workspace_base else home, ".cache", "flashinfer")
        found.append(
            (
                "flashinfer",
                "JIT-built kernels",
                workspace,
                "FLASHINFER_WORKSPACE_BASE" if workspace_base else "default",
                "FLASHINFER_WORKSPACE_BASE",
            )
        )
        package = find_package_dir(sys_path, "flashinfer_cubin")
        if package:
            cubins, source = os.path.join(package, "cubins"), "the flashinfer-cubin package"
        elif environ.get("FLASHINFER_CUBIN_DIR"):
            cubins, source = expand(environ["FLASHINFER_CUBIN_DIR"]), "FLASHINFER_CUBIN_DIR"
        else:
            cubins, source = os.path.join(workspace, "cubins"), "default"
        found.append(("flashinfer", "downloaded cubins", cubins, source, "FLASHINFER_CUBIN_DIR"))
    return found


def judge(library: str, purpose: str, path: str, source: str, variable: str) -> CacheFact:
    nearest = path
    while not os.path.exists(nearest) and os.path.dirname(nearest) != nearest:
        nearest = os.path.dirname(nearest)
    writable = os.path.isdir(nearest) and os.access(nearest, os.W_OK | os.X_OK)
    try:
        stats = os.statvfs(nearest)
        free: int | None = stats.f_bavail * stats.f_frsize
    except OSError:
        free = None
    return {
        "library": library,
        "purpose": purpose,
        "path": path,
        "source": source,
        "variable": variable,
        "exists": os.path.isdir(path),
        "nearest_existing": nearest,
        "writable": writable,
        "free_bytes": free,
    }


def _local_model(context: ProbeContext) -> bool:
    model = context.profile.model if context.profile else None
    return bool(model) and os.path.isdir(str(model))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # an arbitrary UID without a passwd entry (OpenShift)
        return str(os.geteuid())
