"""The report as JUnit XML, for CI servers that gate on test results (GitLab, Jenkins, Azure, GitHub apps).

One ``<testsuite>`` per area, one ``<testcase>`` per check (``classname`` the area, ``name`` the
check ID); ``fail`` becomes ``<failure>``, ``error`` ``<error>``, ``skip`` ``<skipped>``, ``warn``
a passing case with the warning in ``<system-out>`` (a ``<failure>`` under ``--strict``). The
message is the element's ``message`` attribute; the message, the evidence and the fix are its body.

The dialect is the one CI servers read, as the Jenkins xUnit plugin's ``junit-10.xsd`` describes it
(https://github.com/jenkinsci/xunit-plugin/blob/master/src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd)
and GitLab documents (https://docs.gitlab.com/ci/testing/unit_test_reports/). The standard
library's ElementTree writes it: the document is small and flat, no dependency earns its place.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

from glm5_doctor.engine.results import Report, Result, Status

SUITES_NAME = "glm5-doctor"
#: Characters XML 1.0 cannot hold at all, even escaped (https://www.w3.org/TR/xml/#charsets).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def area_of(result: Result) -> str:
    return result.id.split(".", 1)[0]


def xml_text(text: str) -> str:
    """``text`` as XML can carry it: characters XML forbids are written as ``\\xNN``."""
    return NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def body(result: Result) -> str:
    """What a CI server shows under the case: the message, the evidence, the fix, the details."""
    lines = [result.outcome.message]
    if result.outcome.evidence:
        lines += ["", "evidence:", json.dumps(dict(result.outcome.evidence), indent=2, sort_keys=True, default=str)]
    if result.fix is not None:
        lines += ["", f"fix: {result.fix.command} ({result.fix.script})"]
    if result.outcome.details:
        lines += ["", result.outcome.details]
    return xml_text("\n".join(lines))


def _time(milliseconds: int) -> str:
    return f"{milliseconds / 1000:.3f}"


def _case(result: Result, strict: bool) -> ET.Element:
    case = ET.Element("testcase", name=result.id, classname=area_of(result), time=_time(result.duration_ms))
    message = xml_text(result.outcome.message)
    status = result.status
    if status is Status.FAIL or (status is Status.WARN and strict):
        element = ET.SubElement(case, "failure", message=message, type=status.value)
        element.text = body(result)
    elif status is Status.ERROR:
        element = ET.SubElement(case, "error", message=message, type=status.value)
        element.text = body(result)
    elif status is Status.SKIP:
        ET.SubElement(case, "skipped", message=message)
    elif status is Status.WARN:
        ET.SubElement(case, "system-out").text = f"warn: {body(result)}"
    return case


def _tally(results: list[Result], strict: bool) -> Counter[str]:
    tally: Counter[str] = Counter(tests=len(results))
    for result in results:
        if result.status is Status.FAIL or (result.status is Status.WARN and strict):
            tally["failures"] += 1
        elif result.status is Status.ERROR:
            tally["errors"] += 1
        elif result.status is Status.SKIP:
            tally["skipped"] += 1
    return tally


def _counts(element: ET.Element, tally: Counter[str], milliseconds: int, *, skipped: bool = True) -> None:
    element.set("tests", str(tally["tests"]))
    element.set("failures", str(tally["failures"]))
    element.set("errors", str(tally["errors"]))
    if skipped:
        element.set("skipped", str(tally["skipped"]))
    element.set("time", _time(milliseconds))


def build(report: Report, strict: bool = False) -> ET.Element:
    """The ``<testsuites>`` element of ``report``."""
    suites = ET.Element("testsuites", name=SUITES_NAME)
    areas: dict[str, list[Result]] = {}
    for result in report.results:
        areas.setdefault(area_of(result), []).append(result)
    for area, results in areas.items():
        suite = ET.SubElement(suites, "testsuite", name=f"{SUITES_NAME}.{area}")
        _counts(suite, _tally(results, strict), sum(r.duration_ms for r in results))
        properties = ET.SubElement(suite, "properties")
        for name, value in _properties(report).items():
            ET.SubElement(properties, "property", name=name, value=xml_text(value))
        suite.extend(_case(result, strict) for result in results)
    # <testsuites> has no "skipped" attribute in the junit-10 dialect: the suites carry it.
    all_results = list(report.results)
    _counts(suites, _tally(all_results, strict), sum(r.duration_ms for r in all_results), skipped=False)
    return suites


def _properties(report: Report) -> dict[str, str]:
    profile = report.profile
    found = {
        "glm5_doctor.version": report.tool_version,
        "profile": str(profile.get("name", "")),
        "model": str(profile.get("model", "")),
        "tensor_parallel_size": str(profile.get("tensor_parallel_size", "")),
        "python": str(report.target.get("python", "")),
        "gpus": str(report.target.get("gpus") or ""),
    }
    return {name: value for name, value in found.items() if value}


def render_junit(report: Report, strict: bool = False) -> str:
    tree = build(report, strict)
    ET.indent(tree)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tree, encoding="unicode") + "\n"
