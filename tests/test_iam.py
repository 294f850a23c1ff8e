"""validator.iam: the condition-aware evaluator of policy documents (principal × action × condition)."""

from __future__ import annotations

from typing import Any

import pytest

from validator import iam
from validator.model import SELF_ACCOUNT, Reference, Unknown

VENDOR = "111122223333"
GITHUB = "token.actions.githubusercontent.com"


def doc(*statements: dict) -> iam.Document:
    return iam.Document.of({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any = None, action: Any = "sts:AssumeRole", condition: dict | None = None, **extra: Any) -> dict:
    stmt: dict[str, Any] = {"Effect": "Allow", "Action": action, **extra}
    if principal is not None:
        stmt["Principal"] = principal
    if condition is not None:
        stmt["Condition"] = condition
    return stmt


def deny(principal: Any = "*", action: Any = "sts:AssumeRole", condition: dict | None = None) -> dict:
    stmt = allow(principal, action, condition)
    stmt["Effect"] = "Deny"
    return stmt


def only_grant(document: iam.Document, actions: tuple[str, ...] = ("sts:AssumeRole",)) -> iam.Grant:
    (grant,) = iam.grants(document, actions)
    return grant


def requirement(condition: dict | None, key: str, *others: dict) -> iam.Requirement:
    document = doc(allow({"AWS": f"arn:aws:iam::{VENDOR}:root"}, condition=condition), *others)
    return iam.requirement(document, only_grant(document), key)


# --- condition operators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "base", "qualifier", "if_exists", "requires"),
    [
        ("StringEquals", "StringEquals", "", False, True),
        ("stringlike", "StringLike", "", False, True),
        ("StringEqualsIfExists", "StringEquals", "", True, False),
        ("ForAnyValue:StringLike", "StringLike", "ForAnyValue", False, True),
        ("ForAllValues:StringEquals", "StringEquals", "ForAllValues", False, False),
        ("StringNotEquals", "StringNotEquals", "", False, False),
        ("StringNotLikeIfExists", "StringNotLike", "", True, False),
        ("ArnLike", "ArnLike", "", False, True),
        ("IpAddress", "IpAddress", "", False, True),
        ("NotIpAddress", "NotIpAddress", "", False, False),
        ("Bool", "Bool", "", False, True),
        ("BoolIfExists", "Bool", "", True, False),
        ("NumericLessThan", "NumericLessThan", "", False, True),
        ("Null", "Null", "", False, False),
        ("StringEqualz", "", "", False, False),
    ],
)
def test_parse_operator(text, base, qualifier, if_exists, requires):
    op = iam.parse_operator(text)
    assert (op.base, op.qualifier, op.if_exists, op.requires_key) == (base, qualifier, if_exists, requires)


def test_wildcard_operators():
    assert iam.parse_operator("StringLike").wildcards
    assert iam.parse_operator("ArnEquals").wildcards  # ArnEquals matches wildcards like ArnLike
    assert not iam.parse_operator("StringEquals").wildcards
    assert iam.parse_operator("StringEqualsIgnoreCase").ignore_case


@pytest.mark.parametrize(
    ("pattern", "candidate", "expected"),
    [
        ("repo:acme/*", "repo:acme/api:ref:refs/heads/main", True),
        ("repo:acme/*", "repo:acmeevil/api", False),
        ("a?c", "abc", True),
        ("a?c", "abbc", False),
        ("[abc]", "a", False),  # only * and ? are special in IAM
        ("[abc]", "[abc]", True),
    ],
)
def test_wildcard_match(pattern, candidate, expected):
    assert iam.wildcard_match(pattern, candidate) is expected


# --- requirements: which conditions require a key ------------------------------------------------


def test_string_equals_requires_the_key_literally():
    req = requirement({"StringEquals": {"sts:ExternalId": "*"}}, "sts:externalid")
    (constraint,) = req.constraints
    assert constraint.admits("*") and not constraint.admits("anything")  # a literal asterisk
    assert constraint.wildcard_only_values() == []


def test_string_like_understands_wildcards():
    (constraint,) = requirement({"StringLike": {"sts:ExternalId": "*"}}, "sts:ExternalId").constraints
    assert constraint.admits("anything")
    assert constraint.wildcard_only_values() == ["*"]


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIfExists": {"sts:ExternalId": "abc"}},
        {"ForAllValues:StringEquals": {"sts:ExternalId": "abc"}},  # vacuously true without the key
        {"StringNotEquals": {"sts:ExternalId": "abc"}},
        {"Null": {"sts:ExternalId": "true"}},  # requires absence
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},  # another key
    ],
)
def test_conditions_that_do_not_require_the_key(condition):
    assert not requirement(condition, "sts:ExternalId").required


def test_null_false_requires_presence_only():
    (constraint,) = requirement({"Null": {"sts:ExternalId": "false"}}, "sts:ExternalId").constraints
    assert constraint.presence_only
    assert requirement({"Null": {"sts:ExternalId": "false"}}, "sts:ExternalId").valued == ()


def test_keys_match_case_insensitively_and_values_are_normalised():
    (constraint,) = requirement({"Bool": {"AWS:MultiFactorAuthPresent": True}}, "aws:multifactorauthpresent").constraints
    assert constraint.values == ("true",)


@pytest.mark.parametrize(
    "deny_condition",
    [
        {"StringNotEquals": {"sts:ExternalId": "abc-123"}},
        {"StringNotEqualsIfExists": {"sts:ExternalId": "abc-123"}},
        {"StringNotLike": {"sts:ExternalId": "abc-*"}},
    ],
)
def test_a_deny_with_the_negated_condition_requires_the_key(deny_condition):
    req = requirement(None, "sts:ExternalId", deny("*", "sts:AssumeRole", deny_condition))
    (constraint,) = req.constraints
    assert constraint.deny is not None and constraint.operator.base in ("StringEquals", "StringLike")
    assert constraint.path[:2] == ("Statement", 1)


def test_a_deny_with_null_true_requires_presence():
    req = requirement(None, "sts:ExternalId", deny({"AWS": f"arn:aws:iam::{VENDOR}:root"}, "sts:*", {"Null": {"sts:ExternalId": "true"}}))
    (constraint,) = req.constraints
    assert constraint.presence_only


def test_a_deny_with_bool_if_exists_false_requires_mfa():
    document = doc(allow({"AWS": f"arn:aws:iam::{VENDOR}:root"}), deny("*", "sts:AssumeRole", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))
    assert iam.requires_mfa(document, only_grant(document))
    # Bool (without IfExists) false does not deny a request without the key
    document = doc(allow({"AWS": f"arn:aws:iam::{VENDOR}:root"}), deny("*", "sts:AssumeRole", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    assert not iam.requires_mfa(document, only_grant(document))


@pytest.mark.parametrize(
    "other",
    [
        deny("*", "sts:AssumeRole", {"StringNotEquals": {"sts:ExternalId": "a"}, "Bool": {"aws:SecureTransport": "false"}}),  # ANDed
        deny({"AWS": "arn:aws:iam::444455556666:root"}, "sts:AssumeRole", {"StringNotEquals": {"sts:ExternalId": "a"}}),  # another principal
        deny("*", "sts:TagSession", {"StringNotEquals": {"sts:ExternalId": "a"}}),  # another action
        deny("*", "sts:AssumeRole", {"ForAnyValue:StringNotEquals": {"sts:ExternalId": "a"}}),
        deny("*", "sts:AssumeRole", Unknown("Fn::If")),
    ],
)
def test_denies_that_do_not_imply_a_requirement(other):
    assert not requirement(None, "sts:ExternalId", other).required


def test_an_unconditional_deny_removes_the_grant():
    document = doc(allow({"AWS": f"arn:aws:iam::{VENDOR}:root"}), deny({"AWS": VENDOR}))
    assert list(iam.grants(document, ("sts:AssumeRole",))) == []
    document = doc(allow({"AWS": f"arn:aws:iam::{VENDOR}:root"}), {"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{VENDOR}:root"}, "Action": "sts:*"})
    assert len(list(iam.grants(document, ("sts:AssumeRole",)))) == 1


def test_unreadable_condition_parts_are_reported():
    assert requirement(Unknown("Fn::If"), "sts:ExternalId").unresolved is not None
    assert requirement({"StringEquals": Unknown("object with a computed key")}, "sts:ExternalId").unresolved is not None
    req = requirement({"StringEquals": {"@@iac-validator-unknown-0@@:sub": "x"}}, "x:sub")
    assert not req.required and req.unresolved is not None


def test_requires_mfa():
    def mfa(condition: dict) -> bool:
        document = doc(allow({"AWS": f"arn:aws:iam::{VENDOR}:root"}, condition=condition))
        return iam.requires_mfa(document, only_grant(document))

    assert mfa({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    assert mfa({"Bool": {"aws:MultiFactorAuthPresent": True}})
    assert mfa({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})
    assert not mfa({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})  # passes for long-term keys
    assert not mfa({"Bool": {"aws:MultiFactorAuthPresent": "false"}})
    assert not mfa({"Null": {"aws:MultiFactorAuthPresent": "false"}})


def test_unrequired_mentions_explain_themselves():
    stmt = doc(allow({"AWS": "*"}, condition={"StringEqualsIfExists": {"aws:PrincipalAccount": VENDOR}, "ForAllValues:StringLike": {"aws:PrincipalOrgID": "o-1"}})).statements[0]
    note = iam.unrequired_mentions(stmt, iam.PINNING_KEYS)
    assert "StringEqualsIfExists aws:PrincipalAccount holds when the key is absent" in note
    assert "ForAllValues" in note
    assert iam.unrequired_mentions(stmt, ["sts:ExternalId"]) == ""


# --- principals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "category", "account", "human"),
    [
        ({"AWS": f"arn:aws:iam::{VENDOR}:root"}, "account", VENDOR, True),
        ({"AWS": VENDOR}, "account", VENDOR, True),
        ({"AWS": int(VENDOR)}, "account", VENDOR, True),
        ({"AWS": f"arn:aws:iam::{VENDOR}:user/ops/alice"}, "user", VENDOR, True),
        ({"AWS": f"arn:aws:iam::{VENDOR}:role/deployer"}, "role", VENDOR, False),
        ({"AWS": f"arn:aws:sts::{VENDOR}:assumed-role/deployer/ci"}, "assumed-role", VENDOR, False),
        ({"AWS": f"arn:${{AWS::Partition}}:iam::{VENDOR}:role/x"}, "role", VENDOR, False),
        ({"Service": "lambda.amazonaws.com"}, "service", None, False),
        ({"Federated": f"arn:aws:iam::{VENDOR}:oidc-provider/{GITHUB}"}, "oidc-provider", VENDOR, False),
        ({"Federated": f"arn:aws:iam::{VENDOR}:saml-provider/okta"}, "saml-provider", VENDOR, False),
        ({"Federated": "cognito-identity.amazonaws.com"}, "web-identity", None, False),
        ("*", "any", None, False),
        ({"AWS": "*"}, "any", None, False),
    ],
)
def test_principal_categories(principal, category, account, human):
    (entry,) = doc(allow(principal)).statements[0].principal_entries()
    assert entry.category == category
    assert entry.account.id == account
    assert entry.is_human is human


def test_own_account_and_template_references_are_self():
    (own,) = doc(allow({"AWS": f"arn:aws:iam::{SELF_ACCOUNT}:root"})).statements[0].principal_entries()
    assert own.account.is_self and own.category == "account"
    (ref,) = doc(allow({"AWS": Reference("Fn::GetAtt User.Arn", target="User", attribute="Arn")})).statements[0].principal_entries()
    assert ref.account.is_self and ref.unresolved is not None and ref.is_reference


def test_not_principal_in_an_allow_is_any_principal():
    (entry,) = doc({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{VENDOR}:root"}, "Action": "sts:AssumeRole"}).statements[0].principal_entries()
    assert entry.is_any and entry.not_principal and "NotPrincipal" in entry.describe()
    assert entry.path == ("Statement", 0, "NotPrincipal")


def test_principal_paths_point_at_each_entry():
    entries = doc(allow({"AWS": ["arn:aws:iam::1:root", VENDOR], "Service": "ec2.amazonaws.com"})).statements[0].principal_entries()
    assert [e.path for e in entries] == [
        ("Statement", 0, "Principal", "AWS", 0),
        ("Statement", 0, "Principal", "AWS", 1),
        ("Statement", 0, "Principal", "Service"),
    ]


def test_grants_filter_actions_and_kinds():
    document = doc(
        allow({"AWS": VENDOR, "Federated": f"arn:aws:iam::{VENDOR}:saml-provider/okta"}, ["sts:AssumeRoleWithSAML", "sts:TagSession"]),
        allow({"Service": "ec2.amazonaws.com"}, "sts:AssumeRole"),
        allow({"AWS": VENDOR}, Unknown("Ref Actions")),
    )
    saml = list(iam.grants(document, ("sts:AssumeRoleWithSAML",), kinds=("Federated",)))
    assert [(g.principal.kind, g.actions) for g in saml] == [("Federated", ("sts:AssumeRoleWithSAML",))]
    unresolved = [g for g in iam.grants(document, ("sts:AssumeRole",)) if g.actions_unresolved]
    assert [g.statement.index for g in unresolved] == [2]


def test_statement_labels_carry_the_sid():
    statements = doc(allow("*", Sid="GitHubDeploy"), allow("*")).statements
    assert [s.label for s in statements] == ["Statement 0 (GitHubDeploy)", "Statement 1"]


def test_document_reports_unresolved_statements():
    document = iam.Document.of({"Statement": [Unknown("Fn::If"), allow("*")]})
    assert [(what, path) for what, path, _ in document.unresolved] == [("Statement 0", ("Statement", 0))]
    assert iam.Document.of({"Statement": Unknown("local.x")}).unresolved[0][0] == "Statement"
    assert iam.load_document('{"Statement": []}').statements == ()
    assert iam.load_document("not json") is None


# --- pinning, resources, actions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "pinned"),
    [
        ("aws:PrincipalOrgID", "o-a1b2c3d4e5", True),
        ("aws:PrincipalOrgID", "o-*", False),
        ("aws:PrincipalOrgPaths", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*", True),
        ("aws:PrincipalOrgPaths", "o-*/*", False),
        ("aws:PrincipalAccount", "1111*", False),
        ("aws:PrincipalArn", "arn:aws:iam::111122223333:role/ci-*", True),
        ("aws:PrincipalArn", "arn:aws:iam::*:role/ci", False),
        ("aws:SourceArn", "arn:aws:s3:::acme-uploads/*", True),
        ("aws:SourceArn", "arn:aws:s3:::*", False),
        ("aws:SourceAccount", "111122223333", True),
    ],
)
def test_pins(key, value, pinned):
    assert iam.pins(key, value) is pinned


def test_pinning_verdicts():
    def verdict(condition: dict, *others: dict) -> iam.PinVerdict:
        document = doc(allow({"AWS": "*"}, condition=condition), *others)
        return iam.pinning(document, only_grant(document))

    assert verdict({"StringEquals": {"aws:PrincipalOrgID": Unknown("Ref Org")}}).pinned  # literal: pins whatever it is
    undecided = verdict({"StringLike": {"aws:PrincipalOrgID": Unknown("Ref Org")}})
    assert not undecided.pinned and undecided.unresolved is not None
    loose = verdict({"StringLike": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5", "o-*"]}})  # any alternative admits others
    assert not loose.pinned and len(loose.loose) == 1
    assert verdict({"StringLike": {"aws:PrincipalOrgID": "o-*"}, "StringEquals": {"aws:PrincipalAccount": VENDOR}}).pinned
    assert verdict({}, deny("*", "sts:AssumeRole", {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}})).pinned


@pytest.mark.parametrize(
    ("resource", "any_role"),
    [
        ("*", True),
        ("arn:aws:iam::*:role/*", True),
        ("arn:*:iam::*:*", True),
        ("arn:aws:iam::*:role/monitoring-reader", False),
        ("arn:aws:iam::111122223333:role/*", False),
        ("arn:aws:iam::111122223333:role/deployer", False),
    ],
)
def test_admits_any_role(resource, any_role):
    assert iam.admits_any_role(resource) is any_role


def test_resource_scope():
    def scope(**stmt: Any) -> str:
        return iam.resource_scope(iam.Statement(0, {"Effect": "Allow", "Action": "sts:AssumeRole", **stmt}, ("Statement", 0)))[0]

    assert scope(Resource="*") == "any"
    assert scope(Resource=["arn:aws:iam::1:role/a", "*"]) == "any"
    assert scope(NotResource="arn:aws:iam::1:role/a") == "any"
    assert scope(Resource=Reference("Fn::GetAtt Role.Arn", target="Role", attribute="Arn")) == "specific"
    assert scope(Resource=Unknown("Ref Param")) == "unresolved"


def test_expand_action_uses_the_catalogue():
    assert iam.expand_action("sts:AssumeRole") == ["sts:assumerole"]
    expanded = iam.expand_action("sts:*")
    assert "sts:getsessiontoken" in expanded and "sts:assumerole" in expanded
    assert iam.expand_action("sts:Assume*") == ["sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity"]
    assert iam.expand_action("madeup:Do*") == ["madeup:do*"]


# --- web identity ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "host"),
    [
        (f"arn:aws:iam::{VENDOR}:oidc-provider/{GITHUB}", GITHUB),
        (f"arn:${{AWS::Partition}}:iam::{SELF_ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC", "oidc.eks.eu-west-1.amazonaws.com/id/ABC"),
        ("accounts.google.com", "accounts.google.com"),
        ("https://token.actions.githubusercontent.com", GITHUB),
        (f"arn:aws:iam::{VENDOR}:saml-provider/okta", None),
        ("okta", None),
    ],
)
def test_provider_host(principal, host):
    assert iam.provider_host(principal) == host


@pytest.mark.parametrize(
    ("issuer", "kind", "sub_key", "aud_key"),
    [
        (GITHUB, "github", f"{GITHUB}:sub", f"{GITHUB}:aud"),
        (f"{GITHUB}/acme-enterprise", "github", f"{GITHUB}/acme-enterprise:sub", f"{GITHUB}/acme-enterprise:aud"),
        ("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE", "eks", None, None),
        ("app.terraform.io", "terraform-cloud", None, None),
        ("gitlab.com", "gitlab", None, None),
        ("gitlab.acme.example", "gitlab", None, None),
        ("oidc.circleci.com/org/8a2c6f0e", "circleci", None, None),
        ("api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc", "bitbucket", None, None),
        ("graph.facebook.com", "generic", "graph.facebook.com:id", "graph.facebook.com:app_id"),
        ("auth.acme.example", "generic", "auth.acme.example:sub", "auth.acme.example:aud"),
    ],
)
def test_oidc_issuers(issuer, kind, sub_key, aud_key):
    profile = iam.oidc_issuer(issuer)
    assert profile.kind == kind
    if sub_key:
        assert (profile.subject_key, profile.audience_key) == (sub_key, aud_key)


@pytest.mark.parametrize(
    ("issuer", "pattern", "broad"),
    [
        (GITHUB, "*", True),
        (GITHUB, "repo:*", True),
        (GITHUB, "repo:*/*", True),
        (GITHUB, "repo:*/payments-api:*", True),
        (GITHUB, "repo:acme*", True),
        (GITHUB, "repo:acme/*", False),
        (GITHUB, "repo:acme/payments-api:*", False),
        (GITHUB, "repo:acme/payments-api:ref:refs/heads/*", False),
        (GITHUB, "repository_owner_id:123456:*", False),
        ("oidc.eks.us-east-1.amazonaws.com/id/ABC", "system:serviceaccount:*", True),
        ("oidc.eks.us-east-1.amazonaws.com/id/ABC", "system:serviceaccount:team-*", True),
        ("oidc.eks.us-east-1.amazonaws.com/id/ABC", "system:serviceaccount:payments:*", False),
        ("app.terraform.io", "organization:*", True),
        ("app.terraform.io", "organization:acme:project:*", False),
        ("gitlab.com", "project_path:*", True),
        ("gitlab.com", "project_path:acme/*", False),
        ("oidc.circleci.com/org/8a2c", "*", True),
        ("oidc.circleci.com/org/8a2c", "org/8a2c/project/5e6f/user/*", False),
    ],
)
def test_subject_too_broad(issuer, pattern, broad):
    assert bool(iam.oidc_issuer(issuer).subject_too_broad(pattern)) is broad


def test_a_literal_subject_is_never_too_broad():
    assert iam.oidc_issuer(GITHUB).subject_too_broad("repo:acme/api:ref:refs/heads/main") is None


def test_cognito_issuer_and_condition_issuers():
    assert iam.cognito_issuer("cognito-identity.amazonaws.com") == "cognito-identity.amazonaws.com"
    assert iam.cognito_issuer("cognito-identity.cn-north-1.amazonaws.com.cn") == "cognito-identity.amazonaws.com.cn"
    assert iam.cognito_issuer(GITHUB) is None
    stmt = doc(allow({"Federated": Unknown("Ref Provider")}, "sts:AssumeRoleWithWebIdentity", {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", "aws:SourceIp": "1"}})).statements[0]
    assert iam.issuers_in_conditions(stmt) == [GITHUB]


# --- kept for the first version's callers -----------------------------------------------------------


def test_requiring_values_and_wildcard_only():
    stmt = doc(allow("*", condition={"StringEquals": {"sts:ExternalId": ["a", "b"]}, "StringEqualsIfExists": {"sts:ExternalId": "c"}})).statements[0]
    assert iam.requiring_values(stmt, "sts:externalid") == ["a", "b"]
    assert iam.requiring_values(stmt, "aws:PrincipalOrgID") is None
    assert iam.is_wildcard_only(["*", "?*"]) and not iam.is_wildcard_only(["a*"]) and not iam.is_wildcard_only([])


def test_always_present_keys_are_constrained_by_if_exists_and_for_all_values():
    for condition in ({"StringEqualsIfExists": {f"{GITHUB}:aud": "sts.amazonaws.com"}}, {"ForAllValues:StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}):
        document = doc(allow({"Federated": f"arn:aws:iam::{VENDOR}:oidc-provider/{GITHUB}"}, "sts:AssumeRoleWithWebIdentity", condition))
        grant = only_grant(document, ("sts:AssumeRoleWithWebIdentity",))
        assert not iam.requirement(document, grant, f"{GITHUB}:aud").required
        assert iam.requirement(document, grant, f"{GITHUB}:aud", always_present=True).required
    document = doc(allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity", {"StringNotEquals": {f"{GITHUB}:aud": "x"}}))
    assert not iam.requirement(document, only_grant(document, ("sts:AssumeRoleWithWebIdentity",)), f"{GITHUB}:aud", always_present=True).required
