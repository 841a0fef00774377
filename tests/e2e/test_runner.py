"""The runner: timeouts, crashes, requirements and order, with real checks and probes defined here."""

from __future__ import annotations

import threading

from glm5_doctor.deployment.profile import DEFAULT_PROFILE, Profile
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import FactKey, Facts
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.engine.runner import gather_facts, run_checks
from glm5_doctor.probes import Probe, ProbeContext

release = threading.Event()


@check("demo.hangs", title="hangs", category="demo", timeout_s=0.2)
def hangs(facts: Facts, profile: Profile) -> Outcome:
    release.wait(30)
    return Outcome.passed("never seen")


@check("demo.crashes", title="crashes", category="demo")
def crashes(facts: Facts, profile: Profile) -> Outcome:
    raise ZeroDivisionError("boom")


@check("demo.fails", title="fails", category="demo")
def fails(facts: Facts, profile: Profile) -> Outcome:
    return Outcome.failed("bad")


@check("demo.needs-fail", title="needs a failing check", category="demo", requires=("demo.fails",))
def needs_fail(facts: Facts, profile: Profile) -> Outcome:
    return Outcome.passed("must not run")


@check("demo.warns", title="warns", category="demo")
def warns(facts: Facts, profile: Profile) -> Outcome:
    return Outcome.warned("risky")


@check("demo.needs-warn", title="needs a warning check", category="demo", requires=("demo.warns",))
def needs_warn(facts: Facts, profile: Profile) -> Outcome:
    return Outcome.passed("ran")


@check("demo.wrong-type", title="returns garbage", category="demo")
def wrong_type(facts: Facts, profile: Profile) -> Outcome:
    return "pass"  # type: ignore[return-value]


FLAKY: FactKey[str] = FactKey("flaky")


@check("demo.reads-fact", title="reads a fact", category="demo", facts=(FLAKY,))
def reads_fact(facts: Facts, profile: Profile) -> Outcome:
    return Outcome.passed(facts[FLAKY])


def test_a_hung_check_becomes_an_error_without_waiting_for_it() -> None:
    """Had the runner waited, the check would have returned PASS once released (30 s later)."""
    [result] = run_checks([hangs], Facts(), DEFAULT_PROFILE)
    assert result.status is Status.ERROR
    assert result.outcome.evidence["timed_out"] is True
    assert "0.2 s" in result.outcome.message


def test_a_crash_becomes_an_error_with_the_traceback() -> None:
    [result] = run_checks([crashes], Facts(), DEFAULT_PROFILE)
    assert result.status is Status.ERROR
    assert "ZeroDivisionError: boom" in result.outcome.message
    assert result.outcome.details and "Traceback" in result.outcome.details


def test_a_non_outcome_return_is_an_error() -> None:
    [result] = run_checks([wrong_type], Facts(), DEFAULT_PROFILE)
    assert result.status is Status.ERROR
    assert "returned str" in result.outcome.message


def test_failed_requirement_skips_with_reason_but_a_warning_does_not_block() -> None:
    results = run_checks([needs_fail, fails, needs_warn, warns], Facts(), DEFAULT_PROFILE)
    assert [r.id for r in results] == ["demo.needs-fail", "demo.fails", "demo.needs-warn", "demo.warns"]
    skipped = results[0]
    assert skipped.status is Status.SKIP
    assert skipped.outcome.message == "requires demo.fails, which ended fail"
    assert results[2].status is Status.PASS


def test_fix_is_linked_only_when_something_is_wrong() -> None:
    linked = check("demo.linked", title="t", category="demo", fix="install-vllm.sh")(fails.function)
    passing = check("demo.linked-pass", title="t", category="demo", fix="install-vllm.sh")(warns.function)
    ok = check("demo.linked-ok", title="t", category="demo", fix="install-vllm.sh")(needs_warn.function)
    results = run_checks([linked, passing, ok], Facts(), DEFAULT_PROFILE)
    assert results[0].fix is not None and results[0].fix.command == "glm5-doctor fix demo.linked"
    assert results[1].fix is not None
    assert results[2].fix is None


def test_probes_run_once_and_failures_become_errors_of_the_checks_that_need_them() -> None:
    calls: list[str] = []

    def flaky(context: ProbeContext) -> object:
        calls.append("flaky")
        raise OSError("disk on fire")

    def slow(context: ProbeContext) -> object:
        release.wait(30)
        return "late"

    probes = {"flaky": Probe(FLAKY, flaky), "slow": Probe(FactKey("slow"), slow, timeout_s=0.2)}
    facts = gather_facts(["flaky", "flaky", "slow", "unknown"], probes, ProbeContext())
    assert calls == ["flaky"]
    assert facts.errors["flaky"] == "OSError: disk on fire"
    assert facts.errors["slow"] == "timed out after 0.2 s"
    assert "no probe" in facts.errors["unknown"]
    [result] = run_checks([reads_fact], facts, DEFAULT_PROFILE)
    assert result.status is Status.ERROR
    assert "disk on fire" in result.outcome.message


def test_checks_run_concurrently() -> None:
    """Five checks meet at one barrier: run one after another, each would break it and crash."""
    barrier = threading.Barrier(5, timeout=10)

    def meet(facts: Facts, profile: Profile) -> Outcome:
        barrier.wait()
        return Outcome.passed("met")

    together = [check(f"demo.meet-{n}", title="t", category="demo", timeout_s=20)(meet) for n in range(5)]
    results = run_checks(together, Facts(), DEFAULT_PROFILE)
    assert [r.status for r in results] == [Status.PASS] * 5
