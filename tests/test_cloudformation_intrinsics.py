"""CloudFormation as teams write it: parameter values, intrinsic functions, conditions and variants."""

from __future__ import annotations

import json
import textwrap

from validator.config import Config
from validator.loaders.cfn_intrinsics import MAX_VARIANTS
from validator.loaders.cloudformation import load
from validator.model import SELF_ACCOUNT, Outcome, Reference, Resource, Template, Unknown, is_unknown
from validator.run import run


def load_ok(text: str, parameters: dict | None = None, path: str = "t.yaml") -> Template:
    template, errors = load(path, textwrap.dedent(text), parameters)
    assert errors == []
    assert template is not None
    return template


def by_id(template: Template) -> dict[str, Resource]:
    return {r.id: r for r in template.resources}


PARAMS = """\
Parameters:
  Env:
    Type: String
    Default: prod
  Seconds:
    Type: Number
    Default: "7200"
  Accounts:
    Type: CommaDelimitedList
    Default: 111122223333,444455556666
  Ports:
    Type: List<Number>
    Default: "80, 443"
  Image:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64
  Vendor:
    Type: String
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      Env: !Ref Env
      Seconds: !Ref Seconds
      Accounts: !Ref Accounts
      Ports: !Ref Ports
      Image: !Ref Image
      Vendor: !Ref Vendor
"""


def test_parameter_values_are_typed_by_their_declared_type():
    p = by_id(load_ok(PARAMS))["Role"].properties
    assert p["Env"] == "prod"
    assert p["Seconds"] == 7200  # a Number, even when the default is written as a string
    assert p["Accounts"] == ["111122223333", "444455556666"]
    assert p["Ports"] == [80, 443]
    assert is_unknown(p["Image"]) and "SSM" in p["Image"].reason  # the default names an SSM parameter
    assert is_unknown(p["Vendor"]) and "no default" in p["Vendor"].reason


def test_given_parameter_values_win_over_defaults():
    values = {"Env": "dev", "Seconds": "43200", "Accounts": "999988887777", "Vendor": "210987654321", "Image": "ami-1"}
    p = by_id(load_ok(PARAMS, values))["Role"].properties
    assert (p["Env"], p["Seconds"], p["Accounts"], p["Vendor"]) == ("dev", 43200, ["999988887777"], "210987654321")
    assert is_unknown(p["Image"])  # still a parameter name, not its value


def test_a_parent_stacks_unresolved_value_overrides_the_default():
    p = by_id(load_ok(PARAMS, {"Env": Reference("Ref Bucket", target="Bucket")}))["Role"].properties
    assert is_unknown(p["Env"]) and not isinstance(p["Env"], Reference)  # the target lives in the parent
    assert "parent stack" in p["Env"].reason


def test_pseudo_parameters_and_the_newer_intrinsics():
    text = """\
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          Account: !Ref AWS::AccountId
          Arn: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x
          Region: !Ref AWS::Region
          AZ: !Select [0, !GetAZs ""]
          Cidr: !Cidr [10.0.0.0/16, 4, 8]
          Import: !ImportValue shared-vendor-role
          Json: {"Fn::ToJsonString": {"a": [1, "b"]}}
          JsonUnknown: {"Fn::ToJsonString": {"a": !ImportValue x}}
          Length: {"Fn::Length": [1, 2, 3]}
          UserData: !Base64 |
            #!/bin/bash
            echo hello
          Macro: {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}
    """
    p = by_id(load_ok(text))["Role"].properties
    assert p["Account"] == SELF_ACCOUNT
    assert p["Arn"] == f"arn:${{AWS::Partition}}:iam::{SELF_ACCOUNT}:role/x"
    assert p["Region"] == "${AWS::Region}"
    for key in ("AZ", "Cidr", "Import", "JsonUnknown", "Macro"):
        assert is_unknown(p[key]), key
    assert "shared-vendor-role" in p["Import"].reason
    assert json.loads(p["Json"]) == {"a": [1, "b"]}
    assert p["Length"] == 3
    assert p["UserData"] == "#!/bin/bash\necho hello\n"  # decoded: what the instance runs is judged


def test_getatt_in_both_forms_and_find_in_map_with_a_default_value():
    text = """\
    Mappings:
      Accounts:
        prod: {Id: "111122223333"}
    Resources:
      Other:
        Type: AWS::IAM::Role
      Role:
        Type: AWS::IAM::Role
        Properties:
          Short: !GetAtt Other.Arn
          Long: {"Fn::GetAtt": [Other, Arn]}
          Nested: !GetAtt Other.Endpoint.Address
          Missing: !GetAtt Nope.Arn
          Found: !FindInMap [Accounts, prod, Id]
          Fallback: !FindInMap [Accounts, dev, Id, {DefaultValue: "000000000000"}]
    """
    p = by_id(load_ok(text))["Role"].properties
    assert (p["Short"].target, p["Short"].attribute) == ("Other", "Arn")
    assert (p["Long"].target, p["Long"].attribute) == ("Other", "Arn")
    assert (p["Nested"].target, p["Nested"].attribute) == ("Other", "Endpoint.Address")
    assert is_unknown(p["Missing"]) and not isinstance(p["Missing"], Reference)
    assert p["Found"] == "111122223333"
    assert p["Fallback"] == "000000000000"


CONDITIONS = """\
Parameters:
  Env:
    Type: String
    Default: prod
    AllowedValues: [prod, dev]
  Region:
    Type: String
    Default: eu-west-1
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  ProdInEurope: !And [!Condition IsProd, !Equals [!Ref Region, eu-west-1]]
  InUsEast: !Equals [!Ref AWS::Region, us-east-1]
  DevOrEurope: !Or [!Condition IsDev, !Condition ProdInEurope]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      Duration: !If [IsProd, 3600, 43200]
      Europe: !If [ProdInEurope, eu, other]
      Either: !If [DevOrEurope, either, neither]
      Same: !If [InUsEast, x, x]
      Gone: !If [IsDev, kept, !Ref AWS::NoValue]
  DevOnly:
    Type: AWS::IAM::Role
    Condition: IsDev
"""


def test_conditions_decided_by_parameter_values():
    template = load_ok(CONDITIONS)
    resources = by_id(template)
    p = resources["Role"].properties
    assert (p["Duration"], p["Europe"], p["Either"], p["Same"]) == (3600, "eu", "either", "x")
    assert "Gone" not in p  # Fn::If chose AWS::NoValue
    assert "DevOnly" not in resources  # its condition is false: not created
    assert template.variants == {}
    dev = by_id(load_ok(CONDITIONS, {"Env": "dev"}))
    assert dev["Role"].properties["Duration"] == 43200 and dev["Role"].properties["Gone"] == "kept"
    assert "DevOnly" in dev


def test_pseudo_parameters_never_decide_a_condition():
    text = CONDITIONS.replace("Duration: !If [IsProd, 3600, 43200]", "Duration: !If [InUsEast, 3600, 43200]")
    template = load_ok(text)
    role = by_id(template)["Role"]
    assert is_unknown(role.properties["Duration"])  # the plain view: both are possible
    variants = template.variants["Role"]
    assert [(v.variant, v.properties["Duration"]) for v in variants] == [
        ((("InUsEast", "true"),), 3600),
        ((("InUsEast", "false"),), 43200),
    ]


def test_allowed_values_of_a_parameter_without_value_are_each_judged():
    text = """\
    Parameters:
      Duration:
        Type: Number
        AllowedValues: [3600, 43200]
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          MaxSessionDuration: !Ref Duration
    """
    template = load_ok(text)
    assert is_unknown(by_id(template)["Role"].properties["MaxSessionDuration"])
    assert [(v.variant, v.properties["MaxSessionDuration"]) for v in template.variants["Role"]] == [
        ((("parameter Duration", "3600"),), 3600),
        ((("parameter Duration", "43200"),), 43200),
    ]
    # A value given for the scan decides it.
    given = load_ok(text, {"Duration": "3600"})
    assert given.variants == {} and by_id(given)["Role"].properties["MaxSessionDuration"] == 3600


def test_a_condition_on_a_parameter_without_value_names_the_condition_not_the_parameter():
    text = """\
    Parameters:
      Env:
        Type: String
        AllowedValues: [prod, dev, test]
    Conditions:
      IsProd: !Equals [!Ref Env, prod]
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          Duration: !If [IsProd, 3600, 43200]
    """
    variants = load_ok(text).variants["Role"]
    assert [(v.variant, v.properties["Duration"]) for v in variants] == [
        ((("IsProd", "true"),), 3600),
        ((("IsProd", "false"),), 43200),  # dev and test are one variant
    ]


def test_contradictory_choices_are_not_variants_and_choices_that_change_nothing_are_not_either():
    text = """\
    Conditions:
      A: !Equals [!Ref AWS::Region, us-east-1]
      NotA: !Not [!Condition A]
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          First: !If [A, 1, 2]
          Second: !If [NotA, 1, 2]
      Tagged:
        Type: AWS::IAM::Role
        Properties:
          Tag: !If [A, x, x]
    """
    template = load_ok(text)
    combos = [(v.properties["First"], v.properties["Second"]) for v in template.variants["Role"]]
    assert combos == [(1, 2), (2, 1)]  # never (1, 1): A and NotA cannot both hold
    assert "Tagged" not in template.variants


def test_a_resource_created_under_an_undecided_condition_is_judged_where_it_exists():
    text = """\
    Conditions:
      InUsEast: !Equals [!Ref AWS::Region, us-east-1]
    Resources:
      Role:
        Type: AWS::IAM::Role
        Condition: InUsEast
        Properties:
          Duration: !If [InUsEast, 3600, 43200]
    """
    template = load_ok(text)
    assert template.variants == {}
    assert by_id(template)["Role"].properties == {"Duration": 3600}


def test_variants_are_bounded():
    conditions = "\n".join(f"  C{i}: !Equals [!Ref AWS::Region, r{i}]" for i in range(6))
    props = "\n".join(f"      P{i}: !If [C{i}, a, b]" for i in range(6))
    text = f"Conditions:\n{conditions}\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n{props}\n"
    template = load_ok(text)
    variants = template.variants["Role"]
    assert 2 <= len(variants) <= MAX_VARIANTS
    last = variants[0].properties["P5"]
    assert is_unknown(last) and "C5" in last.reason  # choices beyond the bound stay Unknown


def test_lines_follow_the_chosen_branch():
    text = """\
    Parameters:
      Env: {Type: String, Default: dev}
    Conditions:
      IsProd: !Equals [!Ref Env, prod]
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument: !If
            - IsProd
            - Statement:
                - Effect: Allow
                  Principal: {Service: ec2.amazonaws.com}
            - Statement:
                - Effect: Allow
                  Principal: {AWS: arn:aws:iam::111122223333:root}
          Policies:
            - !Ref AWS::NoValue
            - PolicyName: second
    """
    role = by_id(load_ok(text))["Role"]
    lines = textwrap.dedent(text).splitlines()
    assert role.line_of(("AssumeRolePolicyDocument", "Statement", 0, "Principal")) == 1 + next(
        i for i, line in enumerate(lines) if "111122223333" in line
    )
    assert role.properties["Policies"] == [{"PolicyName": "second"}]
    assert role.line_of(("Policies", 0)) == 1 + next(i for i, line in enumerate(lines) if "PolicyName: second" in line)


def _scan(tmp_path, text: str, **config) -> list:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    report = run(Config(paths=(str(path),), fail_on=None, **config))
    assert report.errors == ()
    return [f for f in report.findings if f.outcome is Outcome.FAIL]


VARIANT_TEMPLATE = """\
Parameters:
  Env:
    Type: String
    AllowedValues: [prod, dev]
  Duration:
    Type: Number
    AllowedValues: [3600, 43200]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: !Ref Duration
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal:
              AWS: !If [IsProd, !Sub "arn:aws:iam::${AWS::AccountId}:root", "arn:aws:iam::111122223333:root"]
            Action: sts:AssumeRole
  Server:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-1
      IamInstanceProfile: !If [IsProd, !Ref Profile, !Ref AWS::NoValue]
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!Ref Role]
"""


def test_findings_of_some_variants_say_when_and_the_others_are_reported_once(tmp_path):
    findings = _scan(tmp_path, VARIANT_TEMPLATE, builtin_policies=True)
    by_policy = {f.policy_id: f for f in findings if f.policy_id in ("SESSION-001", "TRUST-001", "WORKLOAD-001")}
    assert by_policy["SESSION-001"].message == "MaxSessionDuration is 43200 s, limit 3600 s (when parameter Duration is 43200)"
    assert by_policy["TRUST-001"].message.endswith("(when IsProd is false)")
    assert by_policy["WORKLOAD-001"].message.endswith("(when IsProd is false)")
    assert by_policy["WORKLOAD-001"].resource_id == "Server"
    assert len([f for f in findings if f.policy_id == "TRUST-001"]) == 1  # not once per Duration value
    # Given values leave one variant: no condition to name.
    decided = _scan(tmp_path, VARIANT_TEMPLATE, cfn_parameters={"Env": "dev", "Duration": "43200"})
    messages = {f.policy_id: f.message for f in decided}
    assert messages["SESSION-001"] == "MaxSessionDuration is 43200 s, limit 3600 s"
    assert "when" not in messages["TRUST-001"] and "when" not in messages["WORKLOAD-001"]
    prod = _scan(tmp_path, VARIANT_TEMPLATE, cfn_parameters={"Env": "prod", "Duration": "3600"})
    assert not {"SESSION-001", "TRUST-001", "WORKLOAD-001"} & {f.policy_id for f in prod}


def test_a_violation_in_every_variant_is_reported_once_without_a_condition(tmp_path):
    text = VARIANT_TEMPLATE.replace('"arn:aws:iam::111122223333:root"]', '"arn:aws:iam::444455556666:root"]').replace(
        '!Sub "arn:aws:iam::${AWS::AccountId}:root"', '"arn:aws:iam::111122223333:root"'
    )
    trust = [f for f in _scan(tmp_path, text) if f.policy_id == "TRUST-001"]
    assert len(trust) == 2  # one per account, each valid in one variant
    assert all(f.message.endswith(("(when IsProd is true)", "(when IsProd is false)")) for f in trust)
    same = VARIANT_TEMPLATE.replace('!Sub "arn:aws:iam::${AWS::AccountId}:root"', '"arn:aws:iam::111122223333:root"')
    (finding,) = [f for f in _scan(tmp_path, same) if f.policy_id == "TRUST-001"]
    assert "when" not in finding.message


def test_unknown_values_are_never_failures():
    template = load_ok(
        """\
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              MaxSessionDuration: !ImportValue shared-duration
        """
    )
    assert isinstance(by_id(template)["Role"].properties["MaxSessionDuration"], Unknown)
