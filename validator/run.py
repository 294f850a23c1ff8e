"""One scan, stage by stage: discover → load → evaluate → suppress (waivers, baseline) → score.
Returns the Report; writes nothing."""

from __future__ import annotations

import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import date
from typing import Any

from validator import __version__, globs, inventory, limits, suppress
from validator.config import Config
from validator.discover import Plan, SourceFile, discover
from validator.engine.evaluate import evaluate
from validator.engine.policies import builtin_policy_dir, load_policies
from validator.loaders import cfn_variants
from validator.model import (
    FileRecord,
    FileStatus,
    Finding,
    Format,
    InventoryEntry,
    LoadError,
    Outcome,
    Policy,
    Report,
    Template,
    Waiver,
    is_pseudo,
)
from validator.repo_config import CONFIG_NAMES, select_policies
from validator.scoring import gate, score
from validator.secrets import Masker, mask, mask_report, mask_value, template_secrets

Progress = Callable[[int, int], None]  # (templates done, templates in total)
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
        texts = _texts(plan)
        findings: list[Finding] = []
        entries: list[InventoryEntry] = []
        inline: dict[tuple[str, int | None, str], Waiver] = {}
        waiver_errors: list[LoadError] = list(config.config_errors)
        resources = 0
        total = len(plan.cloudformation) + len(plan.terraform)
        seen: set[Finding] = set()  # a nested template loaded for two parent stacks reports a finding once
        secrets: set[str] = set()  # every secret value a template holds: masked wherever it shows up
        timed_out: dict[str, str] = {}  # file → why its evaluation was stopped
        for done, (template, template_errors, template_records) in enumerate(load_all(plan, config), start=1):
            errors.extend(template_errors)
            records.extend(template_records)
            if template is not None:
                resources += sum(1 for r in template.resources if not is_pseudo(r.type))
                secrets |= template_secrets([*template.resources, *(r for vs in template.variants.values() for r in vs)])
                try:
                    with limits.time_budget(config.file_timeout):
                        # Resources with variants (conditions) are judged once per variant, then merged.
                        views = cfn_variants.views(template)
                        template_findings = cfn_variants.finish(template, [evaluate(policies, [v], config.params) for v in views])
                        template_entries = inventory.build(views, template_findings)  # each variant's ways in
                except limits.BudgetExceeded as exc:
                    reason = f"evaluating the policies {exc} (the per-file time budget, --file-timeout): not judged"
                    errors.append(LoadError(template.path, reason))
                    timed_out.update(dict.fromkeys(template.files, reason))
                    template_findings, template_entries = [], []
                findings.extend(f for f in template_findings if f not in seen)
                seen.update(template_findings)
                entries.extend(template_entries)
                if config.inline_waivers:
                    found, bad = inline_waivers(template, texts, config.allow_open_ended_waivers)
                    _merge_waivers(inline, found)
                    waiver_errors.extend(e for e in bad if e not in waiver_errors)
            if progress is not None:
                progress(min(done, total), total)
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
        policies, records, counting, [*errors, *waiver_errors], resources, config, waiver_errors=len(waiver_errors)
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
    )
    # File names, ids, errors, messages: no secret leaves the run (the findings are masked already).
    report = mask_report(report, masker, skip=("findings", "unresolved", "passes", "waived", "baselined"))
    return _relabel(report, stdin_path, STDIN_LABEL) if stdin_path else report


# --- inline waivers -----------------------------------------------------------------------------


def inline_waivers(
    template: Template, texts: dict[str, str], allow_open_ended: bool = False
) -> tuple[list[Waiver], list[LoadError]]:
    """The waivers written in a template: CloudFormation resource Metadata, Terraform comments."""
    waivers: list[Waiver] = []
    errors: list[LoadError] = []
    if template.format is Format.CLOUDFORMATION:
        for resource in template.resources:
            if resource.metadata:
                shown = replace(resource, id=cfn_variants.display_id(resource))  # the id its findings carry
                found, bad = suppress.cloudformation_waivers(shown, _text(texts, resource.location.file), allow_open_ended)
                waivers.extend(found)
                errors.extend(bad)
    elif template.format is Format.TERRAFORM:
        files = sorted({*template.files, *(r.location.file for r in template.resources)})
        for file in files:
            text = _text(texts, file)
            if text and suppress.MARK in text:
                found, bad = suppress.terraform_waivers(file, text, template.resources, allow_open_ended)
                waivers.extend(found)
                errors.extend(bad)
    return waivers, errors


def _merge_waivers(into: dict[tuple[str, int | None, str], Waiver], found: list[Waiver]) -> None:
    """One waiver per place it is written, even when a module is loaded by several callers."""
    for w in found:
        key = (w.location.file, w.location.line, w.policy_id)
        if key in into:
            merged = tuple(dict.fromkeys((*into[key].resources, *w.resources)))
            into[key] = replace(into[key], resources=merged)
        else:
            into[key] = w


def _texts(plan: Plan) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in vars(plan).values():
        for source in _sources(value):
            out[source.path] = source.text
    return out


def _sources(value: Any) -> list[SourceFile]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, SourceFile)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _sources(v)]
    return []


def _text(texts: dict[str, str], path: str) -> str | None:
    if path in texts:
        return texts[path]
    try:  # a file a loader reached by itself (a local module, a nested stack)
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


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


def load_all(plan: Plan, config: Config | None = None) -> Iterator[tuple[Template | None, list[LoadError], list[FileRecord]]]:
    """One template at a time, so a large tree is never held in memory at once."""
    if plan.cloudformation:
        from validator.loaders import cfn_nested  # nested stacks are loaded through their parents

        parameters = config.cfn_parameters if config else {}
        yield from cfn_nested.load_tree(
            plan.cloudformation,
            parameters,
            cfn_lint=bool(config and config.cfn_lint),
            budget=config.file_timeout if config else None,
            roots=plan.roots,
        )
    if plan.terraform or plan.tfvars or plan.terraform_plans:
        # Root modules with their tfvars and local modules, and plan JSON (see loaders/tf_tree.py).
        from validator.loaders.tf_tree import load_terraform

        yield from load_terraform(
            plan,
            var_files=tuple(config.var_files) if config else (),
            variables=config.tf_variables if config else None,
            tf_source=config.tf_source if config else None,
            budget=config.file_timeout if config else None,
        )


def build_report(
    policies: tuple[Policy, ...],
    records: list[FileRecord],
    findings: list[Finding],
    errors: list[LoadError],
    resources: int,
    config: Config,
    waiver_errors: int = 0,
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
    passed, reasons = gate(failing, total, config.fail_on, config.fail_under)
    return Report(
        tool_version=__version__,
        files=tuple(sorted(records, key=lambda r: r.path)),
        findings=failing,
        unresolved=tuple(f for f in findings if f.outcome is Outcome.SKIP),
        errors=tuple(sorted(errors, key=lambda e: (e.file, e.line or 0))),
        policies=policies,
        passes=tuple(f for f in findings if f.outcome is Outcome.PASS),
        score=total,
        file_scores=file_scores,
        resources_scanned=resources,
        gate_passed=passed and not unread and not waiver_errors and not counted_tool_errors,
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
