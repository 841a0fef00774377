"""A check's :class:`~glm5_doctor.engine.check.Fix` made concrete for this machine, and run.

:func:`resolve` turns a failing result into a :class:`Remedy`: the script (shipped in
``glm5_doctor.fixes`` or a plugin's own package), its header, the variables it needs here
(``PYTHON`` always; the rest from the check's ``environment``; ``SUGGESTED_COMMAND`` from its
``serve_edit`` applied to the real ``vllm serve`` line) and the shell-quoted command to paste.
:func:`run_script` runs it, streaming its output.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from glm5_doctor.engine import deadlines, processes
from glm5_doctor.engine.check import Check, Fix
from glm5_doctor.engine.redact import MASK, Writer, is_secret_name

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # importlib.abc.Traversable is deprecated from 3.12 and gone in 3.14
    from importlib.abc import Traversable

from glm5_doctor.engine.results import Report, Result

HEADER_FIELDS = ("Summary", "Needs root", "Verifies", "Inputs")
#: What keeps a preview's tools from reaching the network (they print what they would fetch instead).
OFFLINE = {"HF_HUB_OFFLINE": "1", "PIP_NO_INDEX": "1", "TRANSFORMERS_OFFLINE": "1"}


class RemedyError(Exception):
    """A fix that cannot be resolved (its script is missing); never raised for a validated check."""


@dataclass(frozen=True)
class Remedy:
    check_id: str
    script: str
    header: Mapping[str, str]
    environment: Mapping[str, str]
    path: str

    @property
    def command(self) -> str:
        assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in self.environment.items())
        return f"{assignments} bash {shlex.quote(self.path)}".strip()


def script_file(fix: Fix) -> Traversable:
    """The fix's script; raises :class:`RemedyError` when its package does not ship it."""
    try:
        script = resources.files(fix.package).joinpath(fix.script)
        found = script.is_file()
    except (ModuleNotFoundError, TypeError, ValueError, OSError) as exc:
        raise RemedyError(f"fix script {fix.script!r}: package {fix.package!r} cannot be read ({exc})") from None
    if not found:
        raise RemedyError(f"no fix script named {fix.script!r} in {fix.package}")
    return script


def shipped_scripts() -> list[str]:
    """Names of every fix script the doctor ships (``_common.sh`` is their shared helper, not a fix)."""
    return sorted(
        item.name
        for item in resources.files(Fix.package).iterdir()
        if item.name.endswith(".sh") and not item.name.startswith("_")
    )


def script_header(text: str) -> dict[str, str]:
    """The ``# Field: value`` header of a fix script; continuation lines are indented comments."""
    header: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines()[1:]:
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        field, sep, value = body.partition(":")
        if sep and field in HEADER_FIELDS:
            current = field
            header[field] = value.strip()
        elif current is not None and body:
            header[current] += "\n" + body
    return header


def corrected_serve_command(fix: Fix, result: Result, report: Report) -> str | None:
    """The real ``vllm serve`` line with this result's problem corrected, or None."""
    serve = report.profile.get("serve")
    if fix.serve_edit is None or not isinstance(serve, Mapping):
        return None
    corrected = fix.serve_edit(list(serve.get("argv") or []), result.outcome.evidence)
    return shell_line(corrected) if corrected is not None else None


#: Options whose value vLLM also reads from a variable; a secret option without one gets its own name.
SECRET_OPTION_VARIABLES = {"--api-key": "VLLM_API_KEY"}


def secret_variable(option: str) -> str:
    return SECRET_OPTION_VARIABLES.get(option, option.lstrip("-").upper().replace("-", "_"))


def shell_line(argv: list[str]) -> str:
    """``argv`` shell-quoted, a masked secret written as a reference the shell expands (``"$VLLM_API_KEY"``).

    Pasting the line never puts a literal mask where the key was, and the key itself is never printed.
    """
    parts: list[str] = []
    secret_option: str | None = None
    for token in argv:
        name, has_inline, value = token.partition("=")
        if secret_option is not None and token == MASK:
            parts.append(f'"${secret_variable(secret_option)}"')
        elif token.startswith("--") and has_inline and value == MASK and is_secret_name(name.lstrip("-")):
            parts.append(f'{shlex.quote(name)}="${secret_variable(name)}"')
        else:
            parts.append(shlex.quote(token))
        secret_option = (
            token if token.startswith("--") and not has_inline and is_secret_name(token.lstrip("-")) else None
        )
    return " ".join(parts)


def fix_environment(fix: Fix, result: Result, report: Report) -> dict[str, str]:
    """Variables for the fix script: the target Python always, the rest from the check's fix."""
    plan = {"PYTHON": str(report.target.get("python"))}
    if fix.environment is not None:
        plan.update(fix.environment(result, report))
    command = corrected_serve_command(fix, result, report)
    if command:
        plan["SUGGESTED_COMMAND"] = command
    return plan


def resolve(check: Check, result: Result, report: Report) -> Remedy:
    if check.fix is None:
        raise RemedyError(f"{check.id} links no fix")
    script = script_file(check.fix)
    with resources.as_file(script) as path:
        return Remedy(
            check_id=check.id,
            script=check.fix.script,
            header=script_header(script.read_text(encoding="utf-8")),
            environment=fix_environment(check.fix, result, report),
            path=str(path),
        )


def dry_run_output(remedy: Remedy) -> str:
    """What the script prints with ``DRY_RUN=1`` (every command, nothing changed), under a deadline.

    Previews stay off the network: the Hugging Face and pip variables that make tools offline are
    set, and the whole process group is killed at the deadline.
    """
    environment = {**os.environ, **remedy.environment, **OFFLINE, "DRY_RUN": "1"}
    try:
        finished = processes.run_bounded(["bash", remedy.path], deadlines.PREVIEW_S, env=environment)
    except OSError as exc:
        return f"(the dry run could not start: {exc.strerror or exc})"
    if finished.timed_out:
        return f"(the dry run did not finish within {deadlines.PREVIEW_S:g} s)"
    text = (finished.stdout + finished.stderr).decode("utf-8", errors="replace").strip()
    return text or "(prints nothing)"


def run_script(remedy: Remedy, dry_run: bool, out: Writer) -> int:
    """Run the script with its environment, its output streamed line by line through ``out``.

    The script stays in the terminal's process group (``sudo`` may ask for a password on the
    terminal); Ctrl-C reaches it too. Its exit status.
    """
    environment = {**os.environ, **remedy.environment, **({"DRY_RUN": "1"} if dry_run else {})}
    child = subprocess.Popen(
        ["bash", remedy.path], env=environment, stdin=None, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert child.stdout is not None
    try:
        for raw in child.stdout:
            out.write(raw.decode("utf-8", errors="replace"))
            out.flush()
        return child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
