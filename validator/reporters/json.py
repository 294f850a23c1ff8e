"""JSON report, schema version 1 (validator/reporters/report.schema.json)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from validator.model import Finding, Report, Waiver, WaiverUse
from validator.reporters.pretty import Lazy
from validator.reporters.pretty import chunks as pretty_chunks
from validator.scoring import FORMULA
from validator.secrets import mask

SCHEMA_VERSION = "1.0"


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "policy_id": f.policy_id,
        "title": f.title,
        "severity": f.severity.value,
        "outcome": f.outcome.value,
        "message": f.message,
        "resource": {"id": f.resource_id, "type": f.resource_type},
        "format": f.format.value,
        "location": {"file": f.location.file, "line": f.location.line},
        "remediation": f.remediation,
        **({"waiver": _waiver(f.waiver, "expired" if f.waiver_expired else "active")} if f.waiver else {}),
        **({"called_from": list(f.called_from)} if f.called_from else {}),
    }


def _waiver(w: Waiver, status: str, matches: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "policy_id": w.policy_id,
        "reason": mask(w.reason),
        "expires": w.expires.isoformat() if w.expires else None,
        "owner": w.owner or None,
        "source": w.source.value,
        "location": {"file": w.location.file, "line": w.location.line},
        "resources": list(w.resources),
        "resource_glob": w.resource_glob or None,
        "path_glob": w.path_glob or None,
        "status": status,
    }
    if status == "expired":
        out["note"] = f"waiver expired on {w.expires.isoformat() if w.expires else '?'}"
    if matches is not None:
        out["matches"] = matches
    return out


def waiver_use(u: WaiverUse) -> dict[str, Any]:
    """A waiver with its status and match count (also `iac-validator waivers list --format json`)."""
    return _waiver(u.waiver, u.status.value, u.matches)


def to_dict(report: Report) -> dict[str, Any]:
    """The document; its long lists are `Lazy` (iterate them, or `json.loads(render(report))`)."""
    statuses = {"scanned": 0, "skipped": 0, "error": 0}
    for record in report.files:
        statuses[record.status.value] += 1
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "iac-validator", "version": report.tool_version},
        "summary": {
            "files": statuses,
            "resources": report.resources_scanned,
            "policies": len(report.policies),
            "findings": dict(report.score.counts),
            "passed": report.passed,
            "unresolved": len(report.unresolved),
            "errors": len(report.errors),
            "waived": len(report.waived),
            "baselined": len(report.baselined),
            "fixed": len(report.fixed),
            "stale_waivers": len(report.stale_waivers),
            "expired_waivers": len(report.expired_waivers),
            "score": report.score.value,
            "grade": report.score.grade,
            "formula": FORMULA,
            "gate": {
                "passed": report.gate_passed,
                "fail_on": report.fail_on.value if report.fail_on else None,
                "fail_under": report.fail_under,
                "reasons": list(report.gate_reasons),
            },
        },
        "findings": Lazy(lambda: map(_finding, report.findings)),
        "unresolved": Lazy(lambda: map(_finding, report.unresolved)),
        "waived": Lazy(lambda: map(_finding, report.waived)),
        "baselined": Lazy(lambda: map(_finding, report.baselined)),
        "fixed": [
            {"policy_id": e.policy_id, "file": e.file, "resource": e.resource_id, "message": e.message, "fingerprint": e.fingerprint}
            for e in report.fixed
        ],
        "waivers": [waiver_use(u) for u in report.waivers],
        "baseline": report.baseline,
        "scope": None
        if report.scope is None
        else {
            "since": report.scope.since,
            "changed": list(report.scope.changed),
            "scanned": [{"path": e.path, "reason": e.reason} for e in report.scope.scanned],
        },
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors],
        "files": Lazy(lambda: (
            {
                "path": r.path,
                "status": r.status.value,
                "format": r.format.value if r.format else None,
                "reason": r.reason or None,
                "resources": r.resources,
                "score": report.file_scores[r.path].value if r.path in report.file_scores else None,
                "grade": report.file_scores[r.path].grade if r.path in report.file_scores else None,
                "findings": dict(report.file_scores[r.path].counts) if r.path in report.file_scores else None,
            }
            for r in report.files
        )),
        "policies": [{"id": p.id, "title": p.title, "severity": p.severity.value} for p in report.policies],
        "inventory": Lazy(lambda: (
            {
                "kind": e.kind,
                "resource": {"id": e.resource_id, "type": e.resource_type},
                "location": {"file": e.location.file, "line": e.location.line},
                "detail": mask(e.detail),
                "attributes": dict(e.attributes),
            }
            for e in report.inventory
        )),
    }


def render(report: Report) -> str:
    return "".join(chunks(report))


def chunks(report: Report) -> Iterator[str]:
    # Lists of findings, files and inventory entries are made as they are written (reporters/pretty.py).
    yield from pretty_chunks(to_dict(report))
    yield "\n"
