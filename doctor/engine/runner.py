"""Run probes, then checks, concurrently and bounded in time; the only module that handles threads.

Timeouts use daemon threads that hand their answer over a queue, not
``concurrent.futures``: an executor joins a stuck worker at interpreter exit, so one hung
call would hang the doctor (Python docs,
https://docs.python.org/3/library/concurrent.futures.html#threadpoolexecutor; measured in this
project: a stuck 6 s call delayed exit to 6.2 s). A timed-out probe
or check keeps running in its daemon thread until the process exits; the run goes on.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Check
from glm5_doctor.engine.facts import Facts, ProbeFailure
from glm5_doctor.engine.results import FixRef, Outcome, Result, Status
from glm5_doctor.probes import Probe, ProbeContext

T = TypeVar("T")
TRACEBACK_LIMIT = 4000


@dataclass(frozen=True)
class _Finished:
    value: Any = None
    error: BaseException | None = None
    details: str | None = None
    timed_out: bool = False
    duration_ms: int = 0


def _start(function: Callable[[], Any]) -> tuple[queue.Queue[_Finished], float]:
    answers: queue.Queue[_Finished] = queue.Queue(maxsize=1)
    started = time.monotonic()

    def target() -> None:
        try:
            value = function()
        except BaseException as exc:  # noqa: BLE001 - any failure of a probe or check is data
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            answers.put(_Finished(error=exc, details=details[-TRACEBACK_LIMIT:], duration_ms=_ms(started)))
        else:
            answers.put(_Finished(value=value, duration_ms=_ms(started)))

    threading.Thread(target=target, daemon=True, name="glm5-doctor-task").start()
    return answers, started


def _collect(answers: queue.Queue[_Finished], started: float, timeout_s: float) -> _Finished:
    remaining = max(0.0, started + timeout_s - time.monotonic())
    try:
        return answers.get(timeout=remaining)
    except queue.Empty:
        return _Finished(timed_out=True, duration_ms=_ms(started))


def run_concurrently(tasks: Mapping[str, tuple[Callable[[], Any], float]]) -> dict[str, _Finished]:
    """Start every task at once; give each its own deadline; never wait past the longest one."""
    started = {key: (_start(function), timeout) for key, (function, timeout) in tasks.items()}
    return {key: _collect(answers, begun, timeout) for key, ((answers, begun), timeout) in started.items()}


def gather_facts(names: Sequence[str], probes: Mapping[str, Probe], context: ProbeContext) -> Facts:
    """Run the named probes once each; a probe that raises or hangs becomes an error fact."""
    unknown = [name for name in names if name not in probes]
    deadline = {name: probes[name].deadline(context) for name in dict.fromkeys(names) if name in probes}
    tasks = {name: (_bind_shared(name, probes[name].function, context), seconds) for name, seconds in deadline.items()}
    data: dict[str, Any] = {}
    errors: dict[str, str] = {name: "no probe gathers this fact" for name in unknown}
    for name, finished in run_concurrently(tasks).items():
        if finished.timed_out:
            errors[name] = f"timed out after {deadline[name]:g} s"
        elif finished.error is not None:
            errors[name] = _describe(finished.error)
        else:
            data[name] = finished.value
    return Facts(data=data, errors=errors)


def run_checks(
    checks: Sequence[Check],
    facts: Facts,
    profile: Profile,
    sources: Mapping[str, str] | None = None,
) -> list[Result]:
    """Judge every check in dependency waves; report in the order ``checks`` came in."""
    selected = {item.id: item for item in checks}
    done: dict[str, Result] = {}
    pending = list(checks)
    while pending:
        ready = [item for item in pending if all(r in done or r not in selected for r in item.requires)]
        if not ready:  # a cycle the registry should have refused; never loop forever
            ready = pending
        tasks: dict[str, tuple[Callable[[], Any], float]] = {}
        for item in ready:
            blocker = next((done[r] for r in item.requires if r in done and done[r].status.blocks_dependents), None)
            if blocker is not None:
                reason = f"requires {blocker.id}, which ended {blocker.status.value}"
                done[item.id] = _result(item, Outcome.skipped(reason, {"required": blocker.id}), 0, sources)
            else:
                tasks[item.id] = (_bind2(item, facts, profile), item.timeout_s)
        for check_id, finished in run_concurrently(tasks).items():
            item = selected[check_id]
            done[check_id] = _result(item, _outcome_of(item, finished), finished.duration_ms, sources)
        pending = [item for item in pending if item.id not in done]
    return [done[item.id] for item in checks]


def _outcome_of(item: Check, finished: _Finished) -> Outcome:
    if finished.timed_out:
        return Outcome.errored(f"the check did not finish within {item.timeout_s:g} s", {"timed_out": True})
    if isinstance(finished.error, ProbeFailure):
        return Outcome.errored(f"could not gather the facts it needs: {finished.error}")
    if finished.error is not None:
        return Outcome.errored(f"the check crashed: {_describe(finished.error)}", details=finished.details)
    if not isinstance(finished.value, Outcome):
        return Outcome.errored(f"the check returned {type(finished.value).__name__}, not an Outcome")
    return finished.value


def _result(item: Check, outcome: Outcome, duration_ms: int, sources: Mapping[str, str] | None) -> Result:
    fix = None
    if item.fix and outcome.suggest_fix and outcome.status in (Status.FAIL, Status.WARN, Status.ERROR):
        fix = FixRef(script=item.fix.script, command=f"glm5-doctor fix {item.id}")
    source = (sources or {}).get(item.id, "builtin")
    return Result(item.id, item.title, item.category, outcome, duration_ms, fix, source)


def _bind_shared(name: str, function: Callable[[ProbeContext], T], context: ProbeContext) -> Callable[[], T]:
    # Through the context's cache, so a probe that another probe already asked for is not run twice.
    return lambda: context.shared(name, function)


def _bind2(item: Check, facts: Facts, profile: Profile) -> Callable[[], Outcome]:
    return lambda: item(facts, profile)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
