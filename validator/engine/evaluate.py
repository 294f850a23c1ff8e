"""The policy engine: policies × resources → findings. Pure: no I/O, no clock, no environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from validator.engine.base import Args, Memo, Violation
from validator.engine.operators import ABSENT_DEFAULT, OPERATORS
from validator.model import (
    Finding,
    Format,
    Location,
    Outcome,
    Path,
    Policy,
    Resource,
    Template,
    Unknown,
    path_str,
)
from validator.secrets import mask


def match_format(fmt: Format) -> str:
    return "terraform" if fmt in (Format.TERRAFORM, Format.TERRAFORM_PLAN) else "cloudformation"


def applies(policy: Policy, resource: Resource) -> bool:
    """The policy names the resource's type, or `"*"`: every resource, parameter, variable and output."""
    match = policy.match.get(match_format(resource.format))
    return bool(match) and (resource.type in match["types"] or "*" in match["types"])


def evaluate(
    policies: Iterable[Policy],
    templates: Iterable[Template],
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Finding]:
    """Every outcome of every applicable (policy, resource) pair, PASS included, sorted."""
    policies = tuple(policies)
    effective = {p.id: {**p.params, **((params or {}).get(p.id, {}))} for p in policies}
    by_type = _by_type(policies)
    findings: list[Finding] = []
    for template in templates:
        for resource in template.resources:
            fmt = match_format(resource.format)
            named, everything = by_type.get((fmt, resource.type), ()), by_type.get((fmt, "*"), ())
            memo: Memo = {}
            for policy in (*named, *(p for p in everything if all(p is not q for q in named))):
                findings.extend(evaluate_resource(policy, resource, effective[policy.id], template, memo))
    return sorted(findings, key=lambda f: f.sort_key)


def _by_type(policies: tuple[Policy, ...]) -> dict[tuple[str, str], list[Policy]]:
    """(format, resource type or "*") → the policies that name it, in pack order."""
    index: dict[tuple[str, str], list[Policy]] = {}
    for policy in policies:
        for fmt, match in policy.match.items():
            for rtype in dict.fromkeys(match["types"]):  # types are strings: hashable
                index.setdefault((fmt, rtype), []).append(policy)
    return index


def evaluate_resource(
    policy: Policy,
    resource: Resource,
    params: Mapping[str, Any],
    template: Template | None = None,
    memo: Memo | None = None,
) -> list[Finding]:
    fields = policy.match[match_format(resource.format)]["fields"]
    try:
        violations = _check(policy.check, _Context(resource, fields, params, template, memo))
    except Exception as exc:  # a broken policy is our failure, reported; the run goes on
        return [_finding(policy, resource, Outcome.ERROR, f"policy raised {type(exc).__name__}: {exc}", resource.location.line)]
    if not violations:
        return [_finding(policy, resource, Outcome.PASS, "", resource.location.line)]
    return [_finding(policy, resource, v.outcome, v.message, resource.line_of(v.path)) for v in violations]


def _finding(policy: Policy, resource: Resource, outcome: Outcome, message: str, line: int | None) -> Finding:
    # Most findings are PASS on the resource's own line, with no message: nothing to mask or build.
    location = resource.location if line == resource.location.line else Location(resource.location.file, line)
    return Finding(
        policy_id=policy.id,
        title=policy.title,
        severity=policy.severity,
        outcome=outcome,
        message=mask(message) if message else message,
        resource_id=resource.id,
        resource_type=resource.type,
        format=resource.format,
        location=location,
        remediation=policy.remediation.text,
        called_from=tuple(str(c) for c in resource.metadata.get("module_calls", ())) if resource.metadata else (),
    )


@dataclass(frozen=True)
class _Context:
    resource: Resource
    fields: Mapping[str, str]
    params: Mapping[str, Any]
    template: Template | None
    memo: Memo | None = None


def _check(check: Mapping[str, Any], ctx: _Context) -> list[Violation]:
    if "all" in check:
        # Two leaves can reach one unresolved parent: say it once.
        return list(dict.fromkeys(v for sub in check["all"] for v in _check(sub, ctx)))
    if "any" in check:
        results = [_check(sub, ctx) for sub in check["any"]]
        if any(not r for r in results):
            return []
        unresolved = [v for r in results for v in r if v.outcome is Outcome.SKIP]
        # All alternatives failed: report the first one (the policy's main requirement) only.
        return unresolved or results[0]
    return _leaf(check, ctx)


def _leaf(check: Mapping[str, Any], ctx: _Context) -> list[Violation]:
    op = check["op"]
    field = ctx.fields[check["field"]]
    value = check.get("value")
    if isinstance(value, Mapping) and "param" in value:
        value = ctx.params[value["param"]]
    values = field_values(ctx.resource, field)
    if not values:
        outcome = Outcome(check.get("if_absent", ABSENT_DEFAULT.get(op, Outcome.PASS).value))
        if outcome is Outcome.PASS:
            return []
        message = check.get("message", "{label} is not set").format(label=field, value=None, limit=value)
        return [Violation(outcome, message, _nearest_parent(ctx.resource, field))]
    out: list[Violation] = []
    for path, found in values:
        label = path_str(path) or ctx.resource.id
        args = Args(label, value, check.get("unit"), ctx.params, ctx.resource, ctx.template, ctx.memo)
        for violation in OPERATORS[op](found, args):
            message = violation.message
            if violation.outcome is Outcome.FAIL and "message" in check:
                message = check["message"].format(label=label, value=found, limit=value)
            out.append(Violation(violation.outcome, message, (*path, *violation.path)))
    return out


def _nearest_parent(resource: Resource, field: str) -> Path:
    """For an absent field, the deepest part of its path that the template does have (for the line)."""
    if field.startswith(METADATA) or field == ".":
        return ()
    found: Path = ()
    for key in field.split("."):
        matches = resolve_field(resource.properties, ".".join(str(k) for k in (*found, key) if isinstance(k, str)))
        if not matches:
            break
        found = matches[0][0]
    return found


METADATA = "@metadata"


def field_values(resource: Resource, field: str) -> list[tuple[Path, Any]]:
    """`.` is the whole resource; `@metadata.X` reads the resource's Metadata; anything else its properties."""
    if field == ".":
        return [((), resource.properties)]
    if field == METADATA or field.startswith(METADATA + "."):
        rest = field[len(METADATA) + 1 :]
        if not resource.metadata:
            return []
        return [(("Metadata", *p), v) for p, v in (resolve_field(resource.metadata, rest) if rest else [((), resource.metadata)])]
    return resolve_field(resource.properties, field)


def resolve_field(properties: Mapping[str, Any], field: str) -> list[tuple[Path, Any]]:
    """Values at a dotted path; lists on the way (Terraform blocks, CloudFormation lists) fan out.

    A key holding null counts as absent, as Terraform and CloudFormation treat it.
    """
    current: list[tuple[Path, Any]] = [((), properties)]
    for key in field.split("."):
        nxt: list[tuple[Path, Any]] = []
        for path, node in current:
            items = list(enumerate(node)) if isinstance(node, list) else [(None, node)]
            for index, item in items:
                base = path if index is None else (*path, index)
                if isinstance(item, Unknown):
                    nxt.append((base, item))  # an unresolved parent leaves the value unresolved
                elif isinstance(item, Mapping) and key in item and item[key] is not None:
                    nxt.append(((*base, key), item[key]))
        current = nxt
    return current
