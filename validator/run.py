"""One scan, stage by stage: discover → load → evaluate → score. Returns the Report; writes nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace

from validator import __version__, inventory
from validator.config import Config
from validator.discover import Plan, discover
from validator.engine.evaluate import evaluate
from validator.engine.policies import builtin_policy_dir, load_policies
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
    is_pseudo,
)
from validator.scoring import gate, score
from validator.secrets import mask


def run(config: Config) -> Report:
    dirs = ([builtin_policy_dir()] if config.builtin_policies else []) + list(config.policy_dirs)
    policies, errors = load_policies(dirs)
    plan = discover(list(config.paths))
    errors.extend(plan.errors)
    records = list(plan.records)
    findings: list[Finding] = []
    entries: list[InventoryEntry] = []
    resources = 0
    for template, template_errors, template_records in load_all(plan):
        errors.extend(template_errors)
        records.extend(template_records)
        if template is not None:
            resources += sum(1 for r in template.resources if not is_pseudo(r.type))
            template_findings = evaluate(policies, [template], config.params)
            findings.extend(template_findings)
            entries.extend(inventory.build([template], template_findings))
    report = build_report(policies, records, findings, errors, resources, config)
    return replace(report, inventory=tuple(sorted(set(entries), key=lambda e: e.sort_key)))


def load_all(plan: Plan) -> Iterator[tuple[Template | None, list[LoadError], list[FileRecord]]]:
    """One template at a time, so a large tree is never held in memory at once."""
    if plan.cloudformation:
        from validator.loaders import cloudformation

        for source in plan.cloudformation:
            template, errs = cloudformation.load(source.path, source.text)
            if template is None:
                reason = errs[0].message if errs else "could not be loaded"
                yield None, errs, [FileRecord(source.path, FileStatus.ERROR, Format.CLOUDFORMATION, reason)]
            else:
                count = sum(1 for r in template.resources if not is_pseudo(r.type))
                record = FileRecord(source.path, FileStatus.SCANNED, Format.CLOUDFORMATION, resources=count)
                yield template, errs, [record]
    if plan.terraform:
        from validator.loaders import terraform

        for directory, sources in plan.terraform.items():
            template, errs = terraform.load_module(directory, [(s.path, s.text) for s in sources])
            failed = {e.file: e.message for e in errs}
            per_file: dict[str, int] = defaultdict(int)
            for resource in template.resources if template else ():
                if not is_pseudo(resource.type):
                    per_file[resource.location.file] += 1
            records = [
                FileRecord(s.path, FileStatus.ERROR, Format.TERRAFORM, failed[s.path])
                if s.path in failed
                else FileRecord(s.path, FileStatus.SCANNED, Format.TERRAFORM, resources=per_file[s.path])
                for s in sources
            ]
            yield template, errs, records


def build_report(
    policies: tuple[Policy, ...],
    records: list[FileRecord],
    findings: list[Finding],
    errors: list[LoadError],
    resources: int,
    config: Config,
) -> Report:
    findings.sort(key=lambda f: f.sort_key)
    errors = [LoadError(e.file, mask(e.message), e.line) for e in errors]
    records = [replace(r, reason=mask(r.reason)) for r in records]
    tool_errors = [f for f in findings if f.outcome is Outcome.ERROR]
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
        gate_passed=passed and not errors and not tool_errors,
        gate_reasons=reasons
        + ((f"{len(errors)} input(s) could not be read",) if errors else ())
        + ((f"{len(tool_errors)} policy evaluation(s) failed",) if tool_errors else ()),
        fail_on=config.fail_on,
        fail_under=config.fail_under,
    )
