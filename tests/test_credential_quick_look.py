"""The quick look in front of the credential walks (KEYS-004, KEYS-006) must never hide a finding."""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from validator.engine.base import Args
from validator.engine.credential_operators import (
    _may_hold_credentials,
    op_no_hardcoded_credentials,
    op_no_secret_attribute_reference,
)
from validator.model import Format, Location, Reference, Resource

KEY_ID = "AKIAQ3EGRTYUOPLKJHGF"
SECRET = "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"
RESOURCE = Resource(id="Worker", type="AWS::EC2::Instance", properties={}, location=Location("t.yaml", 1), format=Format.CLOUDFORMATION)


def _args() -> Args:
    return Args("everything", None, None, {}, RESOURCE, None)


def _found(value: object) -> list[str]:
    return [v.message for v in op_no_hardcoded_credentials(value, _args())]


@pytest.mark.parametrize(
    "value",
    [
        {"Tags": [{"Key": "k", "Value": KEY_ID}]},
        {"Environment": {"Variables": {"aws_secret_access_key": SECRET}}},
        # inside a JSON string, the slash of the secret escaped as JSON allows
        {"Config": json.dumps({"aws_secret_access_key": SECRET}).replace("/", "\\/")},
        # inside a JSON string, the key id written with \u escapes
        {"Config": '{"key": "\\u0041KIAQ3EGRTYUOPLKJHGF"}'},
        # base64 user data too short to show a 40-character run
        {"UserData": base64.b64encode(KEY_ID.encode()).decode()},
        # user data inside a JSON string
        {"Config": json.dumps({"user_data": base64.b64encode(f"export K={KEY_ID}".encode()).decode()})},
    ],
)
def test_hidden_or_plain_credentials_are_still_found(value):
    assert _may_hold_credentials(value)
    assert _found(value), value


def test_clean_properties_skip_the_full_walk_and_find_nothing():
    value = {
        "ImageId": "ami-0abcdef1234567890",
        "IamInstanceProfile": Reference(reason="a resource", target="Profile"),
        "Tags": [{"Key": "team", "Value": "payments"}],
        "Policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
    }
    assert not _may_hold_credentials(value)
    assert _found(value) == []


def test_quick_look_agrees_with_the_full_walk_on_random_values():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "/+ =:{}[]\"\\"
    for _ in range(3000):
        pieces = [rng.choice([KEY_ID, SECRET, "aws_secret_access_key", "AKIA", ""]) for _ in range(2)]
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        text = rng.choice(["{0}{1}{2}", "{0} {2} {1}", '{{"a": "{0}{2}"}}', "[\"{1}\", \"{2}\"]"]).format(*pieces, noise)
        value = {rng.choice(["Value", "UserData", "secret_key", "Name"]): text}
        if _found(value):
            assert _may_hold_credentials(value), value


def test_secret_attribute_quick_look_keeps_the_reference_finding():
    args = Args("everything", {"attributes": ["SecretAccessKey"], "types": ["AWS::IAM::AccessKey"]}, None, {}, RESOURCE, None)
    leaked = {"Environment": {"Variables": {"KEY": Reference(reason="GetAtt", target="CiKey", attribute="SecretAccessKey")}}}
    assert op_no_secret_attribute_reference(leaked, args)
    assert op_no_secret_attribute_reference({"Environment": {"Variables": {"KEY": Reference(reason="Ref", target="CiKey")}}}, args) == []
