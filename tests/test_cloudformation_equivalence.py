"""Equivalence: every pack policy gives the same verdict on one case written four ways.

fixtures/cloudformation/equivalence/<case>/ holds the same resources as a literal template, as a
template full of parameters, mappings, conditions and intrinsic functions, as a SAM template and as
CDK synthesized output. For every policy in the pack the verdict (fail / pass / unresolved / not
applicable) must be the same in all four; expected.yaml pins the verdicts of the headline policies
and which resources fail them.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
import yaml

from validator.config import Config
from validator.engine.policies import builtin_policy_dir, load_policies
from validator.model import FileStatus, Finding, Outcome, Report
from validator.run import run

CASES_DIR = Path(__file__).parents[1] / "fixtures" / "cloudformation" / "equivalence"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "expected.yaml").is_file())
FORMS = ("literal.yaml", "intrinsics.yaml", "sam.yaml", "cdk.template.json")
HEADLINE = ("WORKLOAD-001", "TRUST-001", "SESSION-001", "WORKLOAD-005", "KEYS-001", "TRUST-002", "TRUST-003", "TRUST-004")
PACK = [p.id for p in load_policies([builtin_policy_dir()])[0]]


@cache
def report(case: str, form: str) -> Report:
    return run(Config(paths=(str(CASES_DIR / case / form),), fail_on=None, keep_passes=True))


def expected(case: str) -> dict:
    return yaml.safe_load((CASES_DIR / case / "expected.yaml").read_text(encoding="utf-8"))


def verdicts(r: Report) -> dict[str, str]:
    """Per policy: fail (something fails), pass (applies, nothing fails), unresolved, or n/a."""
    outcomes: dict[str, set[Outcome]] = defaultdict(set)
    for f in (*r.findings, *r.unresolved, *r.passes):
        outcomes[f.policy_id].add(f.outcome)
    out = {}
    for policy_id in PACK:
        seen = outcomes.get(policy_id, set())
        out[policy_id] = (
            "fail" if Outcome.FAIL in seen else "pass" if Outcome.PASS in seen else "unresolved" if seen else "n/a"
        )
    return out


def subject(f: Finding) -> str:
    """The resource a finding is about, named the same in every form: the construct id for CDK
    (`Bastion0E2A6C5F (WorkloadsStack/Bastion/Resource)` → Bastion), else the logical id."""
    logical, _, origin = f.resource_id.partition(" (")
    if origin and "/" in origin:
        return origin.rstrip(")").split("/")[1]
    return logical


def test_there_are_cases_and_they_cover_the_headline_policies():
    assert len(CASES) >= 4
    for policy_id in HEADLINE:
        if policy_id not in PACK:
            continue
        seen = {expected(case)["verdicts"].get(policy_id) for case in CASES}
        assert {"fail", "pass"} <= seen, f"{policy_id} needs a failing and a passing case, has {seen}"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("form", FORMS)
def test_every_form_loads_cleanly(case, form):
    r = report(case, form)
    assert r.errors == ()
    assert [f.status for f in r.files] == [FileStatus.SCANNED]
    assert not [f for f in r.findings if f.outcome is Outcome.ERROR]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("form", FORMS[1:])
def test_every_pack_policy_gives_the_literal_verdict(case, form):
    literal, other = verdicts(report(case, "literal.yaml")), verdicts(report(case, form))
    different = {p: (literal[p], other[p]) for p in PACK if literal[p] != other[p]}
    assert different == {}, f"{case}/{form}: policy → (literal verdict, {form} verdict)"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("form", FORMS)
def test_headline_verdicts_and_failing_resources(case, form):
    spec = expected(case)
    r = report(case, form)
    got = verdicts(r)
    for policy_id, verdict in spec["verdicts"].items():
        if policy_id in PACK:
            assert got[policy_id] == verdict, f"{case}/{form} {policy_id}"
    text = (CASES_DIR / case / form).read_text(encoding="utf-8").splitlines()
    for policy_id, subjects in spec.get("failing", {}).items():
        if policy_id not in PACK:
            continue
        failing = [f for f in r.findings if f.policy_id == policy_id]
        assert sorted({subject(f) for f in failing}) == sorted(subjects), f"{case}/{form} {policy_id}"
        for f in failing:
            assert f.location.line and 0 < f.location.line <= len(text), f


def test_findings_of_cdk_output_show_the_construct_path():
    r = report("workloads", "cdk.template.json")
    (finding,) = [f for f in r.findings if f.policy_id == "WORKLOAD-001"]
    assert finding.resource_id == "Bastion0E2A6C5F (WorkloadsStack/Bastion/Resource)"


def test_a_violation_of_one_variant_names_the_choice():
    r = report("workloads", "intrinsics.yaml")
    (finding,) = [f for f in r.findings if f.policy_id == "WORKLOAD-001"]
    assert finding.resource_id == "Bastion"
    assert finding.message.endswith("(when WithProfile is false)")
    r = report("trust", "intrinsics.yaml")
    (finding,) = [f for f in r.findings if f.policy_id == "SESSION-001"]
    assert finding.message == "MaxSessionDuration is 43200 s, limit 3600 s (when parameter SessionHours is 12)"
