"""One scan, stage by stage: discover → load → evaluate → suppress (waivers, baseline) → score.
Returns the Report; writes nothing."""

from __future__ import annotations

import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import date
from typing import Any

from validator import __version__, globs, suppress
from validator.cache import open_cache
from validator.config import Config
from validator.discover import Plan, SourceFile, discover
from validator.engine.policies import builtin_policy_dir, load_policies
from validator.execute import Progress, results
from validator.model import (
    FileRecord,
    FileStatus,
    Finding,
    InventoryEntry,
    LoadError,
    Outcome,
    Policy,
    Report,
    Waiver,
)
from validator.repo_config import CONFIG_NAMES, select_policies
from validator.scoring import gate, score
from validator.secrets import Masker, mask, mask_report, mask_value
from validator.units import split
from validator.work import inline_waivers, load_all  # noqa: F401 - the stages, for callers of run

STDIN = "-"
STDIN_LABEL = "<stdin>"


def run(config: Config, progress: Progress | None = None) -> Report:
    # The composition edge decides "today" (the CLI passes it in); suppress never reads the clock.
    today = config.today or date.today()
    dirs = ([builtin_policy_dir()] if config.builtin_policies else []) + list(config.policy_dirs)
    policies, errors = load_policies(dirs)
    policies, selection_errors = select_policies(
        policies, config.enable, config.disable, config.severity, config.config_file or "configuration"
    )
    errors.extend(selection_errors)
    with _stdin_paths(config) as (paths, stdin_path):
        plan = discover(paths, max_bytes=config.max_file_size, follow_symlinks=config.follow_symlinks)
        errors.extend(plan.errors)
        records = [_config_record(r) for r in plan.records]
        records.extend(_exclude(plan, config.exclude, config.base_dir))
        units = split(plan, config.cfn_parameters, config.tf_source)
        unit_count = len(units)
        del plan  # each unit holds its own files
        cache = open_cache(config, policies)
        findings: list[Finding] = []
        entries: list[InventoryEntry] = []
        inline: dict[tuple[str, int | None, str], Waiver] = {}
        waiver_errors: list[LoadError] = list(config.config_errors)
        resources = passed = 0
        secrets: set[str] = set()  # every secret value a template holds: masked wherever it shows up
        timed_out: dict[str, str] = {}  # file → why its evaluation was stopped
        seen_errors = set(errors)
        for result in results(units, policies, config, cache, progress):
            new = [e for e in result.errors if e not in seen_errors]  # --var-file errors come with every unit
            seen_errors.update(new)
            errors.extend(new)
            records.extend(result.records)
            resources += result.resources
            passed += result.passed
            secrets |= result.secrets
            findings.extend(result.findings)
            entries.extend(result.entries)
            timed_out.update(result.timed_out)
            _merge_waivers(inline, list(result.waivers))
            waiver_errors.extend(e for e in result.waiver_errors if e not in waiver_errors)
    if timed_out:  # a file whose evaluation was stopped is an error, not scanned
        records = [
            replace(r, status=FileStatus.ERROR, reason=timed_out[r.path]) if r.path in timed_out and r.status is FileStatus.SCANNED else r
            for r in records
        ]
    masker = Masker(secrets)
    waivers = [inline[k] for k in sorted(inline, key=lambda k: (k[0], k[1] or 0, k[2]))] + list(config.waivers)
    applied = suppress.apply_waivers(findings, waivers, today, config.base_dir)
    # Masked before the baseline: a baseline file is written from a masked report.
    counting = mask_value(list(applied.findings), masker)
    waived = mask_value(applied.waived, masker)
    baselined: tuple[Finding, ...] = ()
    fixed: tuple[Any, ...] = ()
    if config.baseline is not None:
        scanned = [masker(r.path) for r in records if r.status is FileStatus.SCANNED]
        compared = suppress.apply_baseline(counting, config.baseline, scanned, waived)
        counting, baselined, fixed = list(compared.findings), compared.baselined, compared.fixed
    report = build_report(
        policies, records, counting, [*errors, *waiver_errors], resources, config, waiver_errors=len(waiver_errors), passed=passed
    )
    report = replace(
        report,
        inventory=tuple(sorted(set(entries), key=lambda e: e.sort_key)),
        waived=tuple(sorted(waived, key=lambda f: f.sort_key)),
        baselined=tuple(sorted(baselined, key=lambda f: f.sort_key)),
        fixed=tuple(fixed),
        waivers=applied.uses,
        baseline=config.baseline_file,
        scope=config.scope,
        from_cache=(cache.hits if cache else 0, unit_count),
    )
    # File names, ids, errors, messages: no secret leaves the run (the findings are masked already).
    report = mask_report(report, masker, skip=("findings", "unresolved", "passes", "waived", "baselined"))
    return _relabel(report, stdin_path, STDIN_LABEL) if stdin_path else report


# --- inline waivers -----------------------------------------------------------------------------


def _merge_waivers(into: dict[tuple[str, int | None, str], Waiver], found: list[Waiver]) -> None:
    """One waiver per place it is written, even when a module is loaded by several callers."""
    for w in found:
        key = (w.location.file, w.location.line, w.policy_id)
        if key in into:
            merged = tuple(dict.fromkeys((*into[key].resources, *w.resources)))
            into[key] = replace(into[key], resources=merged)
        else:
            into[key] = w


def _config_record(record: FileRecord) -> FileRecord:
    if record.status is FileStatus.SKIPPED and os.path.basename(record.path) in CONFIG_NAMES:
        return replace(record, reason="iac-validator configuration")
    return record


# --- exclude globs and standard input -----------------------------------------------------------


def _exclude(plan: Plan, patterns: tuple[str, ...], base_dir: str | None) -> list[FileRecord]:
    """Drop the planned files the configuration excludes; each becomes a skipped record."""
    if not patterns:
        return []
    skipped: list[FileRecord] = []

    def keep(source: SourceFile) -> bool:
        pattern = globs.first_match(globs.relative_to(source.path, base_dir), patterns)
        if pattern is not None:
            skipped.append(FileRecord(source.path, FileStatus.SKIPPED, reason=f"excluded by configuration ({pattern})"))
        return pattern is None

    for name, value in vars(plan).items():
        if isinstance(value, list) and value and all(isinstance(v, SourceFile) for v in value):
            setattr(plan, name, [s for s in value if keep(s)])
        elif isinstance(value, dict):
            kept = {k: [s for s in v if keep(s)] if isinstance(v, list) else v for k, v in value.items()}
            setattr(plan, name, {k: v for k, v in kept.items() if v})
    return skipped


_CFN_YAML = re.compile(r"^(AWSTemplateFormatVersion|Resources)\s*:", re.M)
_HCL = re.compile(r"^\s*(resource|data|module|variable|provider|locals|output|terraform)\b[^\n]*\{", re.M)


def stdin_name(text: str) -> str:
    """A file name whose suffix lets discovery recognise standard input by content: JSON (a
    template or a Terraform plan), CloudFormation YAML, or Terraform HCL."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        return "stdin.json"
    if _CFN_YAML.search(text):
        return "stdin.yaml"
    if _HCL.search(text):
        return "stdin.tf"
    return "stdin.yaml"  # discovery will say it is not a template


@contextmanager
def _stdin_paths(config: Config) -> Iterator[tuple[list[str], str | None]]:
    paths = list(config.paths)
    if STDIN not in paths or config.stdin is None:
        yield paths, None
        return
    with tempfile.TemporaryDirectory(prefix="iac-validator-") as directory:
        path = os.path.join(directory, stdin_name(config.stdin))
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(config.stdin)
        yield [path if p == STDIN else p for p in paths], path


def _relabel(value: Any, old: str, new: str) -> Any:
    """Every file path equal to `old` (the temporary stdin file, or its directory) becomes `new`."""
    directory = os.path.dirname(old)
    if isinstance(value, str):
        return new if value in (old, directory) else value
    if isinstance(value, tuple):
        return tuple(_relabel(v, old, new) for v in value)
    if isinstance(value, dict):
        return {_relabel(k, old, new): _relabel(v, old, new) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        changes = {f.name: _relabel(getattr(value, f.name), old, new) for f in fields(value)}
        return replace(value, **changes)
    return value


def build_report(
    policies: tuple[Policy, ...],
    records: list[FileRecord],
    findings: list[Finding],
    errors: list[LoadError],
    resources: int,
    config: Config,
    waiver_errors: int = 0,
    passed: int = 0,
) -> Report:
    """`findings` are the ones that count (waived and baselined ones already taken out);
    `waiver_errors` of `errors` are malformed waivers, the rest inputs that could not be read."""
    findings.sort(key=lambda f: f.sort_key)
    unreadable = {r.path for r in records if r.status is FileStatus.ERROR}
    # --allow-errors: inputs that could not be read (and policy evaluations that failed) are
    # reported but do not decide the gate; malformed waivers and policy files still do.
    allowed = sum(1 for e in errors if e.file in unreadable) if config.allow_errors else 0
    errors = [LoadError(e.file, mask(e.message), e.line) for e in errors]
    records = [replace(r, reason=mask(r.reason)) for r in records]
    tool_errors = [f for f in findings if f.outcome is Outcome.ERROR]
    counted_tool_errors = [] if config.allow_errors else tool_errors
    unread = len(errors) - waiver_errors - allowed
    failing = tuple(f for f in findings if f.outcome in (Outcome.FAIL, Outcome.ERROR))
    total = score(failing)
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in failing:
        by_file[f.location.file].append(f)
    file_scores = {r.path: score(by_file.get(r.path, [])) for r in records if r.status is FileStatus.SCANNED}
    gate_ok, reasons = gate(failing, total, config.fail_on, config.fail_under)
    return Report(
        tool_version=__version__,
        files=tuple(sorted(records, key=lambda r: r.path)),
        findings=failing,
        unresolved=tuple(f for f in findings if f.outcome is Outcome.SKIP),
        errors=tuple(sorted(errors, key=lambda e: (e.file, e.line or 0))),
        policies=policies,
        passed=passed,
        passes=tuple(f for f in findings if f.outcome is Outcome.PASS),
        score=total,
        file_scores=file_scores,
        resources_scanned=resources,
        gate_passed=gate_ok and not unread and not waiver_errors and not counted_tool_errors,
        gate_reasons=reasons
        + ((f"{unread} input(s) could not be read",) if unread else ())
        + ((f"{waiver_errors} malformed waiver(s) (they waive nothing)",) if waiver_errors else ())
        + ((f"{len(counted_tool_errors)} policy evaluation(s) failed",) if counted_tool_errors else ()),
        fail_on=config.fail_on,
        fail_under=config.fail_under,
    )


def blocking_errors(report: Report, allow_errors: bool = False) -> int:
    """How many problems make the run exit 2: errors and failed policy evaluations; with
    `allow_errors`, not those of input files that could not be read, nor failed evaluations."""
    if not allow_errors:
        return len(report.errors) + sum(1 for f in report.findings if f.outcome is Outcome.ERROR)
    unreadable = {r.path for r in report.files if r.status is FileStatus.ERROR}
    return sum(1 for e in report.errors if e.file not in unreadable)
