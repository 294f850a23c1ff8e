"""Markdown report for a pull/merge request comment.

Gate result, score and counts first; then a table of failures (worst first, capped), one collapsible
section per policy that fired, and the unresolved / error / skipped counts. Sized to stay readable,
and under GitHub's 65,536-character comment limit, however many findings there are.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import quote

from validator.model import FileStatus, Finding, Outcome, Policy, Remediation, Report, Severity, WaiverStatus
from validator.reporters.sarif import failing, relative_path
from validator.secrets import mask

MARKER = "<!-- iac-validator -->"  # lets a CI job find and update its previous comment
MAX_ROWS = 50
MAX_POLICIES = 30
MAX_ERRORS = 20
MAX_SKIPPED = 50
MAX_CELL = 300  # characters of a message shown in a table cell
MAX_BYTES = 60_000  # the whole comment; policy sections are dropped first to stay under it

_ICON = {Severity.CRITICAL: "🟥", Severity.HIGH: "🟧", Severity.MEDIUM: "🟨", Severity.LOW: "🟦"}
_ESCAPE = re.compile(r"([\\`*_\[\]|~])")


def text(value: str, limit: int | None = None) -> str:
    """Inline markdown text: masked, on one line, markdown and HTML characters escaped."""
    value = " ".join(mask(value).split())
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPE.sub(r"\\\1", value)


def code(value: str, in_table: bool = False) -> str:
    """An inline code span (masked, one line); `|` escaped when it sits in a table cell."""
    value = " ".join(mask(value).split())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    if value.startswith("`") or value.endswith("`"):
        value = f" {value} "
    if in_table:
        value = value.replace("|", "\\|")
    return f"{fence}{value}{fence}"


def _block(snippet: str, lang: str) -> str:
    body = mask(snippet.rstrip("\n"))
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def _link(file: str, line: int | None) -> str:
    path = relative_path(file)
    label = f"{path}:{line}" if line else path
    target = quote(mask(path), safe="/-._~") + (f"#L{line}" if line else "")
    return f"[{text(label)}]({target})"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _head(report: Report) -> list[str]:
    if report.gate_passed:
        title = "## ✅ iac-validator: gate passed"
    else:
        reasons = "; ".join(report.gate_reasons) or "see below"
        title = f"## ❌ iac-validator: gate failed ({text(reasons)})"
    counts = report.score.counts
    severities = " · ".join(f"{_ICON[s]} {counts.get(s.value, 0)} {s.value}" for s in Severity)
    statuses = Counter(r.status for r in report.files)
    return [
        MARKER,
        title,
        "",
        f"**Score {report.score.value}/100 · grade {text(report.score.grade)}** · {severities}",
        "",
        f"{_plural(statuses[FileStatus.SCANNED], 'file')} scanned · "
        f"{statuses[FileStatus.SKIPPED]} skipped · "
        f"{statuses[FileStatus.ERROR]} could not be read · "
        f"{_plural(report.resources_scanned, 'resource')} · "
        f"{_plural(len(report.policies), 'policy', 'policies')} · "
        f"{_plural(report.passed, 'check')} passed · "
        f"{_plural(len(report.unresolved), 'check')} unresolved",
        "",
        *_counts(report),
    ]


def _counts(report: Report) -> list[str]:
    """Suppressed / baselined counts and the changed-files scope, when there are any."""
    parts = []
    if report.waived or report.baseline is not None:
        known = f"{len(report.waived)} waived"
        if report.baseline is not None:
            known += f" · {len(report.baselined)} baselined"
        parts.append(known + " (not counted in the score or gate)")
    if report.baseline is not None:
        parts.append(f"{len(report.fixed)} fixed since the baseline")
    if report.stale_waivers:
        parts.append(_plural(len(report.stale_waivers), "stale waiver"))
    if report.expired_waivers:
        parts.append(_plural(len(report.expired_waivers), "expired waiver"))
    lines = [" · ".join(parts), ""] if parts else []
    if report.scope is not None:
        lines += [
            f"Scope: files changed since {code(report.scope.since)}: {_plural(len(report.scope.changed), 'changed file')}, "
            f"{_plural(len(report.scope.scanned), 'path')} in scope",
            "",
        ]
    return lines


def _table(failures: list[Finding]) -> list[str]:
    if not failures:
        return ["No failing findings.", ""]
    ordered = sorted(failures, key=lambda f: (-f.severity.rank, f.sort_key))
    lines = [
        f"### Failures ({len(failures)})",
        "",
        "| Severity | Policy | Location | Resource | Message |",
        "|---|---|---|---|---|",
    ]
    for f in ordered[:MAX_ROWS]:
        lines.append(
            f"| {_ICON[f.severity]} {f.severity.value} | {text(f.policy_id)} | {_link(f.location.file, f.location.line)} "
            f"| {code(f.resource_id, in_table=True)} | {text(f.message, MAX_CELL)}{_expired(f)} |"
        )
    if len(ordered) > MAX_ROWS:
        lines += ["", f"… and {len(ordered) - MAX_ROWS} more failures"]
    return [*lines, ""]


def _expired(f: Finding) -> str:
    if f.waiver is None or not f.waiver_expired or f.waiver.expires is None:
        return ""
    return f" **(waiver expired on {f.waiver.expires.isoformat()})**"


def _suppressed(report: Report) -> list[str]:
    """Waived findings (collapsed, capped), waivers that waive nothing, and fixed baseline entries."""
    lines: list[str] = []
    if report.waived:
        lines += [
            "<details>",
            f"<summary>Waived: {_plural(len(report.waived), 'finding')} (not counted)</summary>",
            "",
            "| Policy | Location | Resource | Waived until | Reason |",
            "|---|---|---|---|---|",
        ]
        for f in report.waived[:MAX_ROWS]:
            w = f.waiver
            until = w.expires.isoformat() if w and w.expires else "open-ended"
            reason = (w.reason + (f" (owner {w.owner})" if w.owner else "")) if w else ""
            lines.append(
                f"| {text(f.policy_id)} | {_link(f.location.file, f.location.line)} | {code(f.resource_id, in_table=True)} "
                f"| {until} | {text(reason, MAX_CELL)} |"
            )
        if len(report.waived) > MAX_ROWS:
            lines.append(f"| … | | | | and {len(report.waived) - MAX_ROWS} more |")
        lines += ["", "</details>", ""]
    unused = [u for u in report.waivers if u.status is WaiverStatus.STALE or (u.status is WaiverStatus.EXPIRED and not u.matches)]
    if unused:
        lines += [f"**Waivers that waive nothing** ({len(unused)}): remove them.", ""]
        for u in unused[:MAX_ERRORS]:
            state = "stale" if u.status is WaiverStatus.STALE else f"expired on {u.waiver.expires}"
            lines.append(f"- {_link(u.waiver.location.file, u.waiver.location.line)}: {text(u.waiver.policy_id)} ({state}): {text(u.waiver.reason, MAX_CELL)}")
        if len(unused) > MAX_ERRORS:
            lines.append(f"- … and {len(unused) - MAX_ERRORS} more")
        lines.append("")
    if report.fixed:
        lines += [f"**Fixed since the baseline:** {_plural(len(report.fixed), 'finding')}.", ""]
    return lines


def _details(policy: Policy | None, sample: Finding, count: int) -> str:
    if policy is None:
        title, severity, rationale, remediation = sample.title, sample.severity, "", Remediation(sample.remediation)
        references: tuple[str, ...] = ()
    else:
        title, severity, rationale = policy.title, policy.severity, policy.rationale
        remediation, references = policy.remediation, policy.references
    parts = [
        "<details>",
        f"<summary><b>{text(sample.policy_id)}</b> · {severity.value} · {text(title)} "
        f"({_plural(count, 'finding')})</summary>",
        "",
    ]
    if rationale.strip():
        parts += [text(rationale), ""]
    if remediation.text.strip():
        parts += [f"**Fix:** {text(remediation.text)}", ""]
    for label, lang, snippet in (
        ("CloudFormation", "yaml", remediation.cloudformation),
        ("Terraform", "hcl", remediation.terraform),
    ):
        if snippet.strip():
            parts += [f"**{label}**", "", _block(snippet, lang), ""]
    if references:
        parts += ["References: " + " · ".join(f"<{mask(r)}>" for r in references), ""]
    return "\n".join([*parts, "</details>", ""])


MAX_INVENTORY = 40


def _inventory(report: Report) -> list[str]:
    """The SEC02-BP02 credential inventory, collapsed: long-term credentials first, then ways in to roles."""
    if not report.inventory:
        return []
    entries = sorted(report.inventory, key=lambda e: (e.kind == "role-trust", e.sort_key))
    credentials = sum(1 for e in entries if e.kind != "role-trust")
    lines = [
        "<details>",
        f"<summary>Credential inventory: {_plural(credentials, 'long-term credential')}, "
        f"{_plural(len(entries) - credentials, 'way')} in to roles</summary>",
        "",
        "| kind | where | resource | detail |",
        "|---|---|---|---|",
    ]
    for e in entries[:MAX_INVENTORY]:
        lines.append(f"| {text(e.kind)} | {_link(e.location.file, e.location.line)} | {code(e.resource_id, True)} | {text(e.detail, MAX_CELL)} |")
    if len(entries) > MAX_INVENTORY:
        lines.append(f"| … | | | and {len(entries) - MAX_INVENTORY} more (see the JSON report) |")
    return [*lines, "", "</details>", ""]


def _tail(report: Report) -> list[str]:
    lines: list[str] = _suppressed(report) + _inventory(report)
    if report.unresolved:
        lines += [
            f"**Unresolved:** {_plural(len(report.unresolved), 'check')} could not be decided statically "
            "(a value known only at deploy time); not failures.",
            "",
        ]
    tool_errors = [f for f in report.findings if f.outcome is Outcome.ERROR]
    entries = [f"- {_link(e.file, e.line)}: {text(e.message, MAX_CELL)}" for e in report.errors]
    entries += [
        f"- {_link(f.location.file, f.location.line)}: {text(f.policy_id)} on {code(f.resource_id)}: "
        f"{text(f.message, MAX_CELL)}"
        for f in tool_errors
    ]
    if entries:
        lines += [f"### Errors ({len(entries)})", "", *entries[:MAX_ERRORS]]
        if len(entries) > MAX_ERRORS:
            lines.append(f"- … and {len(entries) - MAX_ERRORS} more errors")
        lines.append("")
    skipped = [r for r in report.files if r.status is FileStatus.SKIPPED]
    if skipped:
        lines += [
            f"**Skipped:** {_plural(len(skipped), 'file')} (not a template, excluded, too large, binary, ...).",
            "",
            "<details>",
            "<summary>Skipped files</summary>",
            "",
            *(f"- {code(relative_path(r.path))}: {text(r.reason, MAX_CELL)}" for r in skipped[:MAX_SKIPPED]),
        ]
        if len(skipped) > MAX_SKIPPED:
            lines.append(f"- … and {len(skipped) - MAX_SKIPPED} more (see the JSON report)")
        lines += ["", "</details>", ""]
    return lines


def render(report: Report) -> str:
    failures = failing(report.findings)
    head = _head(report) + _table(failures)
    tail = _tail(report)

    fired: dict[str, list[Finding]] = {}
    for f in sorted(failures, key=lambda f: (-f.severity.rank, f.policy_id)):
        fired.setdefault(f.policy_id, []).append(f)
    policies = {p.id: p for p in report.policies}
    budget = MAX_BYTES - _size(head) - _size(tail) - 200
    middle: list[str] = ["### Policies", ""] if fired else []
    for policy_id, found in list(fired.items())[:MAX_POLICIES]:
        section = _details(policies.get(policy_id), found[0], len(found))
        budget -= _size([section])
        if budget < 0:
            break
        middle.append(section)
    shown = len(middle) - 2
    if fired and shown < len(fired):
        middle += [f"… and {_plural(len(fired) - shown, 'more policy', 'more policies')} (see the SARIF or JSON report)", ""]
    return "\n".join(head + middle + tail).rstrip("\n") + "\n"


def _size(lines: list[str]) -> int:
    return sum(len(line.encode()) + 1 for line in lines)
