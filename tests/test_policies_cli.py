"""`iac-validator policies ...`: list, show, test (also for a team's own policies), generated docs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from validator.cli import app
from validator.docs import catalog_markdown
from validator.engine.policies import builtin_policy_dir, load_policies

ROOT = Path(__file__).parents[1]

CUSTOM_POLICY = """\
id: ORG-001
title: Roles carry a permissions boundary
severity: low
rationale: Our platform team requires every role to carry the org boundary.
remediation:
  text: Set PermissionsBoundary to the org boundary policy.
references: [https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html]
match:
  cloudformation: {types: [AWS::IAM::Role], fields: {boundary: PermissionsBoundary}}
  terraform: {types: [aws_iam_role], fields: {boundary: permissions_boundary}}
check: {field: boundary, op: exists}
examples:
  - name: no boundary
    expect: fail
    cloudformation: |
      Resources:
        Role:
          Type: AWS::IAM::Role
          Properties:
            AssumeRolePolicyDocument: {Statement: []}
  - name: boundary
    expect: pass
    terraform: |
      resource "aws_iam_role" "r" {
        permissions_boundary = "arn:aws:iam::123456789012:policy/org-boundary"
      }
  - name: deliberately wrong expectation
    expect: pass
    terraform: |
      resource "aws_iam_role" "r" {
        name = "no-boundary"
      }
"""


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_docs_policies_md_is_up_to_date():
    policies, errors = load_policies([builtin_policy_dir()])
    assert not errors
    committed = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    assert committed == catalog_markdown(policies), "docs/policies.md is stale: run `iac-validator policies docs -o docs/policies.md`"


def test_list_text_and_json():
    text = invoke("policies", "list")
    assert text.exit_code == 0
    assert "TRUST-001" in text.output and "high" in text.output
    rows = json.loads(invoke("policies", "list", "--format", "json").output)
    by_id = {r["id"]: r for r in rows}
    assert by_id["SESSION-001"]["params"] == {"max_seconds": 3600}
    assert by_id["WORKLOAD-001"]["types"] == {"cloudformation": ["AWS::EC2::Instance"], "terraform": ["aws_instance"]}


def test_show_explains_a_policy():
    result = invoke("policies", "show", "trust-001")
    assert result.exit_code == 0
    for heading in ("What it checks", "Why it matters", "How to fix it", "References"):
        assert heading in result.output
    assert "sts:ExternalId" in result.output
    assert invoke("policies", "show", "NOPE-999").exit_code == 2


def test_builtin_pack_self_test_passes():
    result = invoke("policies", "test")
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output.splitlines()[-1]


def test_custom_policy_directory_is_tested_and_a_wrong_example_fails(tmp_path: Path):
    (tmp_path / "ORG-001.yaml").write_text(CUSTOM_POLICY)
    result = invoke("policies", "test", str(tmp_path))
    assert result.exit_code == 1
    assert "ok    ORG-001-fail-0" in result.output
    assert "ok    ORG-001-pass-1" in result.output
    assert "FAIL  ORG-001-pass-2" in result.output and "permissions_boundary is not set" in result.output
    assert result.output.splitlines()[-1] == "2 passed, 1 failed"
    assert "TRUST-001" not in result.output  # only the given directory


def test_custom_policies_apply_in_scans(tmp_path: Path):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "ORG-001.yaml").write_text(CUSTOM_POLICY)
    (tmp_path / "main.tf").write_text('resource "aws_iam_role" "app" {\n  name = "app"\n}\n')
    result = invoke("scan", str(tmp_path / "main.tf"), "--policy-dir", str(policies), "--format", "json")
    findings = json.loads(result.output)["findings"]
    # The built-in pack runs too: GUARD-001 asks the same of every role.
    assert [(f["policy_id"], f["resource"]["id"]) for f in findings] == [("GUARD-001", "aws_iam_role.app"), ("ORG-001", "aws_iam_role.app")]


def test_policies_test_runs_a_teams_fixtures_against_their_expected_yaml(tmp_path: Path):
    (tmp_path / "ORG-001.yaml").write_text(CUSTOM_POLICY.replace(
        "  - name: deliberately wrong expectation\n    expect: pass\n    terraform: |\n      resource \"aws_iam_role\" \"r\" {\n        name = \"no-boundary\"\n      }\n",
        "",
    ))
    fail_dir = tmp_path / "fixtures" / "ORG-001" / "terraform" / "fail"
    fail_dir.mkdir(parents=True)
    (fail_dir / "main.tf").write_text(
        'resource "aws_iam_role" "bounded" {\n  permissions_boundary = "arn:aws:iam::123456789012:policy/org"\n}\n'
        'resource "aws_iam_role" "free" {\n  name = "free"\n}\n'
    )
    expected = "policy: ORG-001\nfiles:\n  main.tf:\n    fail:\n      - {resource: aws_iam_role.free, line: 4}\n    unresolved: []\n    pass: [aws_iam_role.bounded]\n"
    (fail_dir / "expected.yaml").write_text(expected)
    result = invoke("policies", "test", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "ok    ORG-001-fixture-fail/main.tf  as expected" in result.output

    (fail_dir / "expected.yaml").write_text(expected.replace("line: 4", "line: 5"))
    result = invoke("policies", "test", str(tmp_path))
    assert result.exit_code == 1
    assert "FAIL  ORG-001-fixture-fail/main.tf: failures [('aws_iam_role.free', 4)] != expected [('aws_iam_role.free', 5)]" in result.output
