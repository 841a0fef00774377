"""One diagnosis, end to end: a :class:`Request` in, a redacted :class:`Report` out.

Every command that judges the machine (``run``, ``preflight``, ``fit``, ``fix``) comes through
:func:`diagnose`: select the checks, describe the target interpreter, gather the facts the
selected checks declared, judge, and redact once on the way out. :func:`take_snapshot` gathers
the facts every check declares without judging them; :func:`judge_snapshot` judges saved facts
the way :func:`diagnose` judges fresh ones, without probing this machine.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from glm5_doctor import __version__
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.redact import Redactor
from glm5_doctor.engine.registry import LoadError, Registry
from glm5_doctor.engine.results import Outcome, Report, Result
from glm5_doctor.engine.runner import gather_facts, run_checks
from glm5_doctor.engine.snapshot import Snapshot, now
from glm5_doctor.knowledge.advisories import Database, load_builtin
from glm5_doctor.knowledge.cuda_devices import visible_devices
from glm5_doctor.probes import PROBES, ProbeContext
from glm5_doctor.probes.advisory_database import ADVISORY_DATABASE
from glm5_doctor.probes.interpreter import INTERPRETER, InterpreterError, target_interpreter
from glm5_doctor.probes.nvml import NVML

PLUGIN_CATEGORY = "plugins"


class RequestError(Exception):
    """The request cannot be judged (unknown check, unusable ``--python``): a usage error, exit 2."""


@dataclass(frozen=True)
class Request:
    """What to judge: the deployment, the environment it runs in, and which checks."""

    profile: Profile
    python: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    deep: bool = False
    #: the advisory database (``--advisories FILE``); None: the one shipped in the package
    advisories: Database | None = None


def diagnose(request: Request, registry: Registry, redactor: Redactor | None = None) -> Report:
    """Judge ``request``; the report comes back redacted (by ``redactor``, else by this environment's)."""
    checks = _selected(request, registry)
    context = _context(request)
    report = judge(checks, request.profile, context, registry.sources, registry.load_errors)
    report = replace(report, advisories=_database(request).info())
    return (redactor or Redactor(os.environ)).report(report)


def take_snapshot(
    request: Request, registry: Registry, redactor: Redactor | None = None, extra: Sequence[str] = ()
) -> dict[str, object]:
    """Gather the facts every check of ``registry`` declares (and the ``extra`` fact names), judge nothing;
    the document comes back redacted."""
    context = _context(request)
    needed = [fact.name for item in registry.checks for fact in item.facts] + list(extra)
    facts = gather_facts([INTERPRETER.name, *needed], PROBES, context)
    snapshot = Snapshot(
        tool_version=__version__,
        taken_at=now(),
        profile=request.profile,
        target=describe_target(facts, context),
        facts=facts,
        deep=request.deep,
    )
    redacted: dict[str, object] = (redactor or Redactor(os.environ)).data(snapshot.to_dict())
    return redacted


def judge_snapshot(
    snapshot: Snapshot, request: Request, registry: Registry, redactor: Redactor | None = None, origin: str = ""
) -> Report:
    """Judge the saved facts of ``snapshot`` for ``request.profile`` with today's checks; probe nothing."""
    checks = _selected(request, registry)
    # today's rules: the advisory database is this doctor's (or --advisories), not the one the snapshot recorded
    database = _database(request)
    data = {**snapshot.facts.data, ADVISORY_DATABASE.name: database.to_data()}
    missing = {
        key.name: f"the snapshot (glm5-doctor {snapshot.tool_version}) predates this fact: take it again to judge it"
        for item in checks
        for key in item.facts
        if key.name not in data and key.name not in snapshot.facts.errors
    }
    facts = Facts(data, {**snapshot.facts.errors, **missing})
    results = run_checks(checks, facts, request.profile, registry.sources)
    results.extend(plugin_error_result(error) for error in registry.load_errors)
    target = {
        **snapshot.target,
        "snapshot": {"file": origin, "taken_at": snapshot.taken_at, "tool_version": snapshot.tool_version},
    }
    report = Report(
        tool_version=__version__,
        profile=request.profile.to_dict(),
        target=target,
        results=tuple(results),
        advisories=database.info(),
    )
    return (redactor or Redactor(os.environ)).report(report)


def _database(request: Request) -> Database:
    """The advisory database of this run: ``--advisories FILE`` when given, else the shipped one."""
    return request.advisories or load_builtin()


def _selected(request: Request, registry: Registry) -> list[Check]:
    try:
        checks = registry.select(request.select, request.ignore)
    except ValueError as exc:
        raise RequestError(str(exc)) from None
    if not checks and not registry.load_errors:
        # Judging nothing must never read as "ready": preflight would start the server on it.
        raise RequestError("the selection leaves no check to run (--select and --ignore cancel out)")
    return checks


def _context(request: Request) -> ProbeContext:
    """What the probes read for ``request``; the target interpreter is described first (exit 2 if unusable)."""
    python = None
    if request.python is not None:
        python = os.path.abspath(os.path.expanduser(request.python))
        if not os.path.exists(python):
            raise RequestError(f"--python {request.python}: no such file")
    profile = request.profile
    # The compile probe targets the GPUs NVML finds, unless the user named one (--gpu) to plan for.
    gpu_arch = None if profile.detect_gpu else profile.arch_flag()
    context = ProbeContext(
        python=python, deep=request.deep, gpu_arch=gpu_arch, profile=profile, advisories=_database(request)
    )
    if python is not None:
        try:
            target_interpreter(context)
        except InterpreterError as exc:
            raise RequestError(f"--python: {exc}") from None
    return context


def judge(
    checks: Sequence[Check],
    profile: Profile,
    context: ProbeContext,
    sources: dict[str, str] | None = None,
    load_errors: Sequence[LoadError] = (),
) -> Report:
    """Gather what ``checks`` declared and judge it (no selection, no redaction)."""
    needed = [fact.name for item in checks for fact in item.facts]
    facts = gather_facts([INTERPRETER.name, *needed], PROBES, context)
    results = run_checks(checks, facts, profile, sources)
    results.extend(plugin_error_result(error) for error in load_errors)
    return Report(
        tool_version=__version__,
        profile=profile.to_dict(),
        target=describe_target(facts, context),
        results=tuple(results),
    )


def plugin_error_result(error: LoadError) -> Result:
    outcome = Outcome.errored(
        f"plugin {error.entry_point!r} from {error.distribution} could not be loaded: {error.error}",
        {"entry_point": error.entry_point, "distribution": error.distribution},
    )
    return Result(
        id=f"plugin.{error.entry_point}",
        title=f"Plugin '{error.entry_point}' loads",
        category=PLUGIN_CATEGORY,
        outcome=outcome,
        duration_ms=0,
        source=error.distribution,
    )


def describe_gpus(facts: Facts) -> str | None:
    """``8 x NVIDIA B200`` for the GPUs CUDA will see, when NVML was asked and answered."""
    nvml = facts.get(NVML)
    if not isinstance(nvml, dict) or nvml.get("status") != "ok":
        return None
    visible = visible_devices(nvml.get("devices") or [], nvml.get("cuda_visible_devices")).devices
    names = Counter(str(device.get("name")) for device in visible)
    return ", ".join(f"{count} x {name}" for name, count in names.items()) or "none visible"


def describe_target(facts: Facts, context: ProbeContext) -> dict[str, object]:
    """The interpreter the verdicts are about, as the report's header states it."""
    interpreter = facts.get(INTERPRETER)
    if interpreter is not None:
        return {
            "python": interpreter["executable"],
            "python_version": interpreter["version"],
            "gpus": describe_gpus(facts),
        }
    python = context.python or sys.executable
    return {"python": python, "python_version": None, "error": facts.errors.get(INTERPRETER.name)}
