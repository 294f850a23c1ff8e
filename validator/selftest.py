"""Run a policy's own examples: each must pass or fail as it says. Used by the test suite."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
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


@dataclass(frozen=True)
class FixtureCase:
    policy_id: str
    file: Path  # the template, or a .tf file whose module directory is scanned
    expected: Mapping[str, Any] | None  # an expected.yaml entry; None for a pass fixture

    @property
    def name(self) -> str:
        return f"{self.policy_id}-fixture-{self.file.parent.name}/{self.file.name}"


def fixture_cases(root: Path, policy_ids: set[str]) -> list[FixtureCase]:
    """`<root>/<ID>/...`: every file named in an expected.yaml, plus pass.* / pass*/main.tf files."""
    import yaml

    cases: list[FixtureCase] = []
    for policy_id in sorted(policy_ids):
        base = root / policy_id
        if not base.is_dir():
            continue
        for expected in sorted(base.rglob("expected.yaml")):
            spec = yaml.safe_load(expected.read_text(encoding="utf-8")) or {}
            for name, entry in (spec.get("files") or {}).items():
                cases.append(FixtureCase(str(spec.get("policy", policy_id)), expected.parent / name, entry))
        for path in sorted([*base.rglob("pass.yaml"), *base.rglob("pass.json"), *base.rglob("pass*/main.tf")]):
            cases.append(FixtureCase(policy_id, path, None))
    return cases


def run_fixture(policy: Policy, case: FixtureCase) -> ExampleResult:
    """The policy's outcomes on one fixture file equal what its expected.yaml says (or all pass)."""
    from validator.discover import discover
    from validator.run import load_all

    target = case.file.parent if case.file.suffix == ".tf" else case.file
    outcomes: list[Any] = []
    for template, errors, _ in load_all(discover([str(target)])):
        if errors:
            return ExampleResult(False, "; ".join(str(e) for e in errors))
        if template is not None:
            outcomes += [f for f in evaluate([policy], [template]) if Path(f.location.file).resolve() == case.file.resolve()]
    if not outcomes:
        return ExampleResult(False, f"{policy.id} applies to no resource in {case.file}")
    failed = sorted((f.resource_id, f.location.line) for f in outcomes if f.outcome is Outcome.FAIL)
    unresolved = sorted((f.resource_id, f.location.line) for f in outcomes if f.outcome is Outcome.SKIP)
    if case.expected is None:
        ok = not failed and not unresolved
        return ExampleResult(ok, "all resources pass" if ok else f"expected no failures, got {failed + unresolved}")
    want_fail = sorted((e["resource"], e["line"]) for e in case.expected.get("fail") or [] if e.get("policy", policy.id) == policy.id)
    want_unresolved = sorted((e["resource"], e["line"]) for e in case.expected.get("unresolved") or [])
    problems = []
    if failed != want_fail:
        problems.append(f"failures {failed} != expected {want_fail}")
    if unresolved != want_unresolved:
        problems.append(f"unresolved {unresolved} != expected {want_unresolved}")
    passing = {f.resource_id for f in outcomes if f.outcome is Outcome.PASS}
    missing = set(case.expected.get("pass") or []) - passing
    if missing:
        problems.append(f"expected to pass but did not: {sorted(missing)}")
    return ExampleResult(not problems, "; ".join(problems) or "as expected")
