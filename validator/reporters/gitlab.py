"""GitLab Code Quality report (the Code Climate issue subset GitLab reads): a JSON list of issues.

Use it as `artifacts: reports: codequality:` in .gitlab-ci.yml. Fingerprints are the SARIF ones.
"""

from __future__ import annotations

import json
from typing import Any

from validator.model import Report, Severity
from validator.reporters.sarif import failing, fingerprints, relative_path
from validator.secrets import mask

SEVERITY = {Severity.CRITICAL: "critical", Severity.HIGH: "major", Severity.MEDIUM: "minor", Severity.LOW: "info"}


def to_list(report: Report) -> list[dict[str, Any]]:
    failures = failing(report.findings)
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
    ]


def render(report: Report) -> str:
    return json.dumps(to_list(report), indent=2, ensure_ascii=False) + "\n"
