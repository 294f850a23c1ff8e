"""One configuration, three ways: literals, the way teams write it, and its plan JSON. Same verdicts.

fixtures/terraform/equivalence/literal is written with literals only; ../expressive is the same
infrastructure with variables (terraform.tfvars, *.auto.tfvars), locals, data policy documents with
dynamic blocks, count / for_each and local modules; ../plan/tfplan.json is Terraform's plan of
../expressive. Every policy of the built-in pack that applies to one of these resources must give
the same outcome on all three, whichever policies the pack holds when the test runs.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from terraform_helpers import load

from validator.engine.evaluate import applies, evaluate
from validator.engine.policies import builtin_policy_dir, load_policies
from validator.model import Outcome

BASE = Path(__file__).parents[1] / "fixtures" / "terraform" / "equivalence"

# literal address → address in ../expressive and in the plan
SAME = {
    "provider.aws": "provider.aws",
    "provider.aws.legacy": "provider.aws.legacy",
    "provider.aws.audit": "provider.aws.audit",
    "aws_iam_role.vendor": "module.vendor.aws_iam_role.this",
    "aws_iam_role.partner": "module.partner.aws_iam_role.this",
    "aws_iam_role.analyst": "aws_iam_role.analyst",
    "aws_iam_role.ci_dev": 'aws_iam_role.ci["dev"]',
    "aws_iam_role.ci_prod": 'aws_iam_role.ci["prod"]',
    "aws_iam_role.batch": "aws_iam_role.batch[0]",
    "aws_iam_instance_profile.batch": "aws_iam_instance_profile.batch[0]",
    "aws_instance.batch": "aws_instance.batch[0]",
    "aws_instance.bastion": "module.bastion.aws_instance.this",
    "aws_secretsmanager_secret.db": 'aws_secretsmanager_secret.this["db"]',
    "aws_secretsmanager_secret.api_token": 'aws_secretsmanager_secret.this["api-token"]',
    "aws_secretsmanager_secret_rotation.db": 'aws_secretsmanager_secret_rotation.this["db"]',
}
# Without its .tf source a plan records which variables a provider block uses, not the expression:
# those provider arguments are unresolved there, never wrong. Everything else must match as is.
PLAN_ALONE_UNRESOLVED = {"provider.aws.legacy", "provider.aws.audit", "provider.aws"}

POLICIES, _ERRORS = load_policies([builtin_policy_dir()])

Verdicts = dict[tuple[str, str], frozenset[Outcome]]


def verdicts(*paths: Path, **config: object) -> tuple[Verdicts, set[tuple[str, str]]]:
    """Outcomes per (policy, resource address), and which (policy, resource) pairs apply at all."""
    loaded = load(*paths, **config)
    assert loaded.errors == []
    outcomes: dict[tuple[str, str], set[Outcome]] = defaultdict(set)
    applicable: set[tuple[str, str]] = set()
    for template in loaded.templates:
        for resource in template.resources:
            applicable.update((p.id, resource.id) for p in POLICIES if applies(p, resource))
        for f in evaluate(POLICIES, [template]):
            outcomes[(f.policy_id, f.resource_id)].add(f.outcome)
    return {k: frozenset(v) for k, v in outcomes.items()}, applicable


@pytest.fixture(scope="module")
def literal():
    return verdicts(BASE / "literal")


@pytest.fixture(scope="module")
def expressive():
    return verdicts(BASE / "expressive")


@pytest.fixture(scope="module")
def plan_with_source():
    return verdicts(BASE / "plan" / "tfplan.json", tf_source=str(BASE / "expressive"))


@pytest.fixture(scope="module")
def plan_alone():
    return verdicts(BASE / "plan" / "tfplan.json")


def _compare(literal, other, skip: set[str] = frozenset()) -> list[str]:
    (base, base_applies), (theirs, theirs_applies) = literal, other
    differences = []
    for policy in POLICIES:
        for lit, expr in SAME.items():
            if lit in skip:
                continue
            a, b = base.get((policy.id, lit)), theirs.get((policy.id, expr))
            if ((policy.id, lit) in base_applies) != ((policy.id, expr) in theirs_applies):
                differences.append(f"{policy.id} applies to {lit} but not to {expr} (or the reverse)")
            elif a != b:
                differences.append(f"{policy.id} {lit}: {sorted(a or ())} vs {expr}: {sorted(b or ())}")
    return differences


def test_the_pack_loads_and_the_fixture_exercises_the_headline_policies(literal):
    assert _ERRORS == []
    base, _ = literal
    expected = {
        ("TRUST-001", "aws_iam_role.vendor"): Outcome.FAIL,
        ("TRUST-001", "aws_iam_role.partner"): Outcome.PASS,
        ("SESSION-001", "aws_iam_role.analyst"): Outcome.FAIL,
        ("SESSION-001", "aws_iam_role.vendor"): Outcome.PASS,
        ("WORKLOAD-001", "aws_instance.bastion"): Outcome.FAIL,
        ("WORKLOAD-001", "aws_instance.batch"): Outcome.PASS,
    }
    # policies of the pack that may not exist yet are checked once they do
    optional = {
        ("SESSION-004", "provider.aws.audit"): Outcome.FAIL,
        ("KEYS-005", "provider.aws.legacy"): Outcome.FAIL,
        ("KEYS-005", "provider.aws"): Outcome.PASS,
        ("TRUST-003", "aws_iam_role.ci_prod"): Outcome.PASS,
        ("TRUST-003", "aws_iam_role.ci_dev"): Outcome.FAIL,
        ("TRUST-004", "aws_iam_role.analyst"): Outcome.PASS,
        ("SECRETS-001", "aws_secretsmanager_secret.db"): Outcome.PASS,
        ("SECRETS-001", "aws_secretsmanager_secret.api_token"): Outcome.FAIL,
    }
    present = {p.id for p in POLICIES}
    for (policy, resource), outcome in {**expected, **{k: v for k, v in optional.items() if k[0] in present}}.items():
        assert outcome in base[(policy, resource)], (policy, resource, base.get((policy, resource)))


def test_variables_locals_documents_and_modules_give_the_literal_verdicts(literal, expressive):
    assert _compare(literal, expressive) == []


def test_the_plan_with_its_configuration_gives_the_literal_verdicts(literal, plan_with_source):
    assert _compare(literal, plan_with_source) == []


def test_the_plan_alone_gives_the_literal_verdicts(literal, plan_alone):
    assert _compare(literal, plan_alone, skip=PLAN_ALONE_UNRESOLVED) == []
    theirs, _ = plan_alone
    for provider in PLAN_ALONE_UNRESOLVED:
        for (_, resource), outcomes in theirs.items():
            if resource == provider:
                assert Outcome.FAIL not in outcomes  # unresolved or passing, never a wrong failure
