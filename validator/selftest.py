"""Run a policy's own examples: each must pass or fail as it says. Used by the test suite."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from validator.engine.evaluate import evaluate
from validator.model import Outcome, Policy, Template


@dataclass(frozen=True)
class ExampleResult:
    ok: bool
    detail: str


def load_example(policy: Policy, index: int, example: Mapping[str, Any]) -> tuple[Template | None, str]:
    name = f"{policy.id}-example-{index}"
    if "cloudformation" in example:
        from validator.loaders import cloudformation

        template, errors = cloudformation.load(f"{name}.yaml", example["cloudformation"])
    else:
        from validator.loaders import terraform

        template, errors = terraform.load_module(name, [(f"{name}/main.tf", example["terraform"])])
    return template, "; ".join(str(e) for e in errors)


def run_example(policy: Policy, index: int) -> ExampleResult:
    example = policy.examples[index]
    template, errors = load_example(policy, index, example)
    if template is None or errors:
        return ExampleResult(False, f"example does not load: {errors}")
    findings = [f for f in evaluate([policy], [template]) if f.policy_id == policy.id]
    if not findings:
        return ExampleResult(False, "the policy applies to no resource in the example")
    failed = [f for f in findings if f.outcome is Outcome.FAIL]
    broken = [f for f in findings if f.outcome is Outcome.ERROR]
    if broken:
        return ExampleResult(False, broken[0].message)
    if example["expect"] == "fail":
        return ExampleResult(bool(failed), "; ".join(f"{f.resource_id}: {f.message}" for f in failed) or "nothing failed")
    return ExampleResult(not failed, "; ".join(f"{f.resource_id}: {f.message}" for f in failed) or "passed")
