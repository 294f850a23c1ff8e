"""SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers.

Re-exports the helpers the other CI reporters share, defined in validator/fingerprint.py:
`relative_path` (how a finding's file is shown) and `fingerprint` / `fingerprints` (the stable
identity of a finding, used by SARIF `partialFingerprints`, GitLab Code Quality `fingerprint` and
baseline files alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from validator.fingerprint import fingerprint, fingerprints, relative_path
from validator.model import (
    FileStatus,
    Finding,
    Outcome,
    Policy,
    Remediation,
    Report,
    Severity,
    Waiver,
    WaiverSource,
)
from validator.reporters.pretty import chunks as pretty_chunks
from validator.secrets import mask

__all__ = ["file_counts", "fingerprint", "fingerprints", "relative_path", "render", "summary_line", "to_dict"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "iac-validator"
# The project has no public home page yet: point at the practice the tool enforces.
INFORMATION_URI = "https://docs.aws.amazon.com/wellarchitected/latest/security-pillar/sec_identities_unique.html"
PRACTICE = "SEC02-BP02"
FINGERPRINT_KEY = "iacValidator/v1"

# GitHub code scanning reads `security-severity` (a CVSS-like score) to rank alerts.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}

# Descriptors of the tool execution notifications (problems of the run, not of the templates).
NOTIFICATIONS: tuple[dict[str, Any], ...] = (
    {
        "id": "load-error",
        "name": "LoadError",
        "shortDescription": {"text": "An input or policy file could not be read; the other files were scanned."},
        "defaultConfiguration": {"level": "error"},
    },
    {
        "id": "policy-error",
        "name": "PolicyError",
        "shortDescription": {"text": "A policy failed while evaluating a resource; the run went on."},
        "defaultConfiguration": {"level": "error"},
    },
    {
        "id": "file-skipped",
        "name": "FileSkipped",
        "shortDescription": {"text": "An input file was not scanned: not a template, excluded, too large, binary, a link not followed."},
        "defaultConfiguration": {"level": "note"},
    },
    {
        "id": "scan-summary",
        "name": "ScanSummary",
        "shortDescription": {"text": "How many input files were scanned, skipped and could not be read."},
        "defaultConfiguration": {"level": "note"},
    },
)

def file_counts(report: Report) -> dict[str, int]:
    """Input files per status: every file of the scan is scanned, skipped or an error."""
    counts = {s.value: 0 for s in FileStatus}
    for record in report.files:
        counts[record.status.value] += 1
    return counts


def summary_line(report: Report) -> str:
    counts = file_counts(report)
    return (
        f"iac-validator: {counts['scanned']} file(s) scanned, {counts['skipped']} skipped, {counts['error']} could not be read; "
        f"{report.resources_scanned} resource(s)"
    )


def failing(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that are results/issues in CI formats: FAIL outcomes, in report order."""
    return [f for f in findings if f.outcome is Outcome.FAIL]


def _uri(path: str) -> str:
    return quote(relative_path(path), safe="/:@!$&'()*+,;=-._~")


def _rule_name(title: str, policy_id: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words) or re.sub(r"[^A-Za-z0-9]", "", policy_id)


def _fence(code: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def help_texts(remediation: Remediation) -> tuple[str, str]:
    """(plain text, markdown) of a remediation with its CloudFormation and Terraform snippets."""
    text, markdown = [remediation.text], [remediation.text]
    for label, lang, snippet in (
        ("CloudFormation", "yaml", remediation.cloudformation),
        ("Terraform", "hcl", remediation.terraform),
    ):
        if snippet.strip():
            code = snippet.rstrip("\n")
            fence = _fence(code)
            text.append(f"{label}:\n{code}")
            markdown.append(f"**{label}**\n\n{fence}{lang}\n{code}\n{fence}")
    return "\n\n".join(t for t in text if t), "\n\n".join(m for m in markdown if m)


def _rule(policy: Policy | None, finding: Finding) -> dict[str, Any]:
    if policy is None:  # a finding whose policy is not in the report: describe it from the finding
        policy_id, title, severity, group = finding.policy_id, finding.title, finding.severity, ""
        rationale, remediation, references = finding.title, Remediation(finding.remediation), ()
    else:
        policy_id, title, severity, group = policy.id, policy.title, policy.severity, policy.group
        rationale, remediation, references = policy.rationale, policy.remediation, policy.references
    text, markdown = help_texts(remediation)
    rule: dict[str, Any] = {
        "id": policy_id,
        "name": _rule_name(title, policy_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": " ".join(rationale.split()) or title},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "help": {"text": text or title, "markdown": markdown or title},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "tags": ["security", *([group] if group else []), PRACTICE],
        },
    }
    if references:
        rule["helpUri"] = references[0]
    return rule


def _physical(file: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(file)}}
    if line and line > 0:
        physical["region"] = {"startLine": line}
    return physical


def _location(f: Finding) -> dict[str, Any]:
    return {
        "physicalLocation": _physical(f.location.file, f.location.line),
        "logicalLocations": [
            {"name": f.resource_id, "kind": "resource", "fullyQualifiedName": f"{f.resource_type}/{f.resource_id}"}
        ],
    }


def _masked(value: Any) -> Any:
    """Every string value (not keys) through `mask`: defence in depth, messages are masked upstream."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _justification(w: Waiver) -> str:
    until = f"until {w.expires.isoformat()}" if w.expires else "open-ended"
    owner = f", owner {w.owner}" if w.owner else ""
    return f"{w.reason} (waived {until}{owner})"


def _waiver_suppression(w: Waiver) -> dict[str, Any]:
    """A waiver as a SARIF suppression: in the source for inline waivers, external for config ones."""
    return {
        "kind": "inSource" if w.source is WaiverSource.INLINE else "external",
        "status": "accepted",
        "justification": _justification(w),
        "location": {"physicalLocation": _physical(w.location.file, w.location.line)},
    }


def _baseline_suppression(report: Report) -> dict[str, Any]:
    return {
        "kind": "external",
        "status": "accepted",
        "justification": f"known finding, recorded in the baseline {relative_path(report.baseline or '')}",
    }


def _call_location(index: int, call: str) -> dict[str, Any]:
    """ "main.tf:12 module.vendor" → a related location with that file and line."""
    where, _, name = call.partition(" ")
    file, _, line = where.rpartition(":")
    physical = _physical(file, int(line)) if line.isdigit() and file else _physical(where, None)
    return {"id": index, "physicalLocation": physical, "message": {"text": mask(f"called from {name}".strip())}}


def _result(f: Finding, fp: str, rule_index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.policy_id,
        "ruleIndex": rule_index[f.policy_id],
        "level": LEVEL[f.severity],
        "message": {"text": f"{f.resource_id} ({f.resource_type}): {f.message}"},
        "locations": [_location(f)],
        "partialFingerprints": {FINGERPRINT_KEY: fp},
    }
    related = [_call_location(i, call) for i, call in enumerate(f.called_from)]
    if related:  # the module calls that reach this resource: where a fix may belong instead
        result["relatedLocations"] = related
    if f.waiver is not None and f.waiver_expired:
        expires = f.waiver.expires.isoformat() if f.waiver.expires else None
        result["properties"] = {"waiverExpired": expires, "waiverReason": f.waiver.reason}
    return result


def to_dict(report: Report) -> dict[str, Any]:
    failures = failing(report.findings)
    tool_errors = [f for f in report.findings if f.outcome is Outcome.ERROR]
    policies = {p.id: p for p in report.policies}
    # Waived and baselined findings are results too, carrying SARIF `suppressions`.
    suppressed = [*report.waived, *report.baselined]

    rule_index: dict[str, int] = {}
    rules: list[dict[str, Any]] = []
    for f in sorted([*failures, *suppressed], key=lambda f: f.policy_id):
        if f.policy_id not in rule_index:
            rule_index[f.policy_id] = len(rules)
            rules.append(_rule(policies.get(f.policy_id), f))

    everything = [*failures, *suppressed]
    results = [_result(f, fp, rule_index) for f, fp in zip(everything, fingerprints(everything), strict=True)]
    for result, f in zip(results[len(failures) :], suppressed, strict=True):
        if f.waiver is not None and not f.waiver_expired:
            result["suppressions"] = [_waiver_suppression(f.waiver)]
        else:
            result["suppressions"] = [_baseline_suppression(report)]
            result["baselineState"] = "unchanged"
    if report.baseline is not None:
        for result in results[: len(failures)]:
            result["baselineState"] = "new"

    skipped = [r for r in report.files if r.status is FileStatus.SKIPPED]
    # Every input file is accounted for: errors above, skipped files as notes, and a summary.
    unreported = [r for r in report.files if r.status is FileStatus.ERROR and r.path not in {e.file for e in report.errors}]
    wanted = {
        "load-error": bool(report.errors or unreported),
        "policy-error": bool(tool_errors),
        "file-skipped": bool(skipped),
        "scan-summary": True,
    }
    used = [d for d in NOTIFICATIONS if wanted[d["id"]]]
    descriptor = {d["id"]: {"id": d["id"], "index": i} for i, d in enumerate(used)}
    notifications: list[dict[str, Any]] = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [{"physicalLocation": _physical(e.file, e.line)}],
            "descriptor": descriptor["load-error"],
        }
        for e in report.errors
    ]
    notifications += [
        {
            "level": "error",
            "message": {"text": r.reason or "could not be read"},
            "locations": [{"physicalLocation": _physical(r.path, None)}],
            "descriptor": descriptor["load-error"],
        }
        for r in unreported
    ]
    for f in tool_errors:
        notification = {
            "level": "error",
            "message": {"text": f"{f.policy_id} on {f.resource_id} ({f.resource_type}): {f.message}"},
            "locations": [_location(f)],
            "descriptor": descriptor["policy-error"],
        }
        if f.policy_id in rule_index:
            notification["associatedRule"] = {"id": f.policy_id, "index": rule_index[f.policy_id]}
        notifications.append(notification)
    notifications += [
        {
            "level": "note",
            "message": {"text": f"skipped: {r.reason or 'not scanned'}"},
            "locations": [{"physicalLocation": _physical(r.path, None)}],
            "descriptor": descriptor["file-skipped"],
        }
        for r in skipped
    ]
    notifications.append(
        {"level": "note", "message": {"text": summary_line(report)}, "descriptor": descriptor["scan-summary"]}
    )
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "toolExecutionNotifications": notifications,
        "properties": {"files": file_counts(report)},
    }

    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "version": report.tool_version,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }
    if used:
        driver["notifications"] = used

    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        # Every scanned file is an analysis target, findings or not (skipped and unreadable files
        # are notifications above): every input file is accounted for.
        "artifacts": [
            {
                "location": {"uri": _uri(r.path)},
                "roles": ["analysisTarget"],
                "properties": {"format": r.format.value if r.format else None, "resources": r.resources},
            }
            for r in report.files
            if r.status is FileStatus.SCANNED
        ],
        "results": results,
    }
    return _masked({"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]})


def render(report: Report) -> str:
    return "".join(chunks(report))


def chunks(report: Report) -> Iterator[str]:
    yield from pretty_chunks(to_dict(report), ensure_ascii=False, depth=4)  # walked down to runs[0].results[i]
    yield "\n"
