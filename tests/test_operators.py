"""The assertion operators, the TRUST-001 trust-policy check, and secret masking."""

from __future__ import annotations

import json
from typing import Any

import pytest

from validator.engine.base import Args, Violation
from validator.engine.iam_operators import op_iam_cross_account_external_id
from validator.engine.operators import (
    OPERATORS,
    op_equals,
    op_max,
    op_min,
    op_one_of,
    parse_duration,
)
from validator.model import SELF_ACCOUNT, Outcome, Unknown
from validator.secrets import mask

VENDOR = "111122223333"
VENDOR_ROOT = f"arn:aws:iam::{VENDOR}:root"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3600", 3600),
        (3600, 3600),
        ("PT4H", 14400),
        ("PT1H30M", 5400),
        ("pt15m", 900),
        ("P1D", 86400),
        ("2h", 7200),
        ("90m", 5400),
        ("1h30m", 5400),
        ("45s", 45),
        (" 2h ", 7200),
    ],
)
def test_parse_duration(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["garbage", "", "PT", "P", "h", "2 weeks", "1x", "-5", True, None, [3600], {"h": 1}])
def test_parse_duration_rejects_what_is_not_a_duration(value):
    assert parse_duration(value) is None


def test_max_message_names_value_and_limit():
    args = Args("MaxSessionDuration", 3600, "duration")
    assert op_max(43200, args) == [Violation(Outcome.FAIL, "MaxSessionDuration is 43200 s, limit 3600 s")]
    (violation,) = op_max("PT12H", args)
    assert violation.outcome is Outcome.FAIL
    assert "PT12H" in violation.message and "43200 s" in violation.message and "limit 3600 s" in violation.message
    assert op_max(3600, args) == []
    assert op_max("1h", args) == []
    assert op_max(900, args) == []


def test_max_with_a_duration_limit_and_plain_numbers():
    assert op_max(7200, Args("max_session_duration", "PT1H", "duration"))[0].message == (
        "max_session_duration is 7200 s, limit 3600 s"
    )
    assert op_max(11, Args("Count", 10)) == [Violation(Outcome.FAIL, "Count is 11, limit 10")]
    assert op_max("9", Args("Count", 10)) == []


def test_min_message_names_value_and_minimum():
    assert op_min(60, Args("Ttl", 3600, "duration")) == [Violation(Outcome.FAIL, "Ttl is 60 s, minimum 3600 s")]
    assert op_min(5, Args("Count", 10)) == [Violation(Outcome.FAIL, "Count is 5, minimum 10")]
    assert op_min(3600, Args("Ttl", "1h", "duration")) == []


def test_a_value_that_is_not_a_duration_is_skipped_not_failed():
    (violation,) = op_max("forever", Args("MaxSessionDuration", 3600, "duration"))
    assert violation.outcome is Outcome.SKIP
    assert "forever" in violation.message


def test_an_invalid_limit_is_the_policy_authors_error():
    with pytest.raises(ValueError, match="limit"):
        op_max(10, Args("X", "soon", "duration"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), (True, "true"), ("True", True), ("false", False), ("3600", 3600), (3600, "3600"), (3600.0, 3600)],
)
def test_equals_across_representations(value, expected):
    assert op_equals(value, Args("F", expected)) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", 0), ("false", True), (1, True), ("yes", True), ("3601", 3600), ("a", "A"), (None, "")],
)
def test_equals_does_not_conflate_different_values(value, expected):
    (violation,) = op_equals(value, Args("F", expected))
    assert violation.outcome is Outcome.FAIL
    assert violation.message.startswith("F is ")


def test_one_of():
    assert op_one_of("required", Args("http_tokens", ["required", "optional"])) == []
    (violation,) = op_one_of("disabled", Args("http_tokens", ["required"]))
    assert violation.outcome is Outcome.FAIL and "'disabled'" in violation.message and "'required'" in violation.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (name, value)
        for name in sorted(OPERATORS)
        for value in (Unknown("from a test"), [Unknown("x")], {"a": Unknown("x")})
        # a list or mapping is set, whatever it holds; `forbidden` judges the resource's existence, not a value
        if (name != "absent" or isinstance(value, Unknown)) and name != "forbidden"
    ],
)
def test_unknown_values_never_fail(name, value):
    arg = {"matches": "^x$", "one_of": ["x"], "max": 1, "min": 1, "equals": 1}.get(name)
    violations = OPERATORS[name](value, Args("Field", arg, None, {}))
    assert all(v.outcome is not Outcome.FAIL for v in violations)


@pytest.mark.parametrize("name", ["absent", "equals", "one_of", "matches", "max", "min", "iam_cross_account_external_id"])
def test_an_unknown_value_is_skipped_with_its_reason(name):
    arg = {"matches": "^x$", "one_of": ["x"], "max": 1, "min": 1, "equals": 1}.get(name)
    violations = OPERATORS[name](Unknown("var.x has no value"), Args("Field", arg, None, {}))
    assert [v.outcome for v in violations] == [Outcome.SKIP]
    assert "var.x has no value" in violations[0].message


def test_exists_counts_an_unknown_value_as_set():
    assert OPERATORS["exists"](Unknown("aws_iam_instance_profile.x.name"), Args("iam_instance_profile")) == []
    assert OPERATORS["exists"]("", Args("iam_instance_profile"))[0].outcome is Outcome.FAIL


# --- TRUST-001: op_iam_cross_account_external_id ---------------------------------------------------


def trust(
    principal: Any,
    action: Any = "sts:AssumeRole",
    condition: dict | None = None,
    effect: str = "Allow",
    not_action: Any = None,
) -> dict:
    statement: dict[str, Any] = {"Effect": effect, "Principal": principal}
    if not_action is not None:
        statement["NotAction"] = not_action
    else:
        statement["Action"] = action
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def check(document: Any, **params: Any) -> list[Violation]:
    return op_iam_cross_account_external_id(document, Args("AssumeRolePolicyDocument", None, None, params))


def fails(violations: list[Violation]) -> list[str]:
    assert all(v.outcome is Outcome.FAIL for v in violations), violations
    return [v.message for v in violations]


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": f"arn:aws:iam::{SELF_ACCOUNT}:root"},
        {"AWS": f"arn:${{AWS::Partition}}:iam::{SELF_ACCOUNT}:role/deployer"},
        {"AWS": SELF_ACCOUNT},
        {"Service": "lambda.amazonaws.com"},
        {"Service": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]},
        {"Federated": f"arn:aws:iam::{VENDOR}:saml-provider/okta"},
        "*",
        {"AWS": "*"},
    ],
)
def test_principals_that_are_not_another_account_pass(principal):
    assert check(trust(principal)) == []


def test_an_account_listed_in_trusted_accounts_passes():
    assert check(trust({"AWS": VENDOR_ROOT}), trusted_accounts=[VENDOR]) == []
    assert check(trust({"AWS": VENDOR}), trusted_accounts=[VENDOR]) == []
    assert fails(check(trust({"AWS": VENDOR_ROOT}), trusted_accounts=["444455556666"]))


@pytest.mark.parametrize(
    "principal",
    [
        VENDOR_ROOT,
        f"arn:aws:iam::{VENDOR}:role/vendor-integration",
        f"arn:aws:iam::{VENDOR}:user/bob",
        f"arn:aws:sts::{VENDOR}:assumed-role/vendor/session",
        f"arn:${{AWS::Partition}}:iam::{VENDOR}:root",
        f"arn:aws-cn:iam::{VENDOR}:root",
    ],
)
def test_foreign_arn_without_external_id_fails_naming_statement_and_account(principal):
    (message,) = fails(check(trust({"AWS": principal})))
    assert "Statement 0" in message
    assert f"account {VENDOR}" in message
    assert principal in message
    assert "sts:ExternalId" in message


def test_bare_account_id_without_external_id_fails():
    (message,) = fails(check(trust({"AWS": VENDOR})))
    assert message == f"Statement 0 lets account {VENDOR} assume the role without an sts:ExternalId condition"


def test_account_id_written_as_a_number_fails():
    # `AWS: 111122223333` unquoted in YAML (or a number in JSON) is an int after loading
    (message,) = fails(check(trust({"AWS": int(VENDOR)})))
    assert f"account {VENDOR}" in message
    (message,) = fails(check(trust({"AWS": 12345678901})))  # leading zero lost: 012345678901
    assert "account 012345678901" in message


def test_every_foreign_principal_and_statement_is_reported():
    document = trust({"AWS": [VENDOR_ROOT, "arn:aws:iam::444455556666:root", f"arn:aws:iam::{SELF_ACCOUNT}:root"]})
    document["Statement"].append(trust({"AWS": "555566667777"})["Statement"][0])
    messages = fails(check(document))
    assert len(messages) == 3
    assert "account 111122223333" in messages[0] and "account 444455556666" in messages[1]
    assert messages[2].startswith("Statement 1 ") and "account 555566667777" in messages[2]


def test_violation_points_into_the_statement():
    (violation,) = check(trust({"AWS": VENDOR_ROOT}))
    assert violation.path[:2] == ("Statement", 0)


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"sts:ExternalId": "7f3c9a2e-vendor-contract"}},
        {"StringEquals": {"sts:externalid": "7f3c9a2e-vendor-contract"}},
        {"StringEquals": {"sts:ExternalId": ["a-1", "b-2"]}},
        {"StringLike": {"sts:ExternalId": "vendor-*"}},
        {"StringEqualsIgnoreCase": {"sts:ExternalId": "ABC-123"}},
        {"ForAnyValue:StringEquals": {"sts:ExternalId": "abc-123"}},
        {"StringEquals": {"sts:ExternalId": Unknown("parameter ExternalId has no default")}},
    ],
)
def test_a_condition_requiring_an_external_id_passes(condition):
    assert check(trust({"AWS": VENDOR_ROOT}, condition=condition)) == []


@pytest.mark.parametrize("pattern", ["*", "?*", ["*"]])
def test_an_external_id_condition_matching_anything_fails(pattern):
    (message,) = fails(check(trust({"AWS": VENDOR_ROOT}, condition={"StringLike": {"sts:ExternalId": pattern}})))
    assert "matches any value" in message and f"account {VENDOR}" in message


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIfExists": {"sts:ExternalId": "abc-123"}},
        {"StringLikeIfExists": {"sts:ExternalId": "abc-*"}},
        {"StringNotEquals": {"sts:ExternalId": "abc-123"}},
        # ForAllValues is true when the key is absent from the request: it requires nothing
        {"ForAllValues:StringEquals": {"sts:ExternalId": "abc-123"}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    ],
)
def test_conditions_that_do_not_require_an_external_id_fail(condition):
    (message,) = fails(check(trust({"AWS": VENDOR_ROOT}, condition=condition)))
    assert "without an sts:ExternalId condition" in message


def test_deny_statement_is_ignored():
    assert check(trust({"AWS": VENDOR_ROOT}, effect="Deny")) == []


def test_statement_that_does_not_allow_assume_role_is_ignored():
    assert check(trust({"AWS": VENDOR_ROOT}, not_action=["sts:AssumeRole"])) == []
    assert check(trust({"AWS": VENDOR_ROOT}, not_action="sts:*")) == []
    assert check(trust({"AWS": VENDOR_ROOT}, action="sts:AssumeRoleWithSAML")) == []
    assert check(trust({"AWS": VENDOR_ROOT}, action=["sts:TagSession", "s3:GetObject"])) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": "sts:*"},
        {"action": "*"},
        {"action": "STS:ASSUMEROLE"},
        {"action": ["sts:TagSession", "sts:AssumeRole"]},
        {"not_action": ["s3:*"]},
    ],
)
def test_statements_whose_actions_include_assume_role_apply(kwargs):
    assert len(fails(check(trust({"AWS": VENDOR_ROOT}, **kwargs)))) == 1


def test_a_json_string_document_works():
    assert len(fails(check(json.dumps(trust({"AWS": VENDOR_ROOT}))))) == 1
    passing = trust({"AWS": VENDOR_ROOT}, condition={"StringEquals": {"sts:ExternalId": "abc-123"}})
    assert check(json.dumps(passing)) == []


def test_a_single_statement_object_works():
    document = {"Statement": {"Effect": "Allow", "Principal": {"AWS": VENDOR}, "Action": "sts:AssumeRole"}}
    assert len(fails(check(document))) == 1


def test_unresolved_parts_are_skipped_not_failed():
    for document in (
        Unknown("Fn::GetAtt Trust.Document"),
        trust({"AWS": Unknown("Ref VendorAccount")}),
        trust(Unknown("Fn::If")),
        trust({"AWS": VENDOR_ROOT}, action=Unknown("Ref Action")),
        {"Statement": Unknown("Fn::If")},
        {"Statement": [Unknown("Fn::If")]},
        {"Statement": [Unknown("Fn::If"), {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}]},
    ):
        violations = check(document)
        assert violations and all(v.outcome is Outcome.SKIP for v in violations), document


def test_something_that_is_not_a_policy_document_is_skipped():
    for value in ("not json at all", 42, ["a"]):
        assert [v.outcome for v in check(value)] == [Outcome.SKIP]



def test_unresolved_statement_next_to_a_failing_one_keeps_both():
    document = trust({"AWS": VENDOR_ROOT})
    document["Statement"].insert(0, Unknown("Fn::If"))
    violations = check(document)
    assert [v.outcome for v in violations] == [Outcome.SKIP, Outcome.FAIL]
    assert violations[0].message.startswith("Statement 0 could not be resolved")
    assert violations[1].message.startswith("Statement 1 lets account")


# --- secrets.mask -----------------------------------------------------------------------------------


def test_mask_access_key_ids():
    assert mask("key AKIAIOSFODNN7EXAMPLE in text") == "key AKIA**************** in text"
    assert mask("ASIAABCDEFGHIJKLMNOP") == "ASIA" + "*" * 16
    assert mask("arn:aws:iam::111122223333:role/x") == "arn:aws:iam::111122223333:role/x"


def test_mask_secret_access_keys_but_not_digests_or_words():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert mask(f"secret {secret} end") == f"secret {secret[:4]}{'*' * 36} end"
    assert secret not in mask(f'"{secret}"')
    digest = "0123456789abcdef0123456789abcdef01234567"
    assert mask(f"sha {digest}") == f"sha {digest}"
    word = "abcdefghijklmnopqrstuvwxyzabcdefghijklmn"
    assert mask(word) == word
    assert mask(secret + "X") == secret + "X"  # a longer run is not a secret access key


@pytest.mark.parametrize(
    "path",
    [
        "/check/work/main/fixtures/policies/GUARD-001/cloudformation/fail.yaml",  # the CI checkout
        "/home/runner/work/MyRepo2/MyRepo2/fixtures/prod/main.tf",
        "/Users/JohnSmith/src/infra/Templates/Prod1/stack.yaml",
        "s3://deploy-artifacts/Payments/ServiceRoles/Lambda2024/template.yaml",
    ],
)
def test_mask_leaves_file_paths_alone_even_when_a_run_is_40_characters(path):
    assert mask(path) == path


def test_mask_secret_after_an_equals_sign():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert secret not in mask(f"aws_secret_access_key={secret}")


# --- Go-style durations (Terraform provider assume_role.duration), not_empty, not_literal -------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1h", 3600), ("30m", 1800), ("2h45m", 9900), ("1h0m0s", 3600), ("15m0s", 900), ("1.5h", 5400), (".5h", 1800), ("90s", 90)],
)
def test_parse_duration_understands_go_durations(value, seconds):
    assert parse_duration(value) == seconds
    assert isinstance(parse_duration(value), int)


def test_parse_duration_keeps_fractions_of_a_second():
    assert parse_duration("300ms") == pytest.approx(0.3)
    assert parse_duration("1s500ms") == pytest.approx(1.5)
    assert parse_duration("1500000us") == pytest.approx(1.5)
    assert parse_duration("2000000000ns") == 2


@pytest.mark.parametrize("value", ["-1h", "1h-30m", "1.5.h", "h1", "1h 30m", "1hour", "."])
def test_parse_duration_rejects_malformed_go_durations(value):
    assert parse_duration(value) is None


def test_max_accepts_go_durations_on_both_sides():
    args = Args("assume_role[0].duration", "1h", "duration")
    assert op_max("45m", args) == []
    (violation,) = op_max("2h45m", args)
    assert violation.message == "assume_role[0].duration is 2h45m (9900 s), limit 3600 s"


@pytest.mark.parametrize("value", [None, "", "   ", [], {}, [{}], [{"name": "", "arn": None}], {"Arn": "", "Name": ""}])
def test_not_empty_fails_values_that_hold_nothing(value):
    assert OPERATORS["not_empty"](value, Args("iam_instance_profile")) == [Violation(Outcome.FAIL, "iam_instance_profile is empty")]


@pytest.mark.parametrize(
    "value",
    ["app-profile", [{"name": "app-profile"}], {"Arn": "arn:aws:iam::123456789012:instance-profile/app"}, Unknown("var.profile has no value"), [{"name": Unknown("x")}], 0, False],
)
def test_not_empty_passes_values_that_hold_something(value):
    assert OPERATORS["not_empty"](value, Args("iam_instance_profile")) == []


def test_not_empty_fails_when_absent_by_default():
    from validator.engine.operators import ABSENT_DEFAULT

    assert ABSENT_DEFAULT["not_empty"] is Outcome.FAIL


DYNAMIC = [r"^\{\{resolve:(secretsmanager|ssm-secure):"]


@pytest.mark.parametrize("value", ["Sup3r-Secret!", "changeme", 12345678, True])
def test_not_literal_fails_literals_without_showing_them(value):
    (violation,) = OPERATORS["not_literal"](value, Args("MasterUserPassword", DYNAMIC))
    assert violation.outcome is Outcome.FAIL
    assert violation.message == "MasterUserPassword is a literal value written in the template"
    assert str(value) not in violation.message


@pytest.mark.parametrize(
    "value",
    [
        "{{resolve:secretsmanager:prod/orders/db:SecretString:password}}",
        "{{resolve:ssm-secure:/prod/orders/db-password:3}}",
        "",  # holds no secret
    ],
)
def test_not_literal_passes_dynamic_references(value):
    assert OPERATORS["not_literal"](value, Args("MasterUserPassword", DYNAMIC)) == []


def test_not_literal_ssm_plaintext_reference_is_still_a_literal_with_these_patterns():
    (violation,) = OPERATORS["not_literal"]("{{resolve:ssm:/prod/db-password}}", Args("MasterUserPassword", DYNAMIC))
    assert violation.outcome is Outcome.FAIL


def test_not_literal_passes_references_to_other_resources():
    from validator.model import Reference

    value = Reference("random_password.db.result is known only after apply", "random_password.db", "result")
    assert OPERATORS["not_literal"](value, Args("password", DYNAMIC)) == []


def test_not_literal_leaves_unresolved_values_unresolved():
    (violation,) = OPERATORS["not_literal"](Unknown("parameter DbPassword has no default"), Args("MasterUserPassword", DYNAMIC))
    assert violation == Violation(Outcome.SKIP, "MasterUserPassword could not be resolved (parameter DbPassword has no default)")


def test_not_literal_accepts_a_single_pattern_or_none():
    assert OPERATORS["not_literal"]("{{resolve:secretsmanager:x}}", Args("p", DYNAMIC[0])) == []
    assert OPERATORS["not_literal"]("{{resolve:secretsmanager:x}}", Args("p"))[0].outcome is Outcome.FAIL
