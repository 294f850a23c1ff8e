"""Judging resources that exist in several variants (condition and parameter choices), and naming
resources by where they come from. Pure functions over model data; used by `run.py` around the
engine, which itself knows nothing of variants:

    findings = finish(template, [evaluate(policies, [view], params) for view in views(template)])

A template's `variants` maps a logical id to its resolutions, each with the choices it was resolved
under (`Resource.variant`, e.g. `(("IsProd", "false"),)`). `views()` gives one complete template
per variant index, so operators that follow relations see a consistent world. `finish()` merges
the findings per (policy, resource): a finding produced by every variant is reported once, as is;
one produced by some variants only says when, e.g. `... (when IsProd is false)`. It also shows a
resource's origin next to its logical id (`AppRole8D2C2A4B (MyStack/AppRole/Resource)`) and adds
the template's tool notes (SAM transform failure, cfn-lint errors).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from validator.model import Finding, Outcome, Resource, Template


def views(template: Template) -> list[Template]:
    if not template.variants:
        return [template]
    count = max(len(v) for v in template.variants.values())
    out: list[Template] = []
    for k in range(count):
        resources = tuple(_pick(template, r, k) for r in template.resources)
        out.append(replace(template, resources=resources, variants={}))
    return out


def _pick(template: Template, resource: Resource, k: int) -> Resource:
    variants = template.variants.get(resource.id)
    if not variants:
        return resource
    return variants[min(k, len(variants) - 1)]


def finish(template: Template, per_view: Sequence[Sequence[Finding]]) -> list[Finding]:
    """Findings of the views → the template's findings: merged variants, origins shown, notes added."""
    if not per_view:
        return list(template.notes)
    if len(per_view) == 1:
        merged = list(per_view[0])
    else:
        merged = [f for f in per_view[0] if f.resource_id not in template.variants]
        for resource_id, variants in template.variants.items():
            merged.extend(_merge(variants, [[f for f in per_view[k] if f.resource_id == resource_id] for k in range(len(variants))]))
    merged.extend(template.notes)
    shown = {r.id: display_id(r) for r in template.resources if r.origin}
    if shown:
        merged = [replace(f, resource_id=shown[f.resource_id]) if f.resource_id in shown else f for f in merged]
    return sorted(merged, key=lambda f: f.sort_key)


def display_id(resource: Resource) -> str:
    """The id findings show: the logical id, with the resource's origin when it has one."""
    return f"{resource.id} ({resource.origin})" if resource.origin else resource.id


def _merge(variants: Sequence[Resource], found: list[list[Finding]]) -> list[Finding]:
    by_policy: dict[str, list[list[Finding]]] = defaultdict(lambda: [[] for _ in variants])
    for k, findings in enumerate(found):
        for f in findings:
            by_policy[f.policy_id][k].append(f)
    out: list[Finding] = []
    for policy_id in sorted(by_policy):
        per_variant = by_policy[policy_id]
        if all(set(fs) == set(per_variant[0]) for fs in per_variant):
            out.extend(per_variant[0])  # the same verdict whatever the choices: no condition to name
            continue
        distinct = list(dict.fromkeys(f for fs in per_variant for f in fs if f.outcome is not Outcome.PASS))
        for f in distinct:
            where = [k for k, fs in enumerate(per_variant) if f in fs]
            if len(where) == len(variants):
                out.append(f)
                continue
            for label in _labels(variants, where):
                out.append(replace(f, message=f"{f.message} (when {label})"))
    return out


def _labels(variants: Sequence[Resource], where: list[int]) -> list[str]:
    """One label for the variants in `where` when one conjunction of choices selects exactly them,
    else one label per variant."""
    common = set(variants[where[0]].variant)
    for k in where[1:]:
        common &= set(variants[k].variant)
    selected = [k for k, v in enumerate(variants) if common <= set(v.variant)]
    if common and selected == where:
        return [_label([c for c in variants[where[0]].variant if c in common])]
    return [_label(list(variants[k].variant)) for k in where]


def _label(choices: list[tuple[str, str]]) -> str:
    return " and ".join(f"{name} is {value}" for name, value in choices) or "in another variant"
