"""Human-readable report: coloured on a terminal, plain text when piped."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.markup import escape

from validator.model import FileStatus, Report, Severity, Waiver, WaiverSource, WaiverStatus
from validator.scoring import FORMULA
from validator.suppress import target

_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}
_MAX_LISTED = 20  # unresolved values and skipped files listed one by one; the rest counted


def render(report: Report, color: bool = False, width: int = 100, verbosity: int = 0) -> str:
    """`verbosity` -1 (--quiet): failing findings and the verdict only; 1 (--verbose): no list is
    capped and passing checks are listed too."""
    buffer = io.StringIO()
    out = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False, soft_wrap=True)
    limit = None if verbosity > 0 else _MAX_LISTED
    statuses = Counter(r.status for r in report.files)
    if verbosity >= 0:
        out.print(
            f"[bold]iac-validator {escape(report.tool_version)}[/]: {statuses[FileStatus.SCANNED]} file(s) scanned, "
            f"{statuses[FileStatus.SKIPPED]} skipped, {statuses[FileStatus.ERROR]} error(s); "
            f"{report.resources_scanned} resource(s), {len(report.policies)} polic{'y' if len(report.policies) == 1 else 'ies'}"
        )
        out.print()
        _scope(out, report, limit)

    for f in report.findings:
        style = _STYLE[f.severity]
        out.print(f"[{style}]{f.severity.value.upper():8}[/] [bold]{f.policy_id}[/]  {escape(f.title)}")
        out.print(f"         {escape(str(f.location))}  {escape(f.resource_id)} ({escape(f.resource_type)})")
        if f.called_from:
            out.print(f"         [dim]called from[/] {escape(' > '.join(f.called_from))}")
        out.print(f"         {escape(f.message)}")
        if f.waiver is not None and f.waiver_expired:
            out.print(f"         [bold red]{escape(waiver_expired_text(f.waiver))}[/]")
        if f.remediation and verbosity >= 0:
            out.print(f"         [dim]Fix:[/] {escape(f.remediation)}")
        out.print()
    if not report.findings:
        out.print("[green]No failing findings.[/]")
        out.print()
    if verbosity < 0:
        _errors(out, report)
        _verdict(out, report)
        return buffer.getvalue()

    _waived(out, report, limit)
    _baseline(out, report, limit)

    if report.unresolved:
        out.print(f"[bold]Unresolved[/] (not failures: the value is not known statically): {len(report.unresolved)}")
        for f in report.unresolved[:limit]:
            out.print(f"  {escape(str(f.location))}  {f.policy_id}  {escape(f.resource_id)}: {escape(f.message)}")
        _more(out, len(report.unresolved), limit)
        out.print()

    _errors(out, report)

    _inventory(out, report)

    skipped = [r for r in report.files if r.status is FileStatus.SKIPPED]
    if skipped:
        out.print(f"[bold]Skipped[/] ({len(skipped)}):")
        for r in skipped[:limit]:
            out.print(f"  {escape(r.path)}: {escape(r.reason)}")
        _more(out, len(skipped), limit)
        out.print()

    scored = [(path, s) for path, s in report.file_scores.items() if sum(s.counts.values())]
    if scored:
        out.print("[bold]Files with findings[/]")
        for path, s in sorted(scored):
            found = ", ".join(f"{n} {sev}" for sev, n in s.counts.items() if n)
            out.print(f"  {escape(path)}: score {s.value} ({s.grade}); {found}")
        out.print()

    scanned = [r for r in report.files if r.status is FileStatus.SCANNED]
    if verbosity > 0 and scanned:
        out.print(f"[bold]Scanned[/] ({len(scanned)}):")
        for r in scanned:
            kind = f"{r.format.value}, " if r.format else ""
            out.print(f"  {escape(r.path)} [dim]({escape(kind)}{r.resources} resource(s))[/]")
        out.print()

    if verbosity > 0 and report.passes:
        out.print(f"[bold]Passed[/] ({report.passed}):")
        for f in report.passes:
            out.print(f"  {escape(str(f.location))}  {f.policy_id}  {escape(f.resource_id)}")
        out.print()

    _verdict(out, report)
    return buffer.getvalue()


def _verdict(out: Console, report: Report) -> None:
    counts = report.score.counts
    extra = "".join(
        f", {n} {label}" for n, label in ((len(report.waived), "waived"), (len(report.baselined), "baselined")) if n
    )
    out.print(
        f"Findings: {counts['critical']} critical, {counts['high']} high, {counts['medium']} medium, {counts['low']} low; "
        f"{report.passed} check(s) passed, {len(report.unresolved)} unresolved{extra}"
    )
    out.print(f"[bold]Score {report.score.value}/100, grade {report.score.grade}[/]  [dim]({FORMULA})[/]")
    if report.gate_passed:
        out.print("[bold green]Gate: PASSED[/]" + _gate_settings(report))
    else:
        out.print(f"[bold red]Gate: FAILED[/] ({escape('; '.join(report.gate_reasons))})" + _gate_settings(report))


def _more(out: Console, count: int, limit: int | None) -> None:
    if limit is not None and count > limit:
        out.print(f"  … and {count - limit} more (see --format json, or --verbose)")


def _errors(out: Console, report: Report) -> None:
    if report.errors:
        out.print(
            f"[bold red]Errors[/] ({len(report.errors)}): inputs that could not be read, malformed waivers; "
            "the rest was scanned"
        )
        for e in report.errors:
            out.print(f"  {escape(str(e))}")
        out.print()


def waiver_where(w: Waiver) -> str:
    kind = "inline waiver" if w.source is WaiverSource.INLINE else "configuration waiver"
    return f"{kind} at {w.location}"


def waiver_expired_text(w: Waiver) -> str:
    when = w.expires.isoformat() if w.expires else "?"
    owner = f", owner {w.owner}" if w.owner else ""
    return f"Waiver expired on {when} ({waiver_where(w)}{owner}): {w.reason}"


def _waived(out: Console, report: Report, limit: int | None) -> None:
    if report.waived:
        out.print(f"[bold]Waived[/] ({len(report.waived)}): not counted in the score or the gate")
        for f in report.waived[:limit]:
            w = f.waiver
            out.print(f"  {escape(str(f.location))}  {f.policy_id}  {escape(f.resource_id)}: {escape(f.message)}")
            if w is not None:
                until = f"until {w.expires.isoformat()}" if w.expires else "open-ended"
                owner = f", owner {w.owner}" if w.owner else ""
                out.print(f"      [dim]waived {until} by {escape(waiver_where(w))}{escape(owner)}:[/] {escape(w.reason)}")
        _more(out, len(report.waived), limit)
        out.print()
    unused = [u for u in report.waivers if u.status is WaiverStatus.STALE or (u.status is WaiverStatus.EXPIRED and not u.matches)]
    if unused:
        out.print(f"[bold yellow]Waivers that waive nothing[/] ({len(unused)}): remove them")
        for u in unused[:limit]:
            w = u.waiver
            if u.status is WaiverStatus.EXPIRED:
                state = f"expired on {w.expires.isoformat() if w.expires else '?'}, matches nothing"
            else:
                state = "stale: matches no failing finding"
            out.print(
                f"  {escape(str(w.location))}  {w.policy_id} on {escape(target(w))}: {state} ({escape(w.reason)})"
            )
        _more(out, len(unused), limit)
        out.print()


def _baseline(out: Console, report: Report, limit: int | None) -> None:
    if report.baseline is None:
        return
    out.print(
        f"[bold]Baseline[/] {escape(report.baseline)}: {len(report.baselined)} known finding(s) not counted, "
        f"{sum(1 for f in report.findings if f.outcome.value == 'fail')} new, {len(report.fixed)} fixed"
    )
    for e in report.fixed[:limit]:
        out.print(f"  fixed: {escape(e.file)}  {e.policy_id}  {escape(e.resource_id)}: {escape(e.message)}")
    _more(out, len(report.fixed), limit)
    out.print()


def _scope(out: Console, report: Report, limit: int | None) -> None:
    scope = report.scope
    if scope is None:
        return
    out.print(
        f"[bold]Scope[/]: changed since {escape(scope.since)}: {len(scope.changed)} changed file(s), "
        f"{len(scope.scanned)} path(s) in scope"
    )
    for entry in scope.scanned[:limit]:
        out.print(f"  {escape(entry.path)} [dim]({escape(entry.reason)})[/]")
    _more(out, len(scope.scanned), limit)
    if not scope.scanned:
        out.print("  no changed template or Terraform file")
    out.print()


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
