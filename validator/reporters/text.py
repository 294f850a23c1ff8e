"""Human-readable report: coloured on a terminal, plain text when piped."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.markup import escape

from validator.model import FileStatus, Report, Severity
from validator.scoring import FORMULA

_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}
_MAX_LISTED = 20  # unresolved values and skipped files listed one by one; the rest counted


def render(report: Report, color: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    out = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False, soft_wrap=True)
    statuses = Counter(r.status for r in report.files)
    out.print(
        f"[bold]iac-validator {escape(report.tool_version)}[/]: {statuses[FileStatus.SCANNED]} file(s) scanned, "
        f"{statuses[FileStatus.SKIPPED]} skipped, {statuses[FileStatus.ERROR]} error(s); "
        f"{report.resources_scanned} resource(s), {len(report.policies)} polic{'y' if len(report.policies) == 1 else 'ies'}"
    )
    out.print()

    for f in report.findings:
        style = _STYLE[f.severity]
        out.print(f"[{style}]{f.severity.value.upper():8}[/] [bold]{f.policy_id}[/]  {escape(f.title)}")
        out.print(f"         {escape(str(f.location))}  {escape(f.resource_id)} ({escape(f.resource_type)})")
        out.print(f"         {escape(f.message)}")
        if f.remediation:
            out.print(f"         [dim]Fix:[/] {escape(f.remediation)}")
        out.print()
    if not report.findings:
        out.print("[green]No failing findings.[/]")
        out.print()

    if report.unresolved:
        out.print(f"[bold]Unresolved[/] (not failures: the value is not known statically): {len(report.unresolved)}")
        for f in report.unresolved[:_MAX_LISTED]:
            out.print(f"  {escape(str(f.location))}  {f.policy_id}  {escape(f.resource_id)}: {escape(f.message)}")
        if len(report.unresolved) > _MAX_LISTED:
            out.print(f"  … and {len(report.unresolved) - _MAX_LISTED} more (see --format json)")
        out.print()

    if report.errors:
        out.print(f"[bold red]Errors[/] ({len(report.errors)}): these inputs could not be read; the rest was scanned")
        for e in report.errors:
            out.print(f"  {escape(str(e))}")
        out.print()

    _inventory(out, report)

    skipped = [r for r in report.files if r.status is FileStatus.SKIPPED]
    if skipped:
        out.print(f"[bold]Skipped[/] ({len(skipped)}):")
        for r in skipped[:_MAX_LISTED]:
            out.print(f"  {escape(r.path)}: {escape(r.reason)}")
        if len(skipped) > _MAX_LISTED:
            out.print(f"  … and {len(skipped) - _MAX_LISTED} more (see --format json)")
        out.print()

    scored = [(path, s) for path, s in report.file_scores.items() if sum(s.counts.values())]
    if scored:
        out.print("[bold]Files with findings[/]")
        for path, s in sorted(scored):
            found = ", ".join(f"{n} {sev}" for sev, n in s.counts.items() if n)
            out.print(f"  {escape(path)}: score {s.value} ({s.grade}); {found}")
        out.print()

    counts = report.score.counts
    out.print(
        f"Findings: {counts['critical']} critical, {counts['high']} high, {counts['medium']} medium, {counts['low']} low; "
        f"{report.passed} check(s) passed, {len(report.unresolved)} unresolved"
    )
    out.print(f"[bold]Score {report.score.value}/100, grade {report.score.grade}[/]  [dim]({FORMULA})[/]")
    if report.gate_passed:
        out.print("[bold green]Gate: PASSED[/]" + _gate_settings(report))
    else:
        out.print(f"[bold red]Gate: FAILED[/] ({escape('; '.join(report.gate_reasons))})" + _gate_settings(report))
    return buffer.getvalue()


def _inventory(out: Console, report: Report) -> None:
    """SEC02-BP02 step one: every long-term credential, and every way in to a role."""
    credentials = [e for e in report.inventory if e.kind != "role-trust"]
    ways_in = [e for e in report.inventory if e.kind == "role-trust"]
    if not report.inventory:
        return
    out.print(f"[bold]Credential inventory[/] ({len(credentials)} long-term credential(s), {len(ways_in)} way(s) in to roles)")
    for title, entries in (("Long-term credentials", credentials), ("Ways in to roles", ways_in)):
        if not entries:
            continue
        out.print(f"  {title}:")
        for e in entries[:_MAX_LISTED]:
            kind = "" if e.kind == "role-trust" else f"{e.kind}: "
            out.print(f"    {escape(str(e.location))}  {escape(e.resource_id)}: {escape(kind + e.detail)}")
        if len(entries) > _MAX_LISTED:
            out.print(f"    … and {len(entries) - _MAX_LISTED} more (see --format json)")
    out.print()


def _gate_settings(report: Report) -> str:
    parts = [f"--fail-on {report.fail_on.value}" if report.fail_on else "--fail-on none"]
    if report.fail_under is not None:
        parts.append(f"--fail-under {report.fail_under}")
    return f" [dim]{escape(' '.join(parts))}[/]"
