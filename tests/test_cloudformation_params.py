"""Parameter values for a scan: --parameters FILE in the AWS CLI and template-configuration forms,
--parameter Key=Value, and the usage errors of both."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from validator.cli import app
from validator.loaders.cfn_params import ParameterError, parse_file, parse_option

TEMPLATE = """\
Parameters:
  SessionSeconds:
    Type: Number
    Default: 3600
  Environment:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
Resources:
  AnalystRole:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: !If [IsProd, !Ref SessionSeconds, 3600]
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: ec2.amazonaws.com}
            Action: sts:AssumeRole
"""


def test_aws_cli_form():
    text = json.dumps(
        [
            {"ParameterKey": "Environment", "ParameterValue": "prod"},
            {"ParameterKey": "SessionSeconds", "ParameterValue": "43200"},
            {"ParameterKey": "Old", "UsePreviousValue": True},
        ]
    )
    assert parse_file(text, "params.json") == {"Environment": "prod", "SessionSeconds": "43200"}


def test_template_configuration_form_and_plain_mappings():
    text = json.dumps({"Parameters": {"Environment": "prod", "SessionSeconds": 43200, "Flag": True}, "Tags": {"team": "a"}})
    assert parse_file(text, "config.json") == {"Environment": "prod", "SessionSeconds": "43200", "Flag": "true"}
    assert parse_file("Environment: prod\nSubnets: [a, b]\n", "params.yaml") == {"Environment": "prod", "Subnets": "a,b"}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[{\"ParameterValue\": \"x\"}]", "item 0 has no ParameterKey"),
        ("[{\"ParameterKey\": \"A\"}]", "item 0 (A) has no ParameterValue"),
        ("{\"Parameters\": [1]}", "Parameters must be a mapping"),
        ("{\"A\": {\"nested\": 1}}", "the value of A"),
        ("42", "expected a list"),
        ("a: [", "not JSON or YAML"),
    ],
)
def test_malformed_files_name_the_problem(text, fragment):
    with pytest.raises(ParameterError, match="params.json") as raised:
        parse_file(text, "params.json")
    assert fragment in str(raised.value)


def test_key_value_option():
    assert parse_option("Environment=prod") == ("Environment", "prod")
    assert parse_option("Url=https://x?a=b") == ("Url", "https://x?a=b")
    with pytest.raises(ParameterError):
        parse_option("Environment")


def _scan(tmp_path, *args: str):
    (tmp_path / "stack.yaml").write_text(TEMPLATE, encoding="utf-8")
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "stack.yaml"), "--format", "json", "--fail-on", "none", *args])
    return result


def _messages(result) -> list[str]:
    return [f["message"] for f in json.loads(result.output)["findings"] if f["policy_id"] == "SESSION-001"]


def test_scan_uses_defaults_then_files_then_options(tmp_path):
    assert _messages(_scan(tmp_path)) == []  # dev by default: the short session applies
    params = tmp_path / "params.json"
    params.write_text(json.dumps([{"ParameterKey": "Environment", "ParameterValue": "prod"}, {"ParameterKey": "SessionSeconds", "ParameterValue": "43200"}]))
    assert _messages(_scan(tmp_path, "--parameters", str(params))) == ["MaxSessionDuration is 43200 s, limit 3600 s"]
    config = tmp_path / "prod.json"
    config.write_text(json.dumps({"Parameters": {"Environment": "prod", "SessionSeconds": "7200"}}))
    assert _messages(_scan(tmp_path, "--parameters", str(params), "--parameters", str(config))) == [
        "MaxSessionDuration is 7200 s, limit 3600 s"  # the later file wins
    ]
    assert _messages(_scan(tmp_path, "--parameters", str(params), "--parameter", "SessionSeconds=3600")) == []


def test_bad_parameter_input_is_a_usage_error_without_traceback(tmp_path):
    missing = _scan(tmp_path, "--parameters", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "nope.json" in missing.output and "Traceback" not in missing.output
    (tmp_path / "bad.json").write_text("[{\"ParameterValue\": 1}]")
    bad = _scan(tmp_path, "--parameters", str(tmp_path / "bad.json"))
    assert bad.exit_code == 2 and "ParameterKey" in bad.output
    option = _scan(tmp_path, "--parameter", "Environment")
    assert option.exit_code == 2 and "Key=Value" in option.output
