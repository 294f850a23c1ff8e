"""GitLab Code Quality report (the Code Climate issue subset GitLab reads): a JSON list of issues.

Use it as `artifacts: reports: codequality:` in .gitlab-ci.yml. Fingerprints are the SARIF ones.
Input files that could not be read (`iac-validator:load-error`, major) and files that were not
scanned (`iac-validator:skipped-file`, info) are issues too, after the findings.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from validator.model import FileStatus, Report, Severity
from validator.reporters.sarif import failing, fingerprints, relative_path
from validator.secrets import mask

SEVERITY = {Severity.CRITICAL: "critical", Severity.HIGH: "major", Severity.MEDIUM: "minor", Severity.LOW: "info"}


LOAD_ERROR = "iac-validator:load-error"
SKIPPED_FILE = "iac-validator:skipped-file"


def _file_issue(check: str, severity: str, path: str, line: int | None, message: str) -> dict[str, Any]:
    """An input file that could not be read, or was not scanned: Code Quality has no other place
    for them, and every input file is accounted for in every format."""
    where = relative_path(path)
    return {
        "description": mask(f"{check}: {where}: {message}"),
        "check_name": check,
        "fingerprint": hashlib.sha256("\0".join((check, mask(where), mask(message))).encode("utf-8")).hexdigest(),
        "severity": severity,
        "location": {"path": mask(where), "lines": {"begin": line if line and line > 0 else 1}},
    }


def to_list(report: Report) -> list[dict[str, Any]]:
    failures = failing(report.findings)
    files = [_file_issue(LOAD_ERROR, "major", e.file, e.line, e.message) for e in report.errors]
    files += [_file_issue(SKIPPED_FILE, "info", r.path, None, r.reason) for r in report.files if r.status is FileStatus.SKIPPED]
    return [
        {
            "description": mask(f"{f.policy_id}: {f.message}"),
            "check_name": mask(f.policy_id),
            "fingerprint": fp,
            "severity": SEVERITY[f.severity],
            "location": {
                "path": mask(relative_path(f.location.file)),
                "lines": {"begin": f.location.line if f.location.line and f.location.line > 0 else 1},
            },
        }
        for f, fp in zip(failures, fingerprints(failures), strict=True)
    ] + files


def render(report: Report) -> str:
    return json.dumps(to_list(report), indent=2, ensure_ascii=False) + "\n"
