"""fixtures/examples: the README's example project, a mixed repository with a few deliberate problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from validator.cli import app
from validator.config import Config
from validator.model import FileStatus, Format, Outcome, Report
from validator.run import run

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "fixtures" / "examples"

# (policy, file relative to the project, resource, line): every failing finding, nothing else.
EXPECTED_FINDINGS = {
    ("WORKLOAD-001", "cloudformation/network-and-app.yaml", "BastionHost", 89),
    ("TRUST-001", "cloudformation/vendor-access.json", "BackupVendorRole", 41),
    ("TRUST-001", "terraform/main.tf", "aws_iam_role.partner_reporting", 48),
    ("SESSION-001", "terraform/main.tf", "aws_iam_role.analyst", 12),
    ("GUARD-001", "terraform/main.tf", "aws_iam_role.ingest", 25),
    ("WORKLOAD-003", "terraform/main.tf", "aws_instance.reporting", 80),
    ("KEYS-001", "terraform/main.tf", "aws_iam_access_key.erp_export", 98),
    ("SECRETS-002", "terraform/main.tf", "aws_db_instance.analytics", 108),
}
TEMPLATES = {
    "cloudformation/network-and-app.yaml",
    "cloudformation/vendor-access.json",
    "terraform/main.tf",
    "terraform/variables.tf",
}
SKIPPED = {".github/workflows/deploy.yml", "README.md"}


def _relative(path: str) -> str:
    return Path(path).resolve().relative_to(EXAMPLES.resolve()).as_posix()


@pytest.fixture(scope="module")
def report() -> Report:
    return run(Config(paths=(str(EXAMPLES),)))


def test_examples_report_exactly_the_deliberate_problems(report):
    assert report.errors == ()
    actual = {(f.policy_id, _relative(f.location.file), f.resource_id, f.location.line) for f in report.findings}
    assert actual == EXPECTED_FINDINGS
    assert len(report.findings) == len(EXPECTED_FINDINGS)
    assert all(f.outcome is Outcome.FAIL for f in report.findings)
    assert report.unresolved == ()


def test_examples_cover_every_policy_family_and_both_formats(report):
    assert {f.policy_id.split("-")[0] for f in report.findings} == {"WORKLOAD", "TRUST", "SESSION", "KEYS", "SECRETS", "GUARD"}
    assert {f.format for f in report.findings} == {Format.CLOUDFORMATION, Format.TERRAFORM}


def test_examples_scan_every_template_and_skip_the_rest_with_a_reason(report):
    records = {_relative(r.path): r for r in report.files}
    assert set(records) == TEMPLATES | SKIPPED
    for path in TEMPLATES:
        assert records[path].status is FileStatus.SCANNED, path
    for path in SKIPPED:
        assert records[path].status is FileStatus.SKIPPED, path
        assert records[path].reason, f"{path} was skipped without a reason"
    # YAML, but not CloudFormation; and not a template type at all.
    assert "CloudFormation" in records[".github/workflows/deploy.yml"].reason
    assert "template" in records["README.md"].reason


def test_cli_gate_fails_on_the_examples_at_the_default_threshold():
    result = CliRunner().invoke(app, ["scan", str(EXAMPLES)])
    assert result.exit_code == 1, result.output
    assert "Gate: FAILED" in result.output


def test_cli_json_report_names_the_same_findings():
    result = CliRunner().invoke(app, ["scan", str(EXAMPLES), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    actual = {
        (f["policy_id"], _relative(f["location"]["file"]), f["resource"]["id"], f["location"]["line"])
        for f in data["findings"]
    }
    assert actual == EXPECTED_FINDINGS
    assert data["summary"]["gate"]["passed"] is False
    skipped = {_relative(f["path"]): f["reason"] for f in data["files"] if f["status"] == "skipped"}
    assert set(skipped) == SKIPPED and all(skipped.values())


def test_cli_passes_the_examples_when_the_gate_is_disabled():
    """Exit 1 above comes from the gate, not from an unreadable input."""
    result = CliRunner().invoke(app, ["scan", str(EXAMPLES), "--fail-on", "none"])
    assert result.exit_code == 0, result.output
