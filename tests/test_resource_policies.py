"""Behaviour of the resource policies beyond their examples and fixtures: secrets never reach a
message, layout-specific fields are judged exactly once, parameters change verdicts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from validator.config import Config
from validator.engine.evaluate import evaluate
from validator.engine.policies import builtin_policy_dir, load_policies
from validator.loaders import cloudformation, terraform
from validator.model import Outcome
from validator.run import run

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "fixtures" / "policies"
POLICIES = {p.id: p for p in load_policies([builtin_policy_dir()])[0]}


def _cfn(policy_id: str, text: str, params: dict | None = None):
    template, errors = cloudformation.load("t.yaml", text)
    assert template is not None and errors == []
    return evaluate([POLICIES[policy_id]], [template], {policy_id: params} if params else None)


def _tf(policy_id: str, text: str, params: dict | None = None):
    template, errors = terraform.load_module("m", [("m/main.tf", text)])
    assert template is not None and errors == []
    return evaluate([POLICIES[policy_id]], [template], {policy_id: params} if params else None)


def _outcomes(findings) -> dict[str, list[Outcome]]:
    out: dict[str, list[Outcome]] = {}
    for f in findings:
        out.setdefault(f.resource_id, []).append(f.outcome)
    return out


# --- secrets never appear in messages -----------------------------------------------------------

SECRET_VALUES = [
    "Catalog#2019!",
    "Warehouse-2020-admin",
    "wiki-quickstart-2022",
    "Reports-2018!",
    "Events-Prod-2021",
    "Wh-prod-2020",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
]


@pytest.mark.parametrize("policy_id", ["SECRETS-002", "KEYS-005"])
def test_no_finding_of_the_secret_policies_shows_the_secret(policy_id):
    report = run(Config(paths=(str(FIXTURES / policy_id),)))
    messages = [f.message for f in (*report.findings, *report.unresolved) if f.policy_id == policy_id]
    assert messages, policy_id
    for message in messages:
        for secret in SECRET_VALUES:
            assert secret not in message, message
            assert secret[:8] not in message, message


def test_secrets_002_message_names_the_property_not_the_value():
    (finding,) = _tf(
        "SECRETS-002",
        'resource "aws_rds_cluster" "c" {\n  engine = "aurora-mysql"\n  master_password = "hunter2-Secret"\n}\n',
    )
    assert finding.outcome is Outcome.FAIL
    assert finding.message.startswith("master_password is a literal value")
    assert "hunter2" not in finding.message


# --- one verdict per resource where a field has a different path per resource type -------------


@pytest.mark.parametrize("policy_id", ["WORKLOAD-002", "WORKLOAD-003", "SECRETS-002", "KEYS-002"])
def test_layout_specific_fields_are_judged_once_per_resource(policy_id):
    report = run(Config(paths=(str(FIXTURES / policy_id),)))
    judged = [f for f in (*report.findings, *report.unresolved) if f.policy_id == policy_id]
    assert judged
    counts = Counter((f.location.file, f.resource_id) for f in judged)
    assert max(counts.values()) == 1, counts


def test_cloudformation_password_is_judged_once_although_both_fields_name_it():
    findings = _cfn(
        "SECRETS-002",
        "Resources:\n  Db:\n    Type: AWS::RDS::DBCluster\n    Properties:\n      MasterUserPassword: literal-Passw0rd\n",
    )
    assert [f.outcome for f in findings] == [Outcome.FAIL]


# --- parameters ----------------------------------------------------------------------------------


def test_session_002_limit_is_a_parameter():
    text = "Resources:\n  P:\n    Type: AWS::SSO::PermissionSet\n    Properties:\n      SessionDuration: PT8H\n"
    assert [f.outcome for f in _cfn("SESSION-002", text)] == [Outcome.FAIL]
    assert [f.outcome for f in _cfn("SESSION-002", text, {"max_duration": "PT8H"})] == [Outcome.PASS]
    assert [f.outcome for f in _cfn("SESSION-002", text, {"max_duration": "12h"})] == [Outcome.PASS]


@pytest.mark.parametrize(("duration", "outcome"), [("1h", Outcome.PASS), ("59m", Outcome.PASS), ("1h0m1s", Outcome.FAIL), ("1.5h", Outcome.FAIL), ("3600s", Outcome.PASS)])
def test_session_004_reads_go_durations(duration, outcome):
    text = f'provider "aws" {{\n  assume_role {{\n    role_arn = "arn:aws:iam::111122223333:role/deploy"\n    duration = "{duration}"\n  }}\n}}\n'
    assert [f.outcome for f in _tf("SESSION-004", text)] == [outcome]


def test_session_004_limit_is_a_parameter():
    text = 'provider "aws" {\n  assume_role {\n    role_arn = "r"\n    duration = "2h"\n  }\n}\n'
    assert [f.outcome for f in _tf("SESSION-004", text)] == [Outcome.FAIL]
    assert [f.outcome for f in _tf("SESSION-004", text, {"max_duration": "PT2H"})] == [Outcome.PASS]


# --- IMDSv2 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "outcome"),
    [
        ("", Outcome.FAIL),
        ('metadata_options {\n    http_tokens = "optional"\n  }', Outcome.FAIL),
        ('metadata_options {\n    http_tokens = "required"\n  }', Outcome.PASS),
        ('metadata_options {\n    http_endpoint = "disabled"\n  }', Outcome.PASS),
        ('metadata_options {\n    http_endpoint = "enabled"\n    http_tokens = "optional"\n  }', Outcome.FAIL),
    ],
)
def test_workload_003_terraform_launch_template(options, outcome):
    text = f'resource "aws_launch_template" "lt" {{\n  image_id = "ami-1"\n  {options}\n}}\n'
    assert [f.outcome for f in _tf("WORKLOAD-003", text)] == [outcome]


def test_workload_003_an_instance_overriding_its_launch_template_is_judged():
    text = """Resources:
  Worker:
    Type: AWS::EC2::Instance
    Properties:
      LaunchTemplate: {LaunchTemplateId: lt-0123456789abcdef0, Version: "3"}
      MetadataOptions:
        HttpTokens: optional
"""
    (finding,) = _cfn("WORKLOAD-003", text)
    assert finding.outcome is Outcome.FAIL and finding.location.line == 7


# --- keys ----------------------------------------------------------------------------------------


def test_keys_005_unresolved_credentials_are_not_failures():
    text = 'variable "k" {}\nprovider "aws" {\n  access_key = var.k\n}\n'
    (finding,) = _tf("KEYS-005", text)
    assert finding.outcome is Outcome.SKIP


def test_keys_002_terraform_users_pass_and_login_profiles_fail():
    text = """resource "aws_iam_user" "u" {
  name = "u"
}

resource "aws_iam_user_login_profile" "u" {
  user = aws_iam_user.u.name
}
"""
    assert _outcomes(_tf("KEYS-002", text)) == {"aws_iam_user.u": [Outcome.PASS], "aws_iam_user_login_profile.u": [Outcome.FAIL]}


# --- database IAM authentication -----------------------------------------------------------------


def test_secrets_003_judges_the_aurora_cluster_not_its_instances():
    text = """Resources:
  Cluster:
    Type: AWS::RDS::DBCluster
    Properties:
      DBClusterIdentifier: catalog
      Engine: aurora-mysql
  Writer:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: aurora-mysql
      DBClusterIdentifier: !Ref Cluster
      DBInstanceClass: db.r7g.large
"""
    assert _outcomes(_cfn("SECRETS-003", text)) == {"Cluster": [Outcome.FAIL], "Writer": [Outcome.PASS]}
