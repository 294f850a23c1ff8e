"""Baselines: `scan --baseline-write FILE` records the failing findings, `scan --baseline FILE`
fails only on new ones and reports the fixed ones; identity survives unrelated edits."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from validator import fingerprint as identity
from validator import suppress
from validator.cli import app
from validator.model import BaselineEntry, Finding, Format, Location, Outcome, Severity
from validator.reporters import gitlab, sarif

ROOT = Path(__file__).parents[1]
REPORT_SCHEMA = json.loads((ROOT / "validator" / "reporters" / "report.schema.json").read_text())

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  VendorRole:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: 43200
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: arn:aws:iam::111122223333:root
            Action: sts:AssumeRole
"""


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def scan_json(*args: str) -> tuple[int, dict]:
    result = invoke("scan", *args, "--format", "json")
    data = json.loads(result.stdout)
    jsonschema.validate(data, REPORT_SCHEMA)
    return result.exit_code, data


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".iac-validator.yaml").write_text("policies:\n  enable: [WORKLOAD-001, TRUST-001, SESSION-001]\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "vendor.yaml").write_text(TEMPLATE)
    return tmp_path


def found(items: list[dict]) -> set[tuple[str, str]]:
    return {(f["policy_id"], f["resource"]["id"]) for f in items}


def test_write_then_compare(project: Path):
    base = project / "baseline.json"
    written = invoke("scan", str(project / "stacks"), "--baseline-write", str(base))
    assert written.exit_code == 1  # the gate is still decided as usual
    assert f"wrote 2 finding(s) to the baseline {base}" in written.output
    doc = json.loads(base.read_text())
    assert doc["version"] == 1 and doc["tool"]["name"] == "iac-validator"
    assert {(e["policy_id"], e["resource"]) for e in doc["findings"]} == {("TRUST-001", "VendorRole"), ("SESSION-001", "VendorRole")}
    assert all("line" not in e for e in doc["findings"])

    code, data = scan_json(str(project / "stacks"), "--baseline", str(base))
    assert code == 0 and data["findings"] == []
    assert found(data["baselined"]) == {("TRUST-001", "VendorRole"), ("SESSION-001", "VendorRole")}
    assert data["summary"]["baselined"] == 2 and data["summary"]["score"] == 100
    assert data["baseline"] == str(base)


def test_baseline_survives_inserted_lines_and_reports_a_fixed_finding(project: Path):
    base = project / "baseline.json"
    _, before = scan_json(str(project / "stacks"), "--baseline-write", str(base))
    line = next(f["location"]["line"] for f in before["findings"] if f["policy_id"] == "TRUST-001")
    template = project / "stacks" / "vendor.yaml"
    edited = TEMPLATE.replace("Resources:\n", "Description: moved down\n\n\n\nResources:\n")
    edited = edited.replace("MaxSessionDuration: 43200", "MaxSessionDuration: 3600")  # SESSION-001 fixed
    template.write_text(edited)

    code, data = scan_json(str(project / "stacks"), "--baseline", str(base))
    assert code == 0 and data["findings"] == []
    (trust,) = data["baselined"]
    assert (trust["policy_id"], trust["location"]["line"]) == ("TRUST-001", line + 4)  # moved down, still known
    assert [(e["policy_id"], e["resource"], e["file"]) for e in data["fixed"]] == [
        ("SESSION-001", "VendorRole", identity.relative_path(str(template)))
    ]
    text = invoke("scan", str(project / "stacks"), "--baseline", str(base)).output
    assert "1 known finding(s) not counted, 0 new, 1 fixed" in text
    assert "fixed: " in text and "SESSION-001  VendorRole: MaxSessionDuration is 43200 s" in text


def test_new_findings_fail_and_the_same_violation_in_another_file_is_new(project: Path):
    base = project / "baseline.json"
    invoke("scan", str(project / "stacks"), "--baseline-write", str(base))
    (project / "stacks" / "copy.yaml").write_text(TEMPLATE)  # same address, same values, another file
    code, data = scan_json(str(project / "stacks"), "--baseline", str(base))
    assert code == 1
    assert {(Path(f["location"]["file"]).name, f["policy_id"]) for f in data["findings"]} == {
        ("copy.yaml", "TRUST-001"),
        ("copy.yaml", "SESSION-001"),
    }
    assert len(data["baselined"]) == 2 and data["fixed"] == []


def test_a_changed_value_of_the_same_violation_stays_known(project: Path):
    base = project / "baseline.json"
    invoke("scan", str(project / "stacks"), "--baseline-write", str(base))
    (project / "stacks" / "vendor.yaml").write_text(TEMPLATE.replace("43200", "7200"))
    code, data = scan_json(str(project / "stacks"), "--baseline", str(base))
    assert code == 0 and found(data["baselined"]) == {("TRUST-001", "VendorRole"), ("SESSION-001", "VendorRole")}


def test_baseline_entries_of_files_out_of_scope_are_not_fixed(project: Path):
    base = project / "baseline.json"
    invoke("scan", str(project / "stacks"), "--baseline-write", str(base))
    (project / "other").mkdir()
    (project / "other" / "ok.yaml").write_text(TEMPLATE.replace("43200", "3600").replace("AWS: arn:aws:iam::111122223333:root", "Service: ec2.amazonaws.com"))
    _, data = scan_json(str(project / "other"), "--baseline", str(base))
    assert data["fixed"] == [] and data["findings"] == []


def test_unreadable_baseline_is_a_usage_error(project: Path):
    missing = invoke("scan", str(project / "stacks"), "--baseline", str(project / "nope.json"))
    assert missing.exit_code == 2 and "--baseline-write" in missing.output
    (project / "bad.json").write_text('{"version": 9, "findings": []}')
    bad = invoke("scan", str(project / "stacks"), "--baseline", str(project / "bad.json"))
    assert bad.exit_code == 2 and "baseline version 9 is not supported" in bad.output
    (project / "broken.json").write_text("{")
    assert "baseline is not JSON" in invoke("scan", str(project / "stacks"), "--baseline", str(project / "broken.json")).output


# --- one identity -------------------------------------------------------------------------------


def test_baselines_and_the_ci_reporters_share_one_fingerprint():
    assert sarif.fingerprint is identity.fingerprint and gitlab.fingerprints is identity.fingerprints
    f = _finding("VendorRole", "MaxSessionDuration is 43200 s, limit 3600 s", line=8)
    (entry,) = suppress.baseline_entries([f])
    assert entry.fingerprint == sarif.fingerprint(f)


def _finding(resource: str, message: str, file: str = "stacks/a.yaml", line: int = 1, policy: str = "SESSION-001") -> Finding:
    return Finding(policy, "t", Severity.MEDIUM, Outcome.FAIL, message, resource, "AWS::IAM::Role", Format.CLOUDFORMATION, Location(file, line))


def test_duplicates_are_counted_not_collapsed():
    a1 = _finding("R", "Statement 0 lets account 1 in")
    a2 = _finding("R", "Statement 1 lets account 2 in", line=9)  # same fingerprint: digits normalised
    entries = suppress.baseline_entries([a1])
    result = suppress.apply_baseline([a1, a2], entries, ["stacks/a.yaml"])
    assert result.baselined == (a1,) and result.findings == (a2,)  # the second one is new
    result = suppress.apply_baseline([a1], suppress.baseline_entries([a1, a2]), ["stacks/a.yaml"])
    assert result.findings == () and len(result.fixed) == 1


def test_dump_and_load_round_trip():
    entries = suppress.baseline_entries([_finding("R", "m"), _finding("S", "n", file="b.tf")])
    loaded, error = suppress.load_baseline(suppress.dump_baseline(entries, "0.1.0"), "b.json")
    assert error is None and loaded == entries
    assert all(isinstance(e, BaselineEntry) for e in loaded)
    _, error = suppress.load_baseline('{"version": 1, "findings": [{"fingerprint": 1}]}', "b.json")
    assert error is not None and "findings[0]" in error.message
