"""`scan --cfn-lint`: cfn-lint's error-level findings join the report and the gate, only when asked."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from validator.cli import app
from validator.config import Config
from validator.loaders import cfn_linter
from validator.model import Outcome, Severity
from validator.run import run

ROOT = Path(__file__).parents[1]
REPORT_SCHEMA = json.loads((ROOT / "validator" / "reporters" / "report.schema.json").read_text())
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"

BROKEN = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Unused:
    Type: String
    Default: x
Resources:
  AnalystRole:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: twelve hours
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: arn:aws:iam::111122223333:root}
            Action: sts:AssumeRole
      Colour: blue
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stack.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_error_level_matches_become_failing_findings_with_their_rule_id(tmp_path):
    report = run(Config(paths=(str(_write(tmp_path, BROKEN)),), cfn_lint=True))
    lint = sorted((f.policy_id, f.resource_id, f.location.line) for f in report.findings if f.policy_id.startswith("cfn-lint:"))
    assert lint == [("cfn-lint:E3002", "AnalystRole", 16), ("cfn-lint:E3012", "AnalystRole", 10)]
    for f in report.findings:
        if f.policy_id.startswith("cfn-lint:"):
            assert f.outcome is Outcome.FAIL and f.severity is Severity.HIGH and f.resource_type == "AWS::IAM::Role"
            assert f.message and f.title
    assert not [f for f in report.findings if f.policy_id.startswith("cfn-lint:W")]  # warnings are cfn-lint's business
    assert any(f.policy_id == "TRUST-001" for f in report.findings)  # our own policies still run
    assert report.gate_passed is False


def test_without_the_flag_cfn_lint_rules_never_run(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("cfn-lint rules ran without --cfn-lint")

    monkeypatch.setattr(cfn_linter, "lint", refuse)
    report = run(Config(paths=(str(_write(tmp_path, BROKEN)),)))
    assert not [f for f in report.findings if f.policy_id.startswith("cfn-lint:")]


def test_a_valid_template_adds_nothing(tmp_path):
    text = BROKEN.replace("      MaxSessionDuration: twelve hours\n", "").replace("      Colour: blue\n", "")
    report = run(Config(paths=(str(_write(tmp_path, text)),), cfn_lint=True))
    assert not [f for f in (*report.findings, *report.unresolved) if f.policy_id.startswith("cfn-lint:")]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_reports_with_cfn_lint_findings_stay_valid(tmp_path, fmt):
    if fmt == "sarif" and not SARIF_SCHEMA.is_file():
        pytest.skip("no SARIF schema in ../shared/schemas")
    result = CliRunner().invoke(app, ["scan", str(_write(tmp_path, BROKEN)), "--cfn-lint", "--format", fmt])
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    schema = REPORT_SCHEMA if fmt == "json" else json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validate(document, schema)
    text = json.dumps(document)
    assert "cfn-lint:E3012" in text
