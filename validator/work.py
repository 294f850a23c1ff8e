"""One unit of work (validator/units.py): load its templates, evaluate the policies, and keep only
what the report needs. Pure of the rest of the run, so a worker process or the result cache can
stand in for it; `run` merges the results in unit order, so the report does not depend on which."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from validator import inventory, limits, reads, suppress
from validator.config import Config
from validator.discover import Plan
from validator.engine.evaluate import evaluate
from validator.loaders import cfn_variants
from validator.model import (
    FileRecord,
    Finding,
    Format,
    InventoryEntry,
    LoadError,
    Outcome,
    Policy,
    Template,
    Waiver,
    is_pseudo,
)
from validator.secrets import template_secrets
from validator.units import Unit

_BUDGET = "--file-timeout"  # in the error of a file whose time budget ran out


@dataclass(frozen=True)
class UnitResult:
    findings: tuple[Finding, ...]  # FAIL, SKIP and ERROR; PASS too when the config keeps passes
    passed: int  # PASS outcomes (counted whether kept or not)
    errors: tuple[LoadError, ...]
    records: tuple[FileRecord, ...]
    entries: tuple[InventoryEntry, ...]
    resources: int
    secrets: frozenset[str]  # every secret value its templates hold: masked wherever it shows up
    waivers: tuple[Waiver, ...] = ()  # inline waivers written in its files
    waiver_errors: tuple[LoadError, ...] = ()
    timed_out: tuple[tuple[str, str], ...] = ()  # (file, why its evaluation was stopped)
    reads: tuple[tuple[str, str], ...] = ()  # (file, fingerprint) of other files it read (file())
    templates: int = 0
    cacheable: bool = field(default=True, compare=False)  # False when a time budget ran out


def scan(unit: Unit, policies: tuple[Policy, ...], config: Config) -> UnitResult:
    read: set[str] = set()
    token = reads.FILES_READ.set(read)
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = _scan(unit, policies, config)
    finally:
        reads.FILES_READ.reset(token)
        if collecting:
            gc.enable()
    return replace(result, reads=tuple((path, reads.fingerprint(path)) for path in sorted(read))) if read else result


def _scan(unit: Unit, policies: tuple[Policy, ...], config: Config) -> UnitResult:
    findings: list[Finding] = []
    passed = 0
    errors: list[LoadError] = []
    records: list[FileRecord] = []
    entries: list[InventoryEntry] = []
    waivers: list[Waiver] = []
    waiver_errors: list[LoadError] = []
    timed_out: dict[str, str] = {}
    secrets: set[str] = set()
    seen: set[Finding] = set()  # a nested template loaded for two parent stacks reports a finding once
    resources = templates = 0
    texts = {s.path: s.text for s in unit.sources()}
    cacheable = True
    for template, template_errors, template_records in load_all(unit.plan, config):
        errors.extend(template_errors)
        records.extend(template_records)
        if any(_BUDGET in e.message for e in template_errors):
            cacheable = False
        if template is None:
            continue
        templates += 1
        resources += sum(1 for r in template.resources if not is_pseudo(r.type))
        secrets |= template_secrets([*template.resources, *(r for vs in template.variants.values() for r in vs)])
        try:
            with limits.time_budget(config.file_timeout):
                # Resources with variants (conditions) are judged once per variant, then merged.
                views = cfn_variants.views(template)
                judged = cfn_variants.finish(template, [evaluate(policies, [v], config.params) for v in views])
                template_entries = inventory.build(views, judged)  # each variant's ways in
        except limits.BudgetExceeded as exc:
            reason = f"evaluating the policies {exc} (the per-file time budget, --file-timeout): not judged"
            errors.append(LoadError(template.path, reason))
            timed_out.update(dict.fromkeys(template.files, reason))
            judged, template_entries, cacheable = [], [], False
        for f in judged:
            if f in seen:
                continue
            seen.add(f)
            if f.outcome is Outcome.PASS:
                passed += 1
                if not config.keep_passes:
                    continue
            findings.append(f)
        entries.extend(template_entries)
        if config.inline_waivers:
            found, bad = inline_waivers(template, texts, config.allow_open_ended_waivers)
            waivers.extend(found)
            waiver_errors.extend(e for e in bad if e not in waiver_errors)
    return UnitResult(
        findings=tuple(findings),
        passed=passed,
        errors=tuple(errors),
        records=tuple(records),
        entries=tuple(entries),
        resources=resources,
        secrets=frozenset(secrets),
        waivers=tuple(waivers),
        waiver_errors=tuple(waiver_errors),
        timed_out=tuple(timed_out.items()),
        templates=templates,
        cacheable=cacheable,
    )



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


def _text(texts: dict[str, str], path: str) -> str | None:
    if path in texts:
        return texts[path]
    try:  # a file a loader reached by itself (a local module, a nested stack)
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None
