"""The IAM-document operators behind TRUST-001..006, KEYS-003 and GUARD-002: verdicts, messages, paths."""

from __future__ import annotations

from typing import Any

import pytest

from validator.engine.base import Args, Violation
from validator.engine.iam_operators import IAM_OPERATORS
from validator.loaders import cloudformation, terraform
from validator.model import Outcome, Reference, Resource, Template, Unknown

VENDOR = "111122223333"
GITHUB = "token.actions.githubusercontent.com"
GITHUB_PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"
EKS = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
COGNITO = "cognito-identity.amazonaws.com"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def stmt(principal: Any = None, action: Any = "sts:AssumeRole", condition: Any = None, effect: str = "Allow", **extra: Any) -> dict:
    out: dict[str, Any] = {"Effect": effect, "Action": action, **extra}
    if principal is not None:
        out["Principal"] = principal
    if condition is not None:
        out["Condition"] = condition
    return out


def run(op: str, document: Any, resource: Resource | None = None, template: Template | None = None, **params: Any) -> list[Violation]:
    return IAM_OPERATORS[op](document, Args("Document", None, None, params, resource, template))


def fails(violations: list[Violation]) -> list[str]:
    assert violations and all(v.outcome is Outcome.FAIL for v in violations), violations
    return [v.message for v in violations]


def skipped(violations: list[Violation]) -> list[str]:
    assert violations and all(v.outcome is Outcome.SKIP for v in violations), violations
    return [v.message for v in violations]


def cfn(text: str) -> Template:
    template, errors = cloudformation.load("t.yaml", text)
    assert template is not None and not errors, errors
    return template


def tf(text: str) -> Template:
    template, errors = terraform.load_module("m", [("m/main.tf", text)])
    assert template is not None and not errors, errors
    return template


def resource(template: Template, rid: str) -> Resource:
    return next(r for r in template.resources if r.id == rid)


DOCUMENT_OPERATORS = sorted(IAM_OPERATORS)


@pytest.mark.parametrize("op", DOCUMENT_OPERATORS)
def test_an_unresolved_document_is_skipped_with_its_reason(op):
    violations = run(op, Unknown("var.policy has no value"))
    assert [v.outcome for v in violations] == [Outcome.SKIP]
    assert "var.policy has no value" in violations[0].message


@pytest.mark.parametrize("op", [o for o in DOCUMENT_OPERATORS if o != "iam_user_managed_policy"])
def test_unresolved_statements_are_skipped_not_failed(op):
    for document in ({"Statement": Unknown("Fn::If")}, {"Statement": [Unknown("Fn::If")]}):
        assert [v.outcome for v in run(op, document)] == [Outcome.SKIP]


# --- TRUST-001 -------------------------------------------------------------------------------------


def test_trust_001_accepts_mfa_for_people_only():
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert run("iam_cross_account_external_id", doc(stmt({"AWS": f"arn:aws:iam::{VENDOR}:root"}, condition=mfa))) == []
    assert run("iam_cross_account_external_id", doc(stmt({"AWS": f"arn:aws:iam::{VENDOR}:user/auditor"}, condition=mfa))) == []
    (message,) = fails(run("iam_cross_account_external_id", doc(stmt({"AWS": f"arn:aws:iam::{VENDOR}:role/sync"}, condition=mfa))))
    assert f"account {VENDOR}" in message and "sts:ExternalId" in message


def test_trust_001_accept_mfa_false_requires_the_external_id():
    document = doc(stmt({"AWS": f"arn:aws:iam::{VENDOR}:root"}, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    assert len(fails(run("iam_cross_account_external_id", document, accept_mfa=False))) == 1
    assert run("iam_cross_account_external_id", document, accept_mfa="true") == []


def test_trust_001_bool_if_exists_is_not_mfa():
    document = doc(stmt({"AWS": f"arn:aws:iam::{VENDOR}:root"}, condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}))
    assert len(fails(run("iam_cross_account_external_id", document))) == 1


def test_trust_001_a_negated_deny_counts_as_requiring_the_external_id():
    document = doc(
        stmt({"AWS": f"arn:aws:iam::{VENDOR}:root"}),
        stmt({"AWS": "*"}, effect="Deny", condition={"StringNotEquals": {"sts:ExternalId": "agreed-2026"}}),
    )
    assert run("iam_cross_account_external_id", document) == []


def test_trust_001_presence_only_external_id_matches_any_value():
    document = doc(stmt({"AWS": f"arn:aws:iam::{VENDOR}:root"}, condition={"Null": {"sts:ExternalId": "false"}}))
    (message,) = fails(run("iam_cross_account_external_id", document))
    assert "matches any value" in message


def test_trust_001_names_the_sid_and_why_a_condition_does_not_count():
    document = doc(stmt({"AWS": VENDOR}, Sid="Vendor", condition={"StringEqualsIfExists": {"sts:ExternalId": "x"}}))
    (message,) = fails(run("iam_cross_account_external_id", document))
    assert message.startswith("Statement 0 (Vendor) lets account 111122223333 assume the role without an sts:ExternalId condition")
    assert "holds when the key is absent" in message


def test_trust_001_a_template_resource_is_the_own_account():
    principal = {"AWS": Reference("Fn::GetAtt Ops.Arn", target="Ops", attribute="Arn")}
    assert run("iam_cross_account_external_id", doc(stmt(principal))) == []


def test_trust_001_a_literal_unresolved_external_id_is_enough_a_pattern_is_not():
    ref = Unknown("parameter ExternalId has no default")
    assert run("iam_cross_account_external_id", doc(stmt({"AWS": VENDOR}, condition={"StringEquals": {"sts:ExternalId": ref}}))) == []
    skipped(run("iam_cross_account_external_id", doc(stmt({"AWS": VENDOR}, condition={"StringLike": {"sts:ExternalId": ref}}))))


# --- TRUST-002 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_trust_002_any_principal_without_pin_fails_at_the_principal(principal):
    (violation,) = run("iam_trust_any_principal", doc(stmt(principal, ["sts:AssumeRole", "sts:TagSession"])))
    assert violation.outcome is Outcome.FAIL
    assert violation.path[:3] == ("Statement", 0, "Principal")
    assert "any principal" in violation.message and "sts:AssumeRole, sts:TagSession" in violation.message


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        {"StringEquals": {"aws:PrincipalAccount": VENDOR}},
        {"StringEquals": {"aws:SourceAccount": VENDOR}},
        {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:eu-west-1:{VENDOR}:alerts"}},
        {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{VENDOR}:role/ci-*"}},
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}},
    ],
)
def test_trust_002_pinning_conditions_pass(condition):
    assert run("iam_trust_any_principal", doc(stmt("*", condition=condition))) == []


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}},
        {"StringLike": {"aws:PrincipalAccount": "*"}},
    ],
)
def test_trust_002_wildcard_pins_fail_at_the_condition(condition):
    (violation,) = run("iam_trust_any_principal", doc(stmt({"AWS": "*"}, condition=condition)))
    assert violation.outcome is Outcome.FAIL and violation.path[2] == "Condition"
    assert "does not pin one organization, account or ARN" in violation.message


def test_trust_002_if_exists_and_negated_conditions_do_not_pin():
    for condition in ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}, {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}):
        (message,) = fails(run("iam_trust_any_principal", doc(stmt("*", condition=condition))))
        assert "aws:PrincipalOrgID" in message


def test_trust_002_not_principal_and_deny_pin():
    not_principal = doc({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{VENDOR}:root"}, "Action": "sts:AssumeRole"})
    (violation,) = run("iam_trust_any_principal", not_principal)
    assert violation.outcome is Outcome.FAIL and violation.path == ("Statement", 0, "NotPrincipal")
    pinned_by_deny = doc(stmt("*"), stmt("*", effect="Deny", condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}))
    assert run("iam_trust_any_principal", pinned_by_deny) == []


def test_trust_002_unresolved_values():
    skipped(run("iam_trust_any_principal", doc(stmt({"AWS": Unknown("Ref Principal")}))))
    skipped(run("iam_trust_any_principal", doc(stmt(Unknown("Fn::If")))))
    assert run("iam_trust_any_principal", doc(stmt({"Service": Unknown("Fn::FindInMap")}))) == []
    assert run("iam_trust_any_principal", doc(stmt({"AWS": Reference("Ref Role", target="Role")}))) == []
    skipped(run("iam_trust_any_principal", doc(stmt("*", condition={"StringLike": {"aws:PrincipalOrgID": Unknown("Ref Org")}}))))
    assert run("iam_trust_any_principal", doc(stmt("*", condition={"StringEquals": {"aws:PrincipalOrgID": Unknown("Ref Org")}}))) == []
    assert run("iam_trust_any_principal", doc(stmt({"Service": "lambda.amazonaws.com"}))) == []


# --- TRUST-003 -------------------------------------------------------------------------------------


def github(condition: Any, sid: str | None = None, principal: Any = GITHUB_PROVIDER) -> dict:
    extra = {"Sid": sid} if sid else {}
    return doc(stmt({"Federated": principal}, "sts:AssumeRoleWithWebIdentity", condition, **extra))


def test_trust_003_realistic_github_deploy_role_passes():
    condition = {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:acme/payments-api:ref:refs/heads/main"}}
    assert run("iam_trust_web_identity", github(condition)) == []


def test_trust_003_message_for_a_subject_admitting_every_repository():
    condition = {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}, "StringLike": {f"{GITHUB}:sub": "repo:*"}}
    (violation,) = run("iam_trust_web_identity", github(condition, sid="GitHubDeploy"))
    assert violation.message == (
        "Statement 0 (GitHubDeploy) lets token.actions.githubusercontent.com assume the role for subject 'repo:*', "
        "which admits every repository: pin token.actions.githubusercontent.com:sub to repo:<org>/<repo>:..."
    )
    assert violation.path == ("Statement", 0, "Condition", "StringLike", f"{GITHUB}:sub")


@pytest.mark.parametrize(
    ("sub", "ok"),
    [
        ("repo:acme/payments-api:*", True),
        ("repo:acme/payments-api:ref:refs/heads/main", True),
        ("repo:acme/*", True),
        ("*", False),
        ("repo:*", False),
        ("repo:*/*", False),
        (["repo:acme/api:*", "repo:*"], False),
    ],
)
def test_trust_003_github_subjects(sub, ok):
    condition = {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}, "StringLike": {f"{GITHUB}:sub": sub}}
    assert (run("iam_trust_web_identity", github(condition)) == []) is ok


def test_trust_003_string_equals_is_literal():
    condition = {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:*"}}
    assert run("iam_trust_web_identity", github(condition)) == []


def test_trust_003_missing_aud_and_sub_point_at_the_provider():
    violations = run("iam_trust_web_identity", github(None))
    assert [v.path for v in violations] == [("Statement", 0, "Principal", "Federated")] * 2
    messages = fails(violations)
    assert f"without a condition on {GITHUB}:aud" in messages[0] and "sts.amazonaws.com" in messages[0]
    assert f"without a condition on {GITHUB}:sub" in messages[1] and "every repository" in messages[1]


def test_trust_003_negated_subjects_do_not_pin():
    condition = {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}, "StringNotLike": {f"{GITHUB}:sub": "repo:*:pull_request"}}
    (message,) = fails(run("iam_trust_web_identity", github(condition)))
    assert "StringNotLike" in message and "admits every other value" in message


def test_trust_003_claims_every_token_carries_are_constrained_by_if_exists_and_for_all_values():
    # aud and sub are always in the request, so these cannot be satisfied by their absence
    condition = {"ForAllValues:StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}, "StringLikeIfExists": {f"{GITHUB}:sub": "repo:acme/api:*"}}
    assert run("iam_trust_web_identity", github(condition)) == []
    condition = {"ForAllValues:StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}, "StringLikeIfExists": {f"{GITHUB}:sub": "repo:*"}}
    (message,) = fails(run("iam_trust_web_identity", github(condition)))
    assert "for subject 'repo:*'" in message


def test_trust_003_eks_irsa():
    def irsa(sub: str) -> dict:
        condition = {"StringEquals": {f"{EKS}:aud": "sts.amazonaws.com"}, "StringLike": {f"{EKS}:sub": sub}}
        return github(condition, principal=f"arn:aws:iam::123456789012:oidc-provider/{EKS}")

    assert run("iam_trust_web_identity", irsa("system:serviceaccount:payments:payments-api")) == []
    (message,) = fails(run("iam_trust_web_identity", irsa("system:serviceaccount:*")))
    assert "every service account of the cluster" in message
    missing_aud = github({"StringEquals": {f"{EKS}:sub": "system:serviceaccount:a:b"}}, principal=f"arn:aws:iam::1:oidc-provider/{EKS}")
    (message,) = fails(run("iam_trust_web_identity", missing_aud))
    assert f"{EKS}:aud" in message and "sts.amazonaws.com" in message


def test_trust_003_follows_the_provider_resource():
    template = cfn(
        """
Resources:
  Provider:
    Type: AWS::IAM::OIDCProvider
    Properties: {Url: "https://token.actions.githubusercontent.com"}
"""
    )
    principal = Reference("Ref Provider", target="Provider")
    (message,) = fails(run("iam_trust_web_identity", github({"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}, principal=principal), template=template))
    assert f"{GITHUB}:sub" in message


def test_trust_003_infers_the_issuer_from_the_condition_keys_or_skips():
    condition = {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": "repo:acme/api:ref:refs/heads/main"}}
    assert run("iam_trust_web_identity", github(condition, principal=Unknown("Fn::ImportValue provider"))) == []
    (message,) = skipped(run("iam_trust_web_identity", github(None, principal=Unknown("Fn::ImportValue provider"))))
    assert "Fn::ImportValue provider" in message
    skipped(run("iam_trust_web_identity", github({"StringEquals": Unknown("object with a computed key")}, principal=f"arn:aws:iam::1:oidc-provider/{EKS}")))


def test_trust_003_leaves_saml_cognito_and_any_principal_to_other_policies():
    assert run("iam_trust_web_identity", github(None, principal=COGNITO)) == []
    assert run("iam_trust_web_identity", github(None, principal="arn:aws:iam::1:saml-provider/okta")) == []
    assert run("iam_trust_web_identity", doc(stmt("*", "sts:AssumeRoleWithWebIdentity"))) == []


# --- TRUST-004 -------------------------------------------------------------------------------------


def saml(condition: Any = None, principal: Any = "arn:aws:iam::123456789012:saml-provider/okta", action: Any = "sts:AssumeRoleWithSAML") -> dict:
    return doc(stmt({"Federated": principal}, action, condition))


@pytest.mark.parametrize(
    "audience",
    [
        "https://signin.aws.amazon.com/saml",
        "https://eu-central-1.signin.aws.amazon.com/saml",
        "https://signin.amazonaws-us-gov.com/saml",
        "https://us-east-1.signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46",
        Unknown("Ref Audience"),
    ],
)
def test_trust_004_sign_in_endpoints_pass(audience):
    assert run("iam_trust_saml_audience", saml({"StringEquals": {"SAML:aud": audience}})) == []


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        (None, "without a condition on SAML:aud"),
        ({"StringLike": {"SAML:aud": "*"}}, "admits any audience"),
        ({"StringEquals": {"SAML:aud": "https://adfs.acme.example/adfs/ls/"}}, "not an AWS sign-in SAML endpoint"),
        ({"Null": {"SAML:aud": "false"}}, "for any SAML:aud"),
        ({"StringEqualsIfExists": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}, "holds when the key is absent"),
    ],
)
def test_trust_004_failures(condition, words):
    (message,) = fails(run("iam_trust_saml_audience", saml(condition)))
    assert words in message and "SAML provider okta" in message


def test_trust_004_provider_resources_and_unresolved_providers():
    template = tf('resource "aws_iam_saml_provider" "okta" {\n  name = "okta"\n}\n')
    assert len(fails(run("iam_trust_saml_audience", saml(principal=Reference("x", target="aws_iam_saml_provider.okta")), template=template))) == 1
    # An unresolved provider of a SAML-only statement is a SAML provider: the requirement does not depend on which.
    assert len(fails(run("iam_trust_saml_audience", saml(principal=Unknown("Ref Provider"))))) == 1
    skipped(run("iam_trust_saml_audience", saml(principal=Unknown("Ref Provider"), action="sts:AssumeRoleWith*")))
    assert run("iam_trust_saml_audience", saml(principal=GITHUB_PROVIDER, action="sts:AssumeRoleWith*")) == []


# --- TRUST-005 -------------------------------------------------------------------------------------


def user_trust(condition: Any = None, principal: str = f"arn:aws:iam::{VENDOR}:user/etl") -> dict:
    return doc(stmt({"AWS": principal}, condition=condition))


def test_trust_005_foreign_users_need_a_source_network():
    (violation,) = run("iam_trust_user_source_network", user_trust())
    assert violation.outcome is Outcome.FAIL and f"account {VENDOR}" in violation.message
    assert violation.path == ("Statement", 0, "Principal", "AWS")
    for condition in (
        {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}},
        {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}},
        {"StringEquals": {"aws:SourceVpc": "vpc-0a1b2c3d"}},
    ):
        assert run("iam_trust_user_source_network", user_trust(condition)) == []


def test_trust_005_what_is_not_judged():
    assert run("iam_trust_user_source_network", user_trust(principal=f"arn:aws:iam::{VENDOR}:root")) == []
    assert run("iam_trust_user_source_network", user_trust(principal=f"arn:aws:iam::{VENDOR}:role/etl")) == []
    assert run("iam_trust_user_source_network", user_trust(principal="arn:aws:iam::${AWS::AccountId}:user/ops")) == []
    assert run("iam_trust_user_source_network", user_trust(), trusted_accounts=[int(VENDOR)]) == []


def test_trust_005_loose_and_unresolved_networks():
    (message,) = fails(run("iam_trust_user_source_network", user_trust({"IpAddress": {"aws:SourceIp": "::/0"}})))
    assert "admits every address" in message
    (message,) = fails(run("iam_trust_user_source_network", user_trust({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
    assert "NotIpAddress" in message
    skipped(run("iam_trust_user_source_network", user_trust({"IpAddress": {"aws:SourceIp": Unknown("var.cidrs")}})))


# --- TRUST-006 -------------------------------------------------------------------------------------


def cognito(condition: Any = None) -> dict:
    return doc(stmt({"Federated": COGNITO}, "sts:AssumeRoleWithWebIdentity", condition))


AUD = {"StringEquals": {f"{COGNITO}:aud": "eu-west-1:0f3c2f5e-8d1b-4c1a-9e51-7d2b3a4c5d6e"}}


def test_trust_006_authenticated_role_of_one_pool_passes():
    assert run("iam_trust_cognito", cognito({**AUD, "ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"}})) == []
    assert run("iam_trust_cognito", cognito({**AUD, "ForAnyValue:StringLike": {f"{COGNITO}:amr": "unauthenticated"}})) == []


def test_trust_006_missing_and_loose_conditions():
    assert len(fails(run("iam_trust_cognito", cognito()))) == 2
    (message,) = fails(run("iam_trust_cognito", cognito(AUD)))
    assert "unauthenticated (guest) identities" in message
    (message,) = fails(run("iam_trust_cognito", cognito({**AUD, "ForAnyValue:StringLike": {f"{COGNITO}:amr": "*authenticated"}})))
    assert "admits unauthenticated identities too" in message
    loose_pool = {"StringLike": {f"{COGNITO}:aud": "eu-west-1:*"}, "ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"}}
    (message,) = fails(run("iam_trust_cognito", cognito(loose_pool)))
    assert "every identity pool of the Region" in message


def test_trust_006_the_pools_guest_role_needs_no_amr():
    template = cfn(
        """
Resources:
  Pool:
    Type: AWS::Cognito::IdentityPool
    Properties: {AllowUnauthenticatedIdentities: false}
  GuestRole:
    Type: AWS::IAM::Role
    Properties: {}
  Roles:
    Type: AWS::Cognito::IdentityPoolRoleAttachment
    Properties:
      IdentityPoolId: !Ref Pool
      Roles:
        unauthenticated: !GetAtt GuestRole.Arn
"""
    )
    assert run("iam_trust_cognito", cognito(AUD), resource=resource(template, "GuestRole"), template=template) == []


def test_trust_006_ignores_other_providers_and_unresolved_ones():
    assert run("iam_trust_cognito", github(None)) == []
    assert run("iam_trust_cognito", github(None, principal=Unknown("var.provider"))) == []
    china = doc(stmt({"Federated": "cognito-identity.cn-north-1.amazonaws.com.cn"}, "sts:AssumeRoleWithWebIdentity"))
    assert all("cognito-identity.amazonaws.com.cn:" in m for m in fails(run("iam_trust_cognito", china)))


# --- KEYS-003 --------------------------------------------------------------------------------------


def test_keys_003_names_statement_and_actions():
    document = doc(stmt(None, ["s3:GetObject", "sts:AssumeRole"], Sid="Reports", Resource="*"))
    (violation,) = run("iam_user_assume_only", document)
    assert violation.outcome is Outcome.FAIL
    assert violation.message.startswith("Statement 0 (Reports) grants IAM users s3:GetObject:")
    assert violation.path == ("Statement", 0, "Action")


def test_keys_003_wildcards_expand_and_resources_must_be_roles():
    (message,) = fails(run("iam_user_assume_only", doc(stmt(None, "sts:*", Resource="arn:aws:iam::1:role/x"))))
    assert "sts:* (which grants sts:decodeauthorizationmessage" in message and "more" in message
    (violation,) = run("iam_user_assume_only", doc(stmt(None, ["sts:AssumeRole", "sts:TagSession"], Resource="*")))
    assert violation.outcome is Outcome.FAIL and violation.path == ("Statement", 0, "Resource")
    assert run("iam_user_assume_only", doc(stmt(None, "sts:AssumeRole", Resource=f"arn:aws:iam::{VENDOR}:role/deploy"))) == []
    assert run("iam_user_assume_only", doc(stmt(None, "*", effect="Deny", Resource="*"))) == []
    (message,) = fails(run("iam_user_assume_only", doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})))
    assert "every action except iam:*" in message


def test_keys_003_allowed_actions_param():
    document = doc(stmt(None, ["sts:AssumeRole", "iam:ChangePassword"], Resource=f"arn:aws:iam::{VENDOR}:role/x"))
    assert len(fails(run("iam_user_assume_only", document))) == 1
    assert run("iam_user_assume_only", document, allowed_actions=["sts:AssumeRole", "iam:ChangePassword"]) == []


def test_keys_003_judges_only_policies_that_reach_users():
    template = cfn(
        """
Resources:
  Alice:
    Type: AWS::IAM::User
    Properties: {UserName: alice, Groups: [!Ref Devs]}
  Devs:
    Type: AWS::IAM::Group
  Empty:
    Type: AWS::IAM::Group
  ViaUsers:
    Type: AWS::IAM::ManagedPolicy
    Properties: {Users: [!Ref Alice], PolicyDocument: {}}
  ViaGroup:
    Type: AWS::IAM::Policy
    Properties: {PolicyName: p, Groups: [!Ref Devs], PolicyDocument: {}}
  ViaEmptyGroup:
    Type: AWS::IAM::Policy
    Properties: {PolicyName: p, Groups: [!Ref Empty], PolicyDocument: {}}
  ViaArn:
    Type: AWS::IAM::ManagedPolicy
    Properties: {PolicyDocument: {}}
  Bob:
    Type: AWS::IAM::User
    Properties: {ManagedPolicyArns: [!Ref ViaArn]}
  RoleOnly:
    Type: AWS::IAM::Policy
    Properties: {PolicyName: p, Roles: [r], PolicyDocument: {}}
"""
    )
    document = doc(stmt(None, "s3:*", Resource="*"))
    verdicts = {
        rid: [v.message for v in run("iam_user_assume_only", document, resource=resource(template, rid), template=template)]
        for rid in ("Alice", "Devs", "Empty", "ViaUsers", "ViaGroup", "ViaEmptyGroup", "ViaArn", "RoleOnly")
    }
    assert "IAM user alice" in verdicts["Alice"][0]
    assert "the users of group Devs" in verdicts["Devs"][0] and "the users of group Devs" in verdicts["ViaGroup"][0]
    assert "IAM user alice" in verdicts["ViaUsers"][0]
    assert "IAM user Bob" in verdicts["ViaArn"][0]
    assert verdicts["Empty"] == verdicts["ViaEmptyGroup"] == verdicts["RoleOnly"] == []


def test_keys_003_terraform_attachments_and_memberships():
    template = tf(
        """
resource "aws_iam_user" "ci" { name = "ci" }
resource "aws_iam_policy" "attached" { policy = "{}" }
resource "aws_iam_policy" "loose" { policy = "{}" }
resource "aws_iam_user_policy_attachment" "ci" {
  user       = aws_iam_user.ci.name
  policy_arn = aws_iam_policy.attached.arn
}
resource "aws_iam_group" "ops" { name = "ops" }
resource "aws_iam_user_group_membership" "ci" {
  user   = aws_iam_user.ci.name
  groups = [aws_iam_group.ops.name]
}
resource "aws_iam_group_policy" "ops" {
  group  = aws_iam_group.ops.name
  policy = "{}"
}
"""
    )
    document = doc(stmt(None, "ec2:RunInstances", Resource="*"))
    judged = {rid: run("iam_user_assume_only", document, resource=resource(template, rid), template=template) for rid in ("aws_iam_policy.attached", "aws_iam_policy.loose", "aws_iam_group_policy.ops")}
    assert "IAM user ci" in judged["aws_iam_policy.attached"][0].message
    assert judged["aws_iam_policy.loose"] == []
    assert "group aws_iam_group.ops" in judged["aws_iam_group_policy.ops"][0].message


def test_keys_003_managed_policy_arns():
    user = cfn("Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties: {UserName: u}\n")
    u = resource(user, "U")
    violations = run("iam_user_managed_policy", ["arn:aws:iam::aws:policy/ReadOnlyAccess", Reference("Ref P", target="P"), "arn:aws:iam::123456789012:policy/custom", Unknown("ImportValue x")], resource=u, template=user)
    assert [(v.outcome, v.path) for v in violations] == [(Outcome.FAIL, (0,)), (Outcome.SKIP, (2,)), (Outcome.SKIP, (3,))]
    assert "AWS managed policy ReadOnlyAccess to IAM user u" in violations[0].message


# --- GUARD-002 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["sts:AssumeRole", "sts:*", "*", "sts:Assume*", ["s3:GetObject", "STS:ASSUMEROLE"]])
def test_guard_002_assume_role_on_every_role_fails(action):
    (violation,) = run("iam_assume_role_any_resource", doc(stmt(None, action, Resource="*")))
    assert violation.outcome is Outcome.FAIL and violation.path == ("Statement", 0, "Resource")
    assert "sts:AssumeRole" in violation.message


@pytest.mark.parametrize(
    "statement",
    [
        stmt(None, "sts:AssumeRole", Resource=[f"arn:aws:iam::{VENDOR}:role/deployer", Reference("x", target="Role", attribute="Arn")]),
        stmt(None, "sts:AssumeRole", Resource="arn:aws:iam::*:role/monitoring-reader"),
        stmt(None, "sts:AssumeRole", Resource="*", Condition={"StringEquals": {"aws:ResourceOrgID": "o-a1b2c3d4e5"}}),
        stmt(None, "sts:AssumeRole", Resource="*", Condition={"StringEquals": {"aws:ResourceAccount": [VENDOR]}}),
        stmt(None, "s3:*", Resource="*"),
        stmt(None, "sts:AssumeRole", effect="Deny", Resource="*"),
        stmt(None, "sts:GetCallerIdentity", Resource="*"),
    ],
)
def test_guard_002_passes(statement):
    assert run("iam_assume_role_any_resource", doc(statement)) == []


def test_guard_002_unconditional_deny_and_unresolved_parts():
    document = doc(stmt(None, "sts:*", Resource="*"), stmt(None, "sts:AssumeRole", effect="Deny", Resource="*"))
    assert run("iam_assume_role_any_resource", document) == []
    skipped(run("iam_assume_role_any_resource", doc(stmt(None, "sts:AssumeRole", Resource=Unknown("Ref RoleArn")))))
    skipped(run("iam_assume_role_any_resource", doc(stmt(None, Unknown("Ref Actions"), Resource="*"))))
    skipped(run("iam_assume_role_any_resource", doc(stmt(None, "sts:AssumeRole", Resource="*", Condition={"StringLike": {"aws:ResourceOrgID": Unknown("Ref Org")}}))))
    (message,) = fails(run("iam_assume_role_any_resource", doc({"Effect": "Allow", "Action": "sts:AssumeRole", "NotResource": "arn:aws:iam::1:role/prod"})))
    assert "NotResource" in message


def test_one_trust_policy_is_parsed_once_for_all_the_policies_that_read_it(monkeypatch):
    """TRUST-* and GUARD-* read one role's trust policy: the engine parses it once per resource,
    and the findings are those of judging each policy on its own."""
    from pathlib import Path

    from validator import iam
    from validator.engine import evaluate as engine
    from validator.engine.policies import builtin_policy_dir, load_policies

    fixtures = sorted((Path(__file__).parents[1] / "fixtures" / "policies").glob("TRUST-00*/cloudformation/*.yaml"))
    templates = [t for t in (cloudformation.load(str(f), f.read_text("utf-8"))[0] for f in fixtures) if t is not None]
    policies, _ = load_policies([builtin_policy_dir()])
    roles = sum(1 for t in templates for r in t.resources if r.type == "AWS::IAM::Role")
    assert roles >= 10
    alone = sorted(
        (f for t in templates for r in t.resources for p in policies if engine.applies(p, r) for f in engine.evaluate_resource(p, r, p.params, t)),
        key=lambda f: f.sort_key,
    )
    parsed: list[object] = []
    real = iam.load_document
    monkeypatch.setattr(iam, "load_document", lambda value, base=(): parsed.append(value) or real(value, base))
    together = engine.evaluate(policies, templates)
    assert together == alone
    assert parsed and len({id(v) for v in parsed}) == len(parsed)  # no document parsed twice
