"""JUnit XML report, for CI test-report views (Jenkins, GitLab, Azure DevOps, ...).

One <testsuite> per scanned file; one <testcase> per (policy, resource) outcome: FAIL → <failure>,
ERROR → <error>, SKIP (unresolved value) → <skipped>. Waived and baselined findings are <skipped>
with the reason (a waiver's justification and expiry, or the baseline). Files that could not be read
get an <error> testcase. Passing pairs are plain testcases. Files that were not scanned (not a
template, excluded, too large, binary...) are <skipped> testcases of a last suite, "skipped files",
whose properties and system-out give the file counts: every input file is accounted for.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from validator.model import FileStatus, Finding, LoadError, Outcome, Report
from validator.reporters.sarif import file_counts, relative_path, summary_line
from validator.secrets import mask

# Characters XML 1.0 cannot carry, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_COUNTS = ("tests", "failures", "errors", "skipped")
SKIPPED_SUITE = "skipped files"


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", mask(text))


@dataclass
class _Suite:
    name: str
    cases: list[ET.Element] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTS, 0))


def _where(file: str, line: int | None) -> str:
    path = relative_path(file)
    return f"{path}:{line}" if line else path


def _case(suite: _Suite, classname: str, name: str, file: str, line: int | None) -> ET.Element:
    attrs = {"classname": _clean(classname), "name": _clean(name), "file": _clean(relative_path(file))}
    if line:
        attrs["line"] = str(line)
    case = ET.Element("testcase", attrs)
    suite.cases.append(case)
    suite.counts["tests"] += 1
    return case


def _finding_case(suite: _Suite, f: Finding, suppressed: str = "") -> None:
    case = _case(suite, f.policy_id, f"{f.resource_id} ({f.resource_type})", f.location.file, f.location.line)
    detail = f"{_where(f.location.file, f.location.line)}\n{f.message}"
    if suppressed:
        child = ET.SubElement(case, "skipped", {"message": _clean(suppressed)})
        child.text = _clean(detail)
        suite.counts["skipped"] += 1
    elif f.outcome is Outcome.FAIL:
        child = ET.SubElement(case, "failure", {"message": _clean(f.message), "type": f.severity.value})
        expired = ""
        if f.waiver is not None and f.waiver_expired and f.waiver.expires:
            expired = f"\nWaiver expired on {f.waiver.expires.isoformat()}: {f.waiver.reason}"
        child.text = _clean(detail + expired + (f"\nFix: {f.remediation}" if f.remediation else ""))
        suite.counts["failures"] += 1
    elif f.outcome is Outcome.ERROR:
        child = ET.SubElement(case, "error", {"message": _clean(f.message), "type": "policy-error"})
        child.text = _clean(detail)
        suite.counts["errors"] += 1
    elif f.outcome is Outcome.SKIP:
        ET.SubElement(case, "skipped", {"message": _clean(f.message)})
        suite.counts["skipped"] += 1


def _error_case(suite: _Suite, e: LoadError) -> None:
    case = _case(suite, "load-error", _where(e.file, e.line), e.file, e.line)
    child = ET.SubElement(case, "error", {"message": _clean(e.message), "type": "load-error"})
    child.text = _clean(f"{_where(e.file, e.line)}\n{e.message}")
    suite.counts["errors"] += 1


def to_element(report: Report) -> ET.Element:
    suites: dict[str, _Suite] = {}

    def suite(file: str) -> _Suite:
        name = relative_path(file)
        return suites.setdefault(name, _Suite(name))

    for record in report.files:
        if record.status is FileStatus.SCANNED:
            suite(record.path)
    reasons: dict[int, str] = {}
    for f in report.waived:
        w = f.waiver
        until = f"until {w.expires.isoformat()}" if w and w.expires else "open-ended"
        reasons[id(f)] = f"waived {until}: {w.reason if w else ''}"
    for f in report.baselined:
        reasons[id(f)] = "baselined: a known finding recorded in the baseline"
    every = (*report.findings, *report.unresolved, *report.passes, *report.waived, *report.baselined)
    for f in sorted(every, key=lambda f: f.sort_key):
        _finding_case(suite(f.location.file), f, reasons.get(id(f), ""))
    for e in report.errors:
        _error_case(suite(e.file), e)
    errors_shown = {e.file for e in report.errors}
    for record in report.files:  # an unreadable file without its error (defensive: there always is one)
        if record.status is FileStatus.ERROR and record.path not in errors_shown:
            _error_case(suite(record.path), LoadError(record.path, record.reason or "could not be read"))
    skipped_files = _Suite(SKIPPED_SUITE)
    for record in report.files:
        if record.status is FileStatus.SKIPPED:
            case = _case(skipped_files, "skipped-file", relative_path(record.path), record.path, None)
            ET.SubElement(case, "skipped", {"message": _clean(record.reason or "not scanned")})
            skipped_files.counts["skipped"] += 1

    root = ET.Element("testsuites", {"name": "iac-validator"})
    totals = dict.fromkeys(_COUNTS, 0)
    for name in sorted(suites):
        s = suites[name]
        element = ET.SubElement(
            root, "testsuite", {"name": _clean(name), **{k: str(v) for k, v in s.counts.items()}, "time": "0"}
        )
        element.extend(s.cases)
        for k in _COUNTS:
            totals[k] += s.counts[k]
    summary = ET.SubElement(
        root, "testsuite", {"name": SKIPPED_SUITE, **{k: str(v) for k, v in skipped_files.counts.items()}, "time": "0"}
    )
    properties = ET.SubElement(summary, "properties")
    for status, count in file_counts(report).items():
        ET.SubElement(properties, "property", {"name": f"files.{status}", "value": str(count)})
    summary.extend(skipped_files.cases)
    ET.SubElement(summary, "system-out").text = _clean(summary_line(report))
    for k in _COUNTS:
        totals[k] += skipped_files.counts[k]
    root.attrib.update({k: str(v) for k, v in totals.items()})
    root.set("time", "0")
    return root


def render(report: Report) -> str:
    root = to_element(report)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
