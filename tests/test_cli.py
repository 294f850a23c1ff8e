"""The command line as a CI job sees it: exit codes, output formats, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from validator import __version__
from validator.cli import app

SCHEMA = json.loads((Path(__file__).parents[1] / "validator" / "reporters" / "report.schema.json").read_text())

VENDOR_ROLE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: Read-only access for the monitoring vendor
Resources:
  VendorRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: vendor-monitoring
      MaxSessionDuration: 43200
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: arn:aws:iam::111122223333:root
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess
      PermissionsBoundary: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/workload-boundary
"""

LONG_SESSION_TF = """\
resource "aws_iam_role" "analyst" {
  name                 = "analyst"
  max_session_duration = 7200
  permissions_boundary = "arn:aws:iam::123456789012:policy/workload-boundary"
  assume_role_policy   = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}
"""


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "vendor.yaml").write_text(VENDOR_ROLE)
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(LONG_SESSION_TF)
    return tmp_path


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"iac-validator {__version__}"


def test_gate_fails_on_high_finding_and_names_value_file_line(project: Path):
    result = invoke("scan", str(project))
    assert result.exit_code == 1
    out = result.output
    assert "TRUST-001" in out and f"{project / 'vendor.yaml'}:13" in out
    assert "account 111122223333" in out and "sts:ExternalId" in out
    assert "MaxSessionDuration is 43200 s, limit 3600 s" in out
    assert "max_session_duration is 7200 s, limit 3600 s" in out
    assert "Gate: FAILED" in out and "Traceback" not in out


def test_fail_on_critical_passes_the_gate_but_still_reports(project: Path):
    result = invoke("scan", str(project), "--fail-on", "critical")
    assert result.exit_code == 0
    assert "TRUST-001" in result.output and "Gate: PASSED" in result.output


def test_fail_under_fails_on_score(project: Path):
    result = invoke("scan", str(project), "--fail-on", "none", "--fail-under", "90")
    assert result.exit_code == 1
    assert "under 90" in result.output


def test_param_override_changes_the_limit(project: Path):
    result = invoke("scan", str(project / "tf"), "--param", "SESSION-001.max_seconds=2h", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["findings"] == []


def test_json_output_is_valid_against_its_schema(project: Path):
    result = invoke("scan", str(project), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    jsonschema.validate(data, SCHEMA)
    failing = {(f["policy_id"], f["resource"]["id"], f["location"]["line"]) for f in data["findings"]}
    assert failing == {
        ("TRUST-001", "VendorRole", 13),
        ("SESSION-001", "VendorRole", 8),
        ("SESSION-001", "aws_iam_role.analyst", 3),
    }
    assert data["summary"]["gate"]["passed"] is False
    assert data["summary"]["findings"] == {"critical": 0, "high": 1, "medium": 2, "low": 0}
    assert data["summary"]["score"] == 100 - 20 - 2 * 8
    per_file = {f["path"]: f for f in data["files"]}
    vendor = per_file[str(project / "vendor.yaml")]
    assert vendor["findings"] == {"critical": 0, "high": 1, "medium": 1, "low": 0}
    assert (vendor["score"], vendor["grade"]) == (100 - 20 - 8, "C")


def test_output_file(project: Path, tmp_path: Path):
    out = tmp_path / "report.json"
    result = invoke("scan", str(project), "--format", "json", "--output", str(out))
    assert result.exit_code == 1
    assert result.output == ""
    jsonschema.validate(json.loads(out.read_text()), SCHEMA)


def test_unreadable_input_exits_2_and_other_files_are_still_scanned(project: Path):
    (project / "broken.yaml").write_text("Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties: [\n")
    (project / "tf" / "broken.tf").write_text('resource "aws_iam_role" "x" {\n  name = \n}\n')
    result = invoke("scan", str(project), "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.output)
    jsonschema.validate(data, SCHEMA)
    errors = {e["file"]: e for e in data["errors"]}
    assert str(project / "broken.yaml") in errors and errors[str(project / "broken.yaml")]["line"]
    assert str(project / "tf" / "broken.tf") in errors
    # the good files were still judged
    assert {f["resource"]["id"] for f in data["findings"]} == {"VendorRole", "aws_iam_role.analyst"}
    statuses = {f["path"]: f["status"] for f in data["files"]}
    assert statuses[str(project / "broken.yaml")] == "error"
    assert statuses[str(project / "vendor.yaml")] == "scanned"


def test_missing_path_is_an_error_not_a_traceback(tmp_path: Path):
    result = invoke("scan", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_usage_error_exits_2(project: Path):
    assert invoke("scan", str(project), "--fail-on", "severe").exit_code == 2
    assert invoke("scan", str(project), "--param", "nonsense").exit_code == 2


def test_non_template_yaml_is_skipped_and_listed(tmp_path: Path):
    (tmp_path / "deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n")
    result = invoke("scan", str(tmp_path))
    assert result.exit_code == 0
    assert "deployment.yaml: not a CloudFormation template" in result.output


def test_plain_text_when_piped(project: Path):
    out = invoke("scan", str(project)).output
    assert "\x1b[" not in out


def test_color_on_request(project: Path):
    out = invoke("scan", str(project), "--color").output
    assert "\x1b[" in out


def test_bad_policy_dir_is_reported_with_file_and_json_path(project: Path, tmp_path: Path):
    policies = tmp_path / "custom-policies"
    policies.mkdir()
    (policies / "ORG-001.yaml").write_text("id: ORG-001\ntitle: Something\nseverity: urgent\n")
    result = invoke("scan", str(project), "--policy-dir", str(policies))
    assert result.exit_code == 2
    assert "ORG-001.yaml" in result.output and "$" in result.output


def test_python_dash_m_entry_point(project: Path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "validator", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and __version__ in done.stdout
