"""The ``interpreter`` fact: the target Python as its own ``sys`` describes it.

The doctor's own interpreter is described in-process; any other (``--python``) runs the
stdlib-only ``describe_interpreter.py`` in a child process with a deadline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict, cast

from glm5_doctor.engine import deadlines, processes
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes import describe_interpreter as describe_interpreter_module
from glm5_doctor.probes.context import ProbeContext

INTERPRETER_TIMEOUT_S = deadlines.INTERPRETER_S


class InterpreterFact(TypedDict):
    executable: str
    version: str
    implementation: str
    ext_suffix: str | None
    sys_path: list[str]
    marker_environment: dict[str, str]
    prefix: str


INTERPRETER: FactKey[InterpreterFact] = FactKey("interpreter", InterpreterFact)


class InterpreterError(Exception):
    """The target interpreter could not be described (missing, not Python, hung)."""


def target_interpreter(context: ProbeContext) -> InterpreterFact:
    """The target interpreter, described once per run; later calls reuse the answer (or the error)."""
    return context.shared(INTERPRETER.name, describe_target)


def describe_target(context: ProbeContext) -> InterpreterFact:
    if context.python is None:
        return cast(InterpreterFact, describe_interpreter_module.describe())
    return describe_interpreter(context.python, context.environ)


#: What the describer must print, with the JSON types the checks rely on.
REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "executable": str,
    "version": str,
    "implementation": str,
    "ext_suffix": (str, type(None)),
    "sys_path": list,
    "marker_environment": dict,
    "prefix": str,
}


def describe_interpreter(python: str, environ: Mapping[str, str]) -> InterpreterFact:
    """Run the stdlib-only describer inside ``python``, in its own process group, under a deadline."""
    source = (Path(__file__).parent / "describe_interpreter.py").read_text(encoding="utf-8")
    if os.path.exists(python) and not os.path.isfile(python):
        raise InterpreterError(f"{python}: not a regular file")
    timeout = INTERPRETER_TIMEOUT_S
    try:
        finished = processes.run_bounded([python, "-c", source], timeout, env=environ)
    except FileNotFoundError:
        raise InterpreterError(f"{python}: no such file") from None
    except PermissionError:
        raise InterpreterError(f"{python}: not executable (permission denied)") from None
    except OSError as exc:
        raise InterpreterError(f"{python}: cannot run it ({exc.strerror or exc})") from None
    if finished.timed_out:
        raise InterpreterError(f"{python} did not answer within {timeout:.0f} s")
    stdout = finished.stdout.decode("utf-8", errors="replace")
    try:
        described = json.loads(stdout)
    except (ValueError, RecursionError):
        described = None
    problem = _shape_problem(described)
    if problem is not None:
        stderr = finished.stderr.decode("utf-8", errors="replace").strip().splitlines()
        why = stderr[-1][:300] if stderr else f"exit status {finished.returncode}, {problem}"
        raise InterpreterError(f"{python} is not a Python interpreter the doctor can use: {why}")
    return cast(InterpreterFact, described)


def _shape_problem(described: object) -> str | None:
    if not isinstance(described, dict):
        return "no usable output"
    for name, kind in REQUIRED_FIELDS.items():
        if not isinstance(described.get(name), kind):
            return f"its description lacks a usable {name!r}"
    if not all(isinstance(entry, str) for entry in described["sys_path"]):
        return "its sys.path is not a list of folders"
    return None
