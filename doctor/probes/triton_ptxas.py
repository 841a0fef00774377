"""The ``triton_ptxas`` fact: the ptxas binaries the target's Triton will run, and their releases.

Triton (``triton/knobs.py`` ``env_nvidia_tool``) takes ``TRITON_<TOOL>_PATH`` when that binary
answers ``--version`` with a ``release X.Y`` line, else the one bundled in
``triton/backends/nvidia/bin/``. From Triton 3.6 a second assembler, ``ptxas-blackwell``
(``TRITON_PTXAS_BLACKWELL_PATH``), serves every GPU of compute capability 10.0 and above. Each
binary's ``--version`` runs in a child process under a deadline; nothing of Triton is imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TypedDict

from glm5_doctor.engine import deadlines, processes
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.interpreter import target_interpreter
from glm5_doctor.probes.package_files import find_package_dir

RELEASE = re.compile(r"release (\d+)\.(\d+)")
TOOLS = ("ptxas", "ptxas-blackwell")


class PtxasFact(TypedDict):
    tool: str
    variable: str
    #: the binary Triton will run (None: neither the variable's nor the bundled one answers)
    path: str | None
    #: the variable, "bundled", or None
    source: str | None
    release: str | None
    #: why the variable's binary was passed over, or why nothing answers
    problem: str | None


class TritonPtxasFact(TypedDict):
    package_dir: str | None
    tools: list[PtxasFact]


TRITON_PTXAS: FactKey[TritonPtxasFact] = FactKey("triton_ptxas")


def probe_triton_ptxas(context: ProbeContext) -> TritonPtxasFact:
    package = find_package_dir(target_interpreter(context)["sys_path"], "triton")
    fact: TritonPtxasFact = {"package_dir": package, "tools": []}
    if package is None:
        return fact
    for tool in TOOLS:
        bundled = os.path.join(package, "backends", "nvidia", "bin", tool)
        variable = f"TRITON_{tool.upper().replace('-', '_')}_PATH"
        if tool != "ptxas" and not os.path.isfile(bundled):
            continue  # a Triton before 3.6: one ptxas for every GPU
        fact["tools"].append(_resolve(tool, variable, bundled, context.environ))
    return fact


def _resolve(tool: str, variable: str, bundled: str, environ: Mapping[str, str]) -> PtxasFact:
    problem = None
    candidates = [(environ[variable], variable)] if environ.get(variable) else []
    candidates.append((bundled, "bundled"))
    for path, source in candidates:
        release, why = release_of(path.split(" ")[0], environ)
        if release:
            note = f"{variable}={path} was passed over: {problem}" if problem else None
            return {
                "tool": tool,
                "variable": variable,
                "path": path,
                "source": source,
                "release": release,
                "problem": note,
            }
        problem = why
    return {"tool": tool, "variable": variable, "path": None, "source": None, "release": None, "problem": problem}


def release_of(path: str, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(release, None) as Triton reads it from ``path --version``, or (None, why not)."""
    if not os.path.isfile(path):
        return None, f"{path} does not exist"
    try:
        finished = processes.run_bounded([path, "--version"], deadlines.PTXAS_VERSION_S, env=environ)
    except OSError as exc:
        return None, f"cannot run {path}: {exc.strerror or exc}"
    if finished.timed_out:
        return None, f"'{path} --version' did not finish within {deadlines.PTXAS_VERSION_S:g} s"
    output = (finished.stdout + finished.stderr).decode("utf-8", errors="replace")
    match = RELEASE.search(output)
    if finished.returncode != 0 or match is None:
        return None, f"'{path} --version' printed no 'release X.Y' line (exit status {finished.returncode})"
    return f"{match.group(1)}.{match.group(2)}", None
