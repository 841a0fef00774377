"""The ``interpreter`` fact: the target Python as its own ``sys`` describes it.

The doctor's own interpreter is described in-process; any other (``--python``) runs the
stdlib-only ``describe_interpreter.py`` in a child process with a deadline.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict, cast

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes import describe_interpreter as describe_interpreter_module
from glm5_doctor.probes.context import ProbeContext

INTERPRETER_TIMEOUT_S = 10.0


class InterpreterFact(TypedDict):
    executable: str
    version: str
    implementation: str
    ext_suffix: str | None
    sys_path: list[str]
    marker_environment: dict[str, str]
    prefix: str


INTERPRETER: FactKey[InterpreterFact] = FactKey("interpreter")


class InterpreterError(Exception):
    """The target interpreter could not be described (missing, not Python, hung)."""


def target_interpreter(context: ProbeContext) -> InterpreterFact:
    """The target interpreter, described once per run; later calls reuse the answer (or the error)."""
    return context.shared(INTERPRETER.name, describe_target)


def describe_target(context: ProbeContext) -> InterpreterFact:
    if context.python is None:
        return cast(InterpreterFact, describe_interpreter_module.describe())
    return describe_interpreter(context.python, context.environ)


def describe_interpreter(python: str, environ: Mapping[str, str]) -> InterpreterFact:
    """Run the stdlib-only describer inside ``python`` with a hard timeout."""
    source = (Path(__file__).parent / "describe_interpreter.py").read_text(encoding="utf-8")
    try:
        completed = subprocess.run(
            [python, "-c", source],
            capture_output=True,
            timeout=INTERPRETER_TIMEOUT_S,
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise InterpreterError(f"{python}: no such file") from None
    except PermissionError:
        raise InterpreterError(f"{python}: not executable (permission denied)") from None
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"{python} did not answer within {INTERPRETER_TIMEOUT_S:.0f} s") from None
    except OSError as exc:
        raise InterpreterError(f"{python}: cannot run it ({exc.strerror or exc})") from None
    stdout = completed.stdout.decode("utf-8", errors="replace")
    try:
        described = json.loads(stdout)
        if not isinstance(described, dict) or "sys_path" not in described:
            raise ValueError
    except ValueError:
        stderr = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
        why = stderr[-1] if stderr else f"exit status {completed.returncode}, no usable output"
        raise InterpreterError(f"{python} is not a Python interpreter the doctor can use: {why}") from None
    return cast(InterpreterFact, described)
