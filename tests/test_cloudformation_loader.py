"""CloudFormation templates → resources: intrinsic functions, errors and line numbers."""

from __future__ import annotations

import json
import textwrap

from validator.loaders.cloudformation import load
from validator.model import SELF_ACCOUNT, Format, Reference, Resource, Template, is_pseudo, is_unknown

HEADER = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: prod
  VendorAccount:
    Type: String
  Seconds:
    Type: Number
    Default: 7200
Mappings:
  Vendors:
    prod:
      Account: "111122223333"
    dev:
      Account: "444455556666"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
"""


def load_ok(text: str, path: str = "t.yaml") -> Template:
    template, errors = load(path, text)
    assert errors == []
    assert template is not None
    return template


def role_props(properties: str) -> dict:
    """Properties of `Role` in HEADER plus the given (6-space indented) property lines."""
    template = load_ok(HEADER + textwrap.indent(textwrap.dedent(properties), " " * 6))
    return dict({r.id: r for r in template.resources}["Role"].properties)


def test_sub_with_account_id_gives_the_self_account_token():
    p = role_props(
        """
        A: !Sub arn:aws:iam::${AWS::AccountId}:root
        B: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Env}"
        C: {"Fn::Sub": "${AWS::AccountId}"}
        """
    )
    assert p["A"] == f"arn:aws:iam::{SELF_ACCOUNT}:root"
    assert SELF_ACCOUNT in p["B"] and p["B"].endswith(":role/prod")
    assert p["C"] == SELF_ACCOUNT


def test_sub_with_a_variable_map_and_literals():
    p = role_props(
        """
        A: !Sub
          - arn:aws:iam::${Account}:root
          - Account: !FindInMap [Vendors, !Ref Env, Account]
        B: !Sub
          - ${Greeting}-${Env}
          - Greeting: hello
        C: !Sub "literal ${!NotAVariable}"
        D: !Sub "${VendorAccount}"
        E: !Sub "${Role.Arn}"
        """
    )
    assert p["A"] == "arn:aws:iam::111122223333:root"
    assert p["B"] == "hello-prod"
    assert p["C"] == "literal ${NotAVariable}"
    assert is_unknown(p["D"])  # a parameter without a default
    assert is_unknown(p["E"])  # an attribute known only after deployment


def test_ref_to_a_parameter_resolves_its_default_and_is_unknown_without_one():
    p = role_props(
        """
        WithDefault: !Ref Env
        Number: !Ref Seconds
        NoDefault: !Ref VendorAccount
        ToResource: !Ref Role
        Undeclared: !Ref Nope
        Pseudo: !Ref AWS::AccountId
        """
    )
    assert p["WithDefault"] == "prod"
    assert p["Number"] == 7200
    assert is_unknown(p["NoDefault"])
    assert is_unknown(p["ToResource"])
    assert is_unknown(p["Undeclared"])
    assert p["Pseudo"] == SELF_ACCOUNT


def test_ref_to_a_list_parameter_gives_the_list_of_its_default():
    text = textwrap.dedent(
        """\
        Parameters:
          TrustedAccounts:
            Type: CommaDelimitedList
            Default: "111122223333, 444455556666"
          Subnets:
            Type: List<AWS::EC2::Subnet::Id>
            Default: subnet-1,subnet-2
          Plain:
            Type: String
            Default: a,b
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              Principals: !Ref TrustedAccounts
              Second: !Select [1, !Ref TrustedAccounts]
              Joined: !Join ["+", !Ref Subnets]
              Plain: !Ref Plain
        """
    )
    (role,) = [r for r in load_ok(text).resources if not is_pseudo(r.type)]
    assert role.properties["Principals"] == ["111122223333", "444455556666"]
    assert role.properties["Second"] == "444455556666"
    assert role.properties["Joined"] == "subnet-1+subnet-2"
    assert role.properties["Plain"] == "a,b"


def test_join_select_split_and_find_in_map():
    p = role_props(
        """
        Join: !Join ["", ["arn:aws:iam::", !FindInMap [Vendors, dev, Account], ":root"]]
        JoinUnknown: !Join ["-", [a, !Ref VendorAccount]]
        Select: !Select [1, [a, b, c]]
        SelectOut: !Select [9, [a]]
        Split: !Split [",", "a,b,c"]
        SelectSplit: !Select [2, !Split [",", "x,y,z"]]
        Map: !FindInMap [Vendors, !Ref Env, Account]
        MapMissing: !FindInMap [Vendors, staging, Account]
        MapUnknownKey: !FindInMap [Vendors, !Ref VendorAccount, Account]
        """
    )
    assert p["Join"] == "arn:aws:iam::444455556666:root"
    assert is_unknown(p["JoinUnknown"])
    assert p["Select"] == "b"
    assert is_unknown(p["SelectOut"])
    assert p["Split"] == ["a", "b", "c"]
    assert p["SelectSplit"] == "z"
    assert p["Map"] == "111122223333"
    assert is_unknown(p["MapMissing"])
    assert is_unknown(p["MapUnknownKey"])


def test_getatt_importvalue_and_conditions_are_unknown():
    p = role_props(
        """
        Short: !GetAtt Other.Arn
        Long: {"Fn::GetAtt": [Other, Arn]}
        Import: !ImportValue SharedVendorRoleArn
        If: !If [IsProd, a, b]
        """
    )
    for key in ("Short", "Long", "Import", "If"):
        assert is_unknown(p[key]), key


def test_ref_aws_novalue_removes_the_key_and_the_list_item():
    p = role_props(
        """
        MaxSessionDuration: !Ref AWS::NoValue
        Nested:
          Gone: {"Ref": "AWS::NoValue"}
          Kept: 1
        ManagedPolicyArns:
          - arn:aws:iam::aws:policy/ReadOnlyAccess
          - !Ref AWS::NoValue
        """
    )
    assert "MaxSessionDuration" not in p
    assert p["Nested"] == {"Kept": 1}
    assert p["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]


def test_json_template():
    text = json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
            "Resources": {
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "MaxSessionDuration": 43200,
                        "RoleName": {"Fn::Sub": "${Env}-${AWS::AccountId}"},
                        "Path": {"Ref": "AWS::NoValue"},
                    },
                },
                "Bucket": {"Type": "AWS::S3::Bucket"},
            },
        },
        indent=2,
    )
    template = load_ok(text, "t.json")
    assert template.format is Format.CLOUDFORMATION
    assert template.files == ("t.json",)
    resources = {r.id: r for r in template.resources}
    assert resources["Role"].type == "AWS::IAM::Role"
    assert resources["Role"].properties == {"MaxSessionDuration": 43200, "RoleName": f"prod-{SELF_ACCOUNT}"}
    assert resources["Bucket"].properties == {}
    # JSON keys carry their line too
    line = text.splitlines().index(next(x for x in text.splitlines() if '"MaxSessionDuration"' in x)) + 1
    assert resources["Role"].lines[("MaxSessionDuration",)] == line


def test_invalid_yaml_is_a_load_error_with_a_line():
    text = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      A: [1, 2\n      B: 3\n"
    template, errors = load("broken.yaml", text)
    assert template is None
    assert errors and errors[0].file == "broken.yaml"
    assert errors[0].line is not None and 5 <= errors[0].line <= 6
    assert errors[0].message


def test_invalid_json_is_a_load_error_with_a_line():
    text = '{\n  "Resources": {\n    "Role": {\n      "Type": "AWS::IAM::Role"\n    }\n  \n'
    template, errors = load("broken.json", text)
    assert template is None
    assert errors and errors[0].file == "broken.json"
    assert errors[0].line is not None


def test_duplicate_keys_are_an_error():
    text = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      Path: /a/\n      Path: /b/\n"
    template, errors = load("dup.yaml", text)
    assert template is None
    assert errors
    assert all(e.file == "dup.yaml" for e in errors)
    assert any("Duplicate" in e.message and "Path" in e.message for e in errors)
    assert {e.line for e in errors} >= {6}


def test_duplicate_resources_are_an_error():
    text = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n  Role:\n    Type: AWS::S3::Bucket\n"
    template, errors = load("dup.yaml", text)
    assert template is None
    assert any("Role" in e.message for e in errors)


def test_template_without_resources_or_not_a_mapping_is_an_error():
    for text in ("AWSTemplateFormatVersion: '2010-09-09'\n", "- a\n- b\n", "Resources: [a]\n"):
        template, errors = load("x.yaml", text)
        assert template is None, text
        assert len(errors) == 1 and errors[0].file == "x.yaml", text


def test_property_and_resource_line_numbers():
    text = HEADER + textwrap.indent(
        textwrap.dedent(
            """\
            RoleName: analyst
            MaxSessionDuration: 43200
            AssumeRolePolicyDocument:
              Statement:
                - Effect: Allow
                  Principal:
                    AWS: arn:aws:iam::111122223333:root
                  Action: sts:AssumeRole
            """
        ),
        " " * 6,
    )
    lines = text.splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if fragment in line)

    (role,) = [r for r in load_ok(text).resources if not is_pseudo(r.type)]
    assert role.location.line == line_of("  Role:")
    assert role.lines[("RoleName",)] == line_of("RoleName:")
    assert role.lines[("MaxSessionDuration",)] == line_of("MaxSessionDuration:")
    principal = ("AssumeRolePolicyDocument", "Statement", 0, "Principal")
    assert role.line_of(principal) == line_of("Principal:")
    assert role.line_of((*principal, "AWS")) == line_of("AWS: arn")
    assert role.line_of(("NotThere",)) == role.location.line


def test_rain_directives_do_not_crash():
    text = textwrap.dedent(
        """\
        Resources:
          Handler:
            Type: AWS::Lambda::Function
            Properties:
              Code:
                ZipFile: !Rain::Embed handler.py
              Role: !Rain::S3 {Path: lambda/, Zip: true}
          Module:
            Type: !Rain::Module ./module.yaml
          Role:
            Type: AWS::IAM::Role
            Properties:
              MaxSessionDuration: 3600
        """
    )
    template = load_ok(text)
    resources: dict[str, Resource] = {r.id: r for r in template.resources}
    assert is_unknown(resources["Handler"].properties["Code"]["ZipFile"])
    assert is_unknown(resources["Handler"].properties["Role"])
    assert resources["Role"].properties == {"MaxSessionDuration": 3600}
    assert "Module" not in resources  # no resource type to judge


def test_resources_without_a_type_are_ignored_and_others_still_load():
    text = "Resources:\n  NoType:\n    Properties: {}\n  Bucket:\n    Type: AWS::S3::Bucket\n"
    template = load_ok(text)
    assert [r.id for r in template.resources] == ["Bucket"]


def test_references_keep_their_target_and_parameters_outputs_metadata_are_loaded():
    text = textwrap.dedent(
        """\
        Parameters:
          DeployKeyId:
            Type: String
            Default: AKIAIOSFODNN7EXAMPLE
        Resources:
          CiUser:
            Type: AWS::IAM::User
          CiKey:
            Type: AWS::IAM::AccessKey
            Metadata:
              Owner: platform
            Properties:
              UserName: !Ref CiUser
        Outputs:
          CiSecret:
            Value: !GetAtt CiKey.SecretAccessKey
        """
    )
    template = load_ok(text)
    by_id = {r.id: r for r in template.resources}
    user_ref = by_id["CiKey"].properties["UserName"]
    assert isinstance(user_ref, Reference) and user_ref.target == "CiUser" and user_ref.attribute is None
    assert by_id["CiKey"].metadata == {"Owner": "platform"}
    output = by_id["CiSecret"]
    assert output.type == "AWS::CloudFormation::Output" and output.location.line == 15
    value = output.properties["Value"]
    assert isinstance(value, Reference) and (value.target, value.attribute) == ("CiKey", "SecretAccessKey")
    parameter = by_id["DeployKeyId"]
    assert parameter.type == "AWS::CloudFormation::Parameter" and parameter.properties["Default"] == "AKIAIOSFODNN7EXAMPLE"
    assert parameter.lines[("Default",)] == 4
    assert sorted(r.id for r in template.resources if not is_pseudo(r.type)) == ["CiKey", "CiUser"]
