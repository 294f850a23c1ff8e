"""Per-policy fixtures: fixtures/policies/<ID>/{cloudformation,terraform/fail,terraform/pass}.

Every failing fixture has an expected.yaml next to it that names, per file, exactly which resources
fail and on which line, which are unresolved, and which pass. Pass fixtures must have no failing and
no unresolved finding for their policy, and the policy must apply to at least one resource in them.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml

from validator.config import Config
from validator.discover import discover
from validator.engine.evaluate import evaluate
from validator.engine.policies import builtin_policy_dir, load_policies
from validator.model import FileStatus, Finding, Outcome, Report
from validator.run import load_all, run

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "fixtures" / "policies"
_PACK, _PACK_ERRORS = load_policies([builtin_policy_dir()])
PACK = {p.id: p for p in _PACK}
# Every built-in policy: a new policy without fixtures fails the suite.
POLICY_IDS = tuple(sorted(PACK))
ACCOUNT = re.compile(r"\baccount (\d{12})\b")


def _expected_cases() -> list[pytest.param]:
    cases = []
    for expected in sorted(FIXTURES.glob("*/**/expected.yaml")):
        spec = yaml.safe_load(expected.read_text(encoding="utf-8"))
        for name, entry in spec["files"].items():
            case_id = f"{expected.parent.relative_to(FIXTURES)}/{name}"
            cases.append(pytest.param(spec["policy"], expected.parent / name, entry, id=case_id))
    return cases


def _pass_cases() -> list[pytest.param]:
    cases = []
    for policy_id in POLICY_IDS:
        base = FIXTURES / policy_id
        for path in sorted((base / "cloudformation").glob("pass.*")):
            cases.append(pytest.param(policy_id, path, id=str(path.relative_to(FIXTURES))))
        for tf in sorted((base / "terraform").glob("pass*/main.tf")):
            cases.append(pytest.param(policy_id, tf, id=str(tf.parent.relative_to(FIXTURES))))
    return cases


def _target(file: Path) -> Path:
    """A Terraform file (.tf, .tfvars) is scanned with its module (variables.tf and all); a template on its own."""
    return file.parent if file.suffix in (".tf", ".tfvars") else file


@cache
def _scan(target: Path) -> Report:
    return run(Config(paths=(str(target),)))


def _in_file(findings: tuple[Finding, ...], file: Path, policy_id: str | None = None) -> list[Finding]:
    return [
        f
        for f in findings
        if Path(f.location.file).resolve() == file.resolve() and (policy_id is None or f.policy_id == policy_id)
    ]


def _outcomes(file: Path, policy_id: str) -> dict[str, set[Outcome]]:
    """Every outcome of one policy per resource of `file`, PASS included (the report keeps only a count)."""
    policies, errors = load_policies([builtin_policy_dir()])
    assert errors == []
    policy = [p for p in policies if p.id == policy_id]
    out: dict[str, set[Outcome]] = {}
    for template, _, _ in load_all(discover([str(_target(file))])):
        if template is None:
            continue
        for f in evaluate(policy, [template]):
            if Path(f.location.file).resolve() == file.resolve():
                out.setdefault(f.resource_id, set()).add(f.outcome)
    return out


def _assert_scanned(report: Report, file: Path) -> None:
    assert report.errors == ()
    records = [r for r in report.files if Path(r.path).resolve() == file.resolve()]
    assert [r.status for r in records] == [FileStatus.SCANNED], records


EXPECTED = _expected_cases()
PASSING = _pass_cases()


def test_every_policy_has_the_full_fixture_set():
    """Fixtures for every format the policy matches (a Terraform-only policy has no CloudFormation ones)."""
    assert _PACK_ERRORS == []
    for policy_id in POLICY_IDS:
        base = FIXTURES / policy_id
        cfn = base / "cloudformation"
        if "cloudformation" in PACK[policy_id].match:
            assert (cfn / "fail.yaml").is_file(), policy_id
            assert (cfn / "pass.yaml").is_file(), policy_id
            assert list(cfn.glob("*.json")), f"{policy_id}: no JSON CloudFormation fixture"
            assert (cfn / "expected.yaml").is_file(), policy_id
        else:
            assert not cfn.exists(), f"{policy_id} does not match CloudFormation"
        if "terraform" in PACK[policy_id].match:
            assert (base / "terraform" / "fail" / "main.tf").is_file(), policy_id
            assert (base / "terraform" / "fail" / "expected.yaml").is_file(), policy_id
            assert (base / "terraform" / "pass" / "main.tf").is_file(), policy_id


def test_every_failing_fixture_is_described():
    described = {values[1].resolve() for values in (case.values for case in EXPECTED)}
    for policy_id in POLICY_IDS:
        base = FIXTURES / policy_id
        failing = [*(base / "cloudformation").glob("fail.*"), *(base / "terraform").glob("fail*/main.tf")]
        assert failing
        for path in failing:
            assert path.resolve() in described, f"{path} has no entry in an expected.yaml"


@pytest.mark.parametrize(("policy_id", "file", "expected"), EXPECTED)
def test_failing_fixture_reports_exactly_the_expected_findings(policy_id, file, expected):
    report = _scan(_target(file))
    _assert_scanned(report, file)

    # The fixture's own policy, and any other policy its expected.yaml names with `policy:`.
    judged = {policy_id} | {e["policy"] for e in expected["fail"] if "policy" in e}
    failing = [f for f in _in_file(report.findings, file) if f.policy_id in judged]
    assert all(f.outcome is Outcome.FAIL for f in failing), [f.message for f in failing]
    actual = Counter((f.policy_id, f.resource_id, f.location.line) for f in failing)
    wanted = Counter((e.get("policy", policy_id), e["resource"], e["line"]) for e in expected["fail"])
    assert actual == wanted, "\n".join(f"{f.resource_id}:{f.location.line} {f.message}" for f in failing)

    for e in expected["fail"]:
        if "account" in e:
            messages = [f.message for f in failing if (f.resource_id, f.location.line) == (e["resource"], e["line"])]
            named = {m for msg in messages for m in ACCOUNT.findall(msg)}
            assert str(e["account"]) in named, messages


@pytest.mark.parametrize(("policy_id", "file", "expected"), EXPECTED)
def test_unresolved_values_are_reported_as_unresolved_not_as_failures(policy_id, file, expected):
    report = _scan(_target(file))
    unresolved = _in_file(report.unresolved, file, policy_id)
    assert all(f.outcome is Outcome.SKIP for f in unresolved)
    actual = Counter((f.resource_id, f.location.line) for f in unresolved)
    wanted = Counter((e["resource"], e["line"]) for e in expected["unresolved"])
    assert actual == wanted, "\n".join(f"{f.resource_id}:{f.location.line} {f.message}" for f in unresolved)

    failing_ids = {f.resource_id for f in _in_file(report.findings, file, policy_id)}
    for e in expected["unresolved"]:
        assert e["resource"] not in failing_ids, f"{e['resource']} is unresolved but was reported as failing"


@pytest.mark.parametrize(("policy_id", "file", "expected"), EXPECTED)
def test_every_resource_in_a_failing_fixture_is_accounted_for(policy_id, file, expected):
    outcomes = _outcomes(file, policy_id)
    failing = {e["resource"] for e in expected["fail"]}
    unresolved = {e["resource"] for e in expected["unresolved"]}
    passing = set(expected["pass"])
    assert not (passing & (failing | unresolved))
    assert set(outcomes) == failing | unresolved | passing
    for resource in passing:
        assert outcomes[resource] == {Outcome.PASS}, resource
    for resource in failing:
        assert Outcome.FAIL in outcomes[resource], resource
    for resource in unresolved - failing:
        assert outcomes[resource] == {Outcome.SKIP}, resource


@pytest.mark.parametrize(("policy_id", "file"), PASSING)
def test_passing_fixture_has_no_failures_for_its_policy(policy_id, file):
    report = _scan(_target(file))
    _assert_scanned(report, file)
    failing = _in_file(report.findings, file)
    assert failing == [], "\n".join(f"{f.policy_id} {f.resource_id}:{f.location.line} {f.message}" for f in failing)
    assert _in_file(report.unresolved, file, policy_id) == []

    outcomes = _outcomes(file, policy_id)
    assert outcomes, f"{policy_id} applies to no resource in {file}"
    assert all(o == {Outcome.PASS} for o in outcomes.values()), outcomes
