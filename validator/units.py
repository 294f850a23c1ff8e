"""A discovery plan → independent units of work: the smallest groups of files whose loading does
not look at any file outside the group. Each unit can be scanned on its own (in a worker process,
or from the result cache) and gives what it would give as part of the whole plan.

- A CloudFormation template is a unit, except nested stacks: every template that holds a nested
  stack (AWS::CloudFormation::Stack, AWS::Serverless::Application) forms one unit with every
  template whose file name appears in it (a TemplateURL names its child) or in a --parameter value.
- Terraform directories linked by a local `source = "./..."` (a module call) form one unit, with
  their .tfvars. A directory that only holds .tfvars is a unit of its own.
- Plan JSON files form one unit with the directories whose configuration they may load (their own
  directory and its module tree; with --tf-source, every Terraform directory).

Grouping more than needed costs only parallelism, never a result; the rules err that way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from validator.discover import Plan, SourceFile

_NESTED = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")
# Any local source path, in a module block or not: a liberal net (over-grouping is harmless).
_LOCAL_SOURCE = re.compile(r'\bsource\s*=\s*"(\.{1,2}(?:/[^"]*)?)"')


@dataclass(frozen=True)
class Unit:
    plan: Plan

    def sources(self) -> list[SourceFile]:
        p = self.plan
        return [*p.cloudformation, *(f for fs in p.terraform.values() for f in fs), *(f for fs in p.tfvars.values() for f in fs), *p.terraform_plans]

    @property
    def files(self) -> int:
        return len(self.sources())

    @property
    def label(self) -> str:
        """Its first file, for messages."""
        sources = self.sources()
        return sources[0].path if sources else ""


def split(plan: Plan, cfn_parameters: Mapping[str, Any] | None = None, tf_source: str | None = None) -> list[Unit]:
    """The units of `plan`, in a stable order: CloudFormation first, then Terraform, as loaded."""
    return [*_cloudformation(plan, cfn_parameters or {}), *_terraform(plan, tf_source)]


def _unit(plan: Plan, **parts: Any) -> Unit:
    return Unit(Plan(roots=list(plan.roots), **parts))


def _cloudformation(plan: Plan, parameters: Mapping[str, Any]) -> list[Unit]:
    parents = [s for s in plan.cloudformation if any(m in s.text for m in _NESTED)]
    if not parents:
        return [_unit(plan, cloudformation=[s]) for s in plan.cloudformation]
    named = "\n".join([*(s.text for s in parents), *(str(v) for v in parameters.values())])
    nested = [s for s in plan.cloudformation if s in parents or os.path.basename(s.path) in named]
    grouped = {s.path for s in nested}
    units = [_unit(plan, cloudformation=[s]) for s in plan.cloudformation if s.path not in grouped]
    return [_unit(plan, cloudformation=nested), *units]


def _terraform(plan: Plan, tf_source: str | None) -> list[Unit]:
    dirs = sorted({*plan.terraform, *plan.tfvars})
    if not dirs and not plan.terraform_plans:
        return []
    key = {d: os.path.realpath(d) for d in dirs}
    by_key = {k: d for d, k in key.items()}
    parent = {d: d for d in dirs}

    def find(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for d, k in key.items():
        if by_key[k] != d:  # two names of one directory
            union(d, by_key[k])
    for d, files in plan.terraform.items():
        for f in files:
            if "source" in f.text:
                for target in _LOCAL_SOURCE.findall(f.text):
                    other = by_key.get(os.path.realpath(os.path.join(d, target)))
                    if other is not None:
                        union(d, other)
    if plan.terraform_plans:  # the plans, and every directory they may load their configuration from
        anchor = "\0plans"
        parent[anchor] = anchor
        plan_dirs = {os.path.realpath(os.path.dirname(p.path) or ".") for p in plan.terraform_plans}
        for d in dirs:
            if tf_source is not None or key[d] in plan_dirs:
                union(anchor, d)
    groups: dict[str, list[str]] = {}
    for d in [*dirs, *(["\0plans"] if plan.terraform_plans else [])]:
        groups.setdefault(find(d), []).append(d)
    units = []
    for members in sorted(groups.values(), key=lambda m: ("\0plans" not in m, min(m))):
        real = [d for d in members if d != "\0plans"]
        units.append(
            _unit(
                plan,
                terraform={d: plan.terraform[d] for d in real if d in plan.terraform},
                tfvars={d: plan.tfvars[d] for d in real if d in plan.tfvars},
                terraform_plans=list(plan.terraform_plans) if "\0plans" in members else [],
            )
        )
    return units

