"""Every policy's own examples, one parametrized case each: <ID>-<expect>-<n>."""

from __future__ import annotations

import pytest

from validator.engine.policies import builtin_policy_dir, load_policies
from validator.selftest import run_example

POLICIES, ERRORS = load_policies([builtin_policy_dir()])
CASES = [
    pytest.param(policy, i, id=f"{policy.id}-{example['expect']}-{i}")
    for policy in POLICIES
    for i, example in enumerate(policy.examples)
]


def test_builtin_pack_loads_without_errors():
    assert ERRORS == []
    assert {p.id for p in POLICIES} >= {"WORKLOAD-001", "TRUST-001", "SESSION-001"}


@pytest.mark.parametrize(("policy", "index"), CASES)
def test_policy_example(policy, index):
    result = run_example(policy, index)
    assert result.ok, f"{policy.id} example {index} ({policy.examples[index]['name']}): {result.detail}"


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_every_policy_has_failing_and_passing_examples_per_format(policy):
    for fmt in policy.match:
        expects = {e["expect"] for e in policy.examples if fmt in e}
        assert expects == {"pass", "fail"}, f"{policy.id} needs pass and fail examples for {fmt}"
