"""CI outputs: JUnit XML (validated against the dialect's XML Schema and read back by junitparser),
Markdown (rendered by markdown-it, as GitHub and GitLab render it) and GitHub Actions workflow commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmlschema
from glm5_doctor.engine.results import FixRef, Outcome, Report, Result, Status
from glm5_doctor.report.github import render_github
from glm5_doctor.report.junit import render_junit
from glm5_doctor.report.markdown import render_markdown
from helpers import FIXTURES, TargetEnv, by_id, doctor_env, run_doctor
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase
from markdown_it import MarkdownIt

JUNIT_XSD = xmlschema.XMLSchema(str(FIXTURES / "junit" / "junit.xsd"))
SNAPSHOT = FIXTURES / "real" / "h200x2-gvisor" / "snapshot-tp2.json"
HOSTILE = 'a | pipe, <script>alert(1)</script> & "quotes" %25 50% done\r\n::error::injected \x01\x1b[2J'


def result(check_id: str, status: Status, message: str = "why", fix: bool = False, **evidence: object) -> Result:
    fix_ref = FixRef("install-vllm.sh", f"glm5-doctor fix {check_id}") if fix else None
    return Result(check_id, f"title of {check_id}", "area", Outcome(status, message, evidence), 12, fix_ref)


REPORT = Report(
    tool_version="9.9.9",
    profile={"name": "p", "model": "zai-org/GLM-5-FP8", "tensor_parallel_size": 8},
    target={"python": "/venv/bin/python", "python_version": "3.12.1", "gpus": "8 x NVIDIA B200"},
    results=(
        result("vllm.installed", Status.FAIL, "vLLM is not installed", fix=True, python="/venv/bin/python"),
        result("vllm.glm5-architecture", Status.SKIP, "requires vllm.installed, which ended fail"),
        result("gpu.driver", Status.PASS, "driver 580.95.05"),
        result("gpu.vram", Status.WARN, HOSTILE, kv_tokens=1000),
        result("host.port", Status.ERROR, "the check crashed: ValueError", fix=True),
        result("host.shm", Status.PASS, "fine"),
    ),
)


def parsed_junit(text: str) -> JUnitXml:
    JUNIT_XSD.validate(text)
    xml = JUnitXml.fromstring(text.encode("utf-8"))
    assert isinstance(xml, JUnitXml)
    return xml


def cases(xml: JUnitXml) -> dict[str, TestCase]:
    return {case.name: case for suite in xml for case in suite}


def test_junit_validates_and_junitparser_counts_what_we_count() -> None:
    xml = parsed_junit(render_junit(REPORT))
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (6, 1, 1, 1)
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"glm5-doctor.vllm", "glm5-doctor.gpu", "glm5-doctor.host"}
    assert (suites["glm5-doctor.vllm"].tests, suites["glm5-doctor.vllm"].failures) == (2, 1)
    assert suites["glm5-doctor.vllm"].skipped == 1
    assert (
        dict(p for p in ((prop.name, prop.value) for prop in suites["glm5-doctor.gpu"].properties()))["gpus"]
        == "8 x NVIDIA B200"
    )
    by_name = cases(xml)
    failed = by_name["vllm.installed"]
    assert failed.classname == "vllm"
    assert [type(r) for r in failed.result] == [Failure]
    assert failed.result[0].message == "vLLM is not installed"
    body = failed.result[0].text
    assert '"python": "/venv/bin/python"' in body and "fix: glm5-doctor fix vllm.installed (install-vllm.sh)" in body
    assert failed.time == pytest.approx(0.012)
    assert [type(r) for r in by_name["host.port"].result] == [Error]
    assert [type(r) for r in by_name["vllm.glm5-architecture"].result] == [Skipped]
    assert by_name["gpu.driver"].is_passed and by_name["gpu.vram"].is_passed


def test_junit_warnings_fail_under_strict_and_hostile_text_survives() -> None:
    xml = parsed_junit(render_junit(REPORT, strict=True))
    assert (xml.failures, xml.errors) == (2, 1)
    warned = cases(xml)["gpu.vram"]
    assert [type(r) for r in warned.result] == [Failure]
    # XML forbids \x01 and \x1b even escaped: written as text; the rest round-trips exactly.
    assert warned.result[0].message == HOSTILE.replace("\x01", "\\x01").replace("\x1b", "\\x1b")


def test_markdown_renders_a_table_of_what_needs_attention_and_folds_the_rest() -> None:
    text = render_markdown(REPORT)
    assert text.splitlines()[0].startswith("### glm5-doctor 9.9.9: **not ready** for zai-org/GLM-5-FP8 at TP 8")
    html = MarkdownIt("commonmark").enable("table").render(text)
    attention, rest = html.split("<details>")
    rows = attention.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    assert rows == 3  # fail, error, warn; worst first
    assert attention.index("vllm.installed") < attention.index("host.port") < attention.index("gpu.vram")
    assert attention.count("<td>") == 3 * 4, "the hostile message must stay in its cell"
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<code>glm5-doctor fix vllm.installed</code>" in attention
    assert "3 other checks (2 pass, 1 skip)" in rest
    assert rest.count("<tr>") == 4  # header + 3


def test_markdown_of_a_ready_report_has_no_attention_table() -> None:
    ready = Report("1", {"model": "m", "tensor_parallel_size": 1}, {"python": "p"}, (result("a.b", Status.PASS),))
    text = render_markdown(ready)
    assert "**ready**" in text and "| status | check | why | fix |" not in text


def test_github_annotations_are_escaped_as_the_runner_reads_them() -> None:
    lines = render_github(REPORT).splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning", "::error", "::notice"]
    assert all(line.startswith("::") for line in lines), "no message may start a line of its own"
    warning = lines[1]
    assert warning.startswith("::warning title=glm5-doctor gpu.vram (warn)%3A title of gpu.vram::")
    message = warning.split("::", 2)[2]
    assert message == (
        'a | pipe, <script>alert(1)</script> & "quotes" %2525 50%25 done%0D%0A::error::injected \x01\x1b[2J'
    )
    assert lines[0].endswith("::vLLM is not installed%0Afix: glm5-doctor fix vllm.installed")
    assert lines[3].startswith("::notice title=glm5-doctor::glm5-doctor 9.9.9: not ready")
    strict = render_github(REPORT, strict=True).splitlines()
    assert strict[1].startswith("::error title=glm5-doctor gpu.vram (warn)")


def test_cli_junit_counts_match_the_json_report(tmp_path: Path) -> None:
    """The same saved facts judged twice: the JUnit document says what the JSON report says."""
    report = json.loads(run_doctor("run", "--from-snapshot", str(SNAPSHOT), "--format", "json").stdout)
    completed = run_doctor("run", "--from-snapshot", str(SNAPSHOT), "--format", "junit", "-o", str(tmp_path / "j.xml"))
    assert completed.returncode == 1
    xml = parsed_junit((tmp_path / "j.xml").read_text())
    summary = report["summary"]
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (
        len(report["results"]),
        summary["fail"],
        summary["error"],
        summary["skip"],
    )
    assert set(cases(xml)) == set(by_id(report))


def test_github_step_summary_gets_the_markdown(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = doctor_env(GITHUB_STEP_SUMMARY=str(summary))
    completed = run_doctor("run", "--from-snapshot", str(SNAPSHOT), "--format", "github", env=env)
    assert completed.returncode == 1
    assert "::error title=glm5-doctor gpu.vram (fail)" in completed.stdout
    written = summary.read_text()
    assert written.startswith("earlier step\n### glm5-doctor ")
    assert "| :x: fail | `gpu.vram` |" in written
    assert "<details><summary>" in written


def test_an_unwritable_step_summary_is_said_and_changes_nothing_else(tmp_path: Path) -> None:
    env = doctor_env(GITHUB_STEP_SUMMARY=str(tmp_path))  # a folder
    completed = run_doctor("run", "--from-snapshot", str(SNAPSHOT), "--format", "json", env=env)
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["summary"]["fail"] >= 1
    assert "cannot append the job summary to GITHUB_STEP_SUMMARY=" in completed.stderr


def test_markdown_format_from_the_cli() -> None:
    completed = run_doctor("run", "--from-snapshot", str(SNAPSHOT), "--format", "markdown", env=doctor_env())
    assert completed.stdout.startswith("### glm5-doctor 0.1.0: **not ready** for zai-org/GLM-5-FP8 at TP 2 on 2 x")
    assert "| :x: fail | `gpu.vram` |" in completed.stdout


def test_preflight_writes_junit_for_an_orchestrator(target_env: TargetEnv, tmp_path: Path) -> None:
    report = tmp_path / "preflight.xml"
    completed = run_doctor(
        "preflight",
        "--format",
        "junit",
        "--output",
        str(report),
        "--python",
        str(target_env.python),
        "--",
        "vllm",
        "serve",
        "zai-org/GLM-5-FP8",
        env=doctor_env(),
    )
    assert completed.returncode == 1, completed.stderr
    xml = parsed_junit(report.read_text())
    assert [type(r) for r in cases(xml)["vllm.installed"].result] == [Failure]
