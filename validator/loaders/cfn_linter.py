"""`scan --cfn-lint`: cfn-lint's own template errors as findings of the report, one gate for both.

Only error-level rules (E....) are kept; a template cfn-lint cannot decode is already a load error of
ours. Each match becomes a failing finding with policy id `cfn-lint:<rule id>` (for example
`cfn-lint:E3012`), severity high, on the resource the match points into (or `template`) and the
match's line. cfn-lint's rules are imported only here, so only runs with the flag pay for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from validator.model import Finding, Format, Location, Outcome, Severity
from validator.secrets import mask

PREFIX = "cfn-lint:"
_SEVERITY = Severity.HIGH  # a template error fails the deployment: it gates like a high finding
_REGIONS = ["us-east-1"]
_DECODE_ERRORS = {"E0000"}  # parse errors: reported by our loader already


def lint(path: str, template: Mapping[str, Any], types: Mapping[str, str]) -> list[Finding]:
    """cfn-lint's error-level matches for one decoded template (cfn-lint may change it: pass a copy).
    `types` maps logical ids to resource types."""
    try:
        matches = list(_runner().validate_template(template))
    except Exception as exc:  # cfn-lint's own crash is reported, never raised
        return [_finding(path, "E0002", "cfn-lint failed", f"cfn-lint could not lint this template: {exc}", None, [])]
    out: list[Finding] = []
    for match in matches:
        rule = getattr(match, "rule", None)
        rule_id = str(getattr(rule, "id", ""))
        if not rule_id.startswith("E") or rule_id in _DECODE_ERRORS:
            continue
        line = getattr(match, "linenumber", None)
        out.append(
            _finding(
                path,
                rule_id,
                str(getattr(rule, "shortdesc", "") or rule_id),
                str(getattr(match, "message", "")),
                line if isinstance(line, int) and line > 0 else None,
                list(getattr(match, "path", None) or []),
                types,
                str(getattr(rule, "description", "")),
            )
        )
    return sorted(set(out), key=lambda f: f.sort_key)


@lru_cache(maxsize=1)
def _runner() -> Any:
    """cfn-lint's runner with its built-in rules, built once per process (about a second)."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=_REGIONS))


def _finding(
    path: str,
    rule_id: str,
    title: str,
    message: str,
    line: int | None,
    where: list[Any],
    types: Mapping[str, str] | None = None,
    description: str = "",
) -> Finding:
    resource_id, resource_type = "template", "template"
    if len(where) >= 2 and where[0] == "Resources":
        resource_id = str(where[1])
        resource_type = (types or {}).get(resource_id, "resource")
    elif where:
        resource_id, resource_type = "/".join(str(p) for p in where[:2]), str(where[0])
    return Finding(
        policy_id=PREFIX + rule_id,
        title=title,
        severity=_SEVERITY,
        outcome=Outcome.FAIL,
        message=mask(message),
        resource_id=resource_id,
        resource_type=resource_type,
        format=Format.CLOUDFORMATION,
        location=Location(path, line),
        remediation=description,
    )
