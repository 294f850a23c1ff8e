"""The CI reporters (SARIF, JUnit, Markdown, GitLab Code Quality): golden files and behaviour.

Golden files live in tests/golden/; after an intended output change, regenerate them with
`UPDATE_GOLDEN=1 python -m pytest tests/test_reporters.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from validator.cli import app
from validator.config import Config
from validator.model import (
    FileRecord,
    FileStatus,
    Finding,
    Format,
    LoadError,
    Location,
    Outcome,
    Policy,
    Remediation,
    Report,
    Score,
    Severity,
)
from validator.reporters import FORMATS, gitlab, junit, markdown, sarif
from validator.run import run

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
SARIF_SCHEMA = json.loads((ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json").read_text())

RAW_KEY = "AKIAIOSFODNN7EXAMPLE"  # secret-shaped text that must never reach an output
RAW_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _policy(pid: str, title: str, severity: Severity, group: str, **extra: object) -> Policy:
    fields = {
        "rationale": f"Why {pid} matters for SEC02-BP02: long-term keys leak, temporary ones expire.",
        "remediation": Remediation(
            text=f"Fix {pid}: use a role.",
            cloudformation="Type: AWS::IAM::Role\nProperties:\n  MaxSessionDuration: 3600\n",
            terraform='resource "aws_iam_role" "r" {\n  max_session_duration = 3600\n}\n',
        ),
        "references": (f"https://docs.example.com/{pid.lower()}", "https://docs.example.com/more"),
        **extra,
    }
    return Policy(
        id=pid,
        title=title,
        severity=severity,
        group=group,
        params={},
        match={},
        check={},
        examples=(),
        source=f"policies/{group.lower()}/{pid}.yaml",
        **fields,
    )


POLICIES = (
    _policy("WORKLOAD-001", "Workloads use roles, not IAM user access keys", Severity.CRITICAL, "WORKLOAD"),
    _policy("TRUST-001", "Cross-account trust requires sts:ExternalId", Severity.HIGH, "TRUST"),
    _policy("SESSION-001", "IAM role MaxSessionDuration is bounded", Severity.MEDIUM, "SESSION"),
    _policy(
        "TAG-001",
        "Roles say who owns them",
        Severity.LOW,
        "HYGIENE",
        remediation=Remediation(text="Add an owner tag.", cloudformation="Tags:\n  - Key: owner\n    Value: team\n"),
        references=(),
    ),
    _policy("UNUSED-001", "A policy that never fires", Severity.HIGH, "TRUST"),
)
BY_ID = {p.id: p for p in POLICIES}


def _finding(pid: str, outcome: Outcome, message: str, rid: str, rtype: str, file: str, line: int | None) -> Finding:
    policy = BY_ID[pid]
    fmt = Format.TERRAFORM if file.endswith(".tf") else Format.CLOUDFORMATION
    return Finding(
        policy_id=pid,
        title=policy.title,
        severity=policy.severity,
        outcome=outcome,
        message=message,
        resource_id=rid,
        resource_type=rtype,
        format=fmt,
        location=Location(file, line),
        remediation=policy.remediation.text,
    )


def fixture_report() -> Report:
    """One report exercising every branch: four severities, an ERROR, a SKIP, a load error, a skip."""
    cfn, tf = "stacks/vendor.yaml", "tf/main.tf"
    findings = (
        _finding("SESSION-001", Outcome.FAIL, "MaxSessionDuration is 43200 s, limit 3600 s", "VendorRole", "AWS::IAM::Role", cfn, 8),
        _finding("TAG-001", Outcome.FAIL, "no owner tag | Tags is empty", "VendorRole", "AWS::IAM::Role", cfn, 5),
        _finding(
            "TRUST-001",
            Outcome.FAIL,
            "Statement 0 lets account 111122223333 (arn:aws:iam::111122223333:root) assume the role without an sts:ExternalId condition",
            "VendorRole",
            "AWS::IAM::Role",
            cfn,
            13,
        ),
        _finding("SESSION-001", Outcome.FAIL, "max_session_duration is 7200 s, limit 3600 s", "aws_iam_role.analyst", "aws_iam_role", tf, 3),
        _finding(
            "WORKLOAD-001",
            Outcome.FAIL,
            f"aws_iam_access_key for user ci creates a long-term key (id {RAW_KEY}, secret {RAW_SECRET})",
            "aws_iam_access_key.ci",
            "aws_iam_access_key",
            tf,
            12,
        ),
        _finding("WORKLOAD-001", Outcome.ERROR, "policy raised KeyError: 'user'", "aws_iam_user.ci", "aws_iam_user", tf, 20),
    )
    findings = tuple(sorted(findings, key=lambda f: f.sort_key))  # as run.build_report sorts them
    unresolved = (
        _finding(
            "TRUST-001",
            Outcome.SKIP,
            "Principal is <unknown: parameter PartnerAccount has no default>",
            "PartnerRole",
            "AWS::IAM::Role",
            cfn,
            30,
        ),
    )
    files = (
        FileRecord("README.md", FileStatus.SKIPPED, reason="not a template file type"),
        FileRecord("stacks/broken.yaml", FileStatus.ERROR, Format.CLOUDFORMATION, "mapping values are not allowed here"),
        FileRecord("stacks/vendor.yaml", FileStatus.SCANNED, Format.CLOUDFORMATION, resources=2),
        FileRecord("tf/main.tf", FileStatus.SCANNED, Format.TERRAFORM, resources=3),
        FileRecord("tf/outputs.tf", FileStatus.SCANNED, Format.TERRAFORM, resources=0),
    )
    counts = {"critical": 1, "high": 1, "medium": 2, "low": 1}
    return Report(
        tool_version="0.1.0",
        files=files,
        findings=findings,
        unresolved=unresolved,
        errors=(LoadError("stacks/broken.yaml", "mapping values are not allowed here", 7),),
        policies=POLICIES,
        passed=2,
        passes=(
            _finding("WORKLOAD-001", Outcome.PASS, "", "AppServer", "AWS::EC2::Instance", cfn, 40),
            _finding("TRUST-001", Outcome.PASS, "", "aws_iam_role.analyst", "aws_iam_role", tf, 3),
        ),
        score=Score(22, "F", counts),
        file_scores={
            "stacks/vendor.yaml": Score(70, "C", {"critical": 0, "high": 1, "medium": 1, "low": 1}),
            "tf/main.tf": Score(52, "F", {"critical": 1, "high": 0, "medium": 1, "low": 0}),
            "tf/outputs.tf": Score(100, "A", {"critical": 0, "high": 0, "medium": 0, "low": 0}),
        },
        resources_scanned=5,
        gate_passed=False,
        gate_reasons=(
            "2 finding(s) at or above high",
            "1 input(s) could not be read",
            "1 policy evaluation(s) failed",
        ),
        fail_on=Severity.HIGH,
        fail_under=None,
    )


@pytest.fixture
def report() -> Report:
    return fixture_report()


def pick(report: Report, policy_id: str, file: str = "stacks/vendor.yaml") -> Finding:
    return next(f for f in report.findings if f.policy_id == policy_id and f.location.file == file)


# --- golden files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, name",
    [("sarif", "report.sarif"), ("junit", "report.junit.xml"), ("markdown", "report.md"), ("gitlab", "report.gitlab.json")],
)
def test_golden(report, fmt, name):
    out = FORMATS[fmt](report)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(out.encode("utf-8"))
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert out == path.read_bytes().decode("utf-8"), f"{name} changed: review, then UPDATE_GOLDEN=1 to accept"


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown", "gitlab"])
def test_deterministic_and_masked(report, fmt):
    out = FORMATS[fmt](report)
    assert out == FORMATS[fmt](fixture_report())
    assert RAW_KEY not in out and RAW_SECRET not in out
    assert re.search(r"AKIA(\\?\*){16}", out)  # masked (markdown escapes the stars)


# --- SARIF --------------------------------------------------------------------------------------


def test_sarif_is_valid_against_the_oasis_schema(report):
    doc = json.loads(sarif.render(report))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    assert doc["version"] == "2.1.0"


def test_sarif_rules_and_results(report):
    run_ = json.loads(sarif.render(report))["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "iac-validator" and driver["version"] == "0.1.0" and driver["informationUri"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {"WORKLOAD-001", "TRUST-001", "SESSION-001", "TAG-001"}  # only policies that failed
    trust = rules["TRUST-001"]
    assert trust["shortDescription"]["text"] == "Cross-account trust requires sts:ExternalId"
    assert trust["fullDescription"]["text"].startswith("Why TRUST-001 matters")
    assert trust["helpUri"] == "https://docs.example.com/trust-001"
    assert trust["properties"] == {"security-severity": "8.0", "tags": ["security", "TRUST", "SEC02-BP02"]}
    assert "```yaml" in trust["help"]["markdown"] and "```hcl" in trust["help"]["markdown"]
    assert "MaxSessionDuration: 3600" in trust["help"]["text"] and "max_session_duration" in trust["help"]["text"]
    assert {r["properties"]["security-severity"] for r in rules.values()} == {"9.5", "8.0", "5.5", "3.0"}
    assert "helpUri" not in rules["TAG-001"]  # no references

    results = run_["results"]
    assert len(results) == 5  # FAIL only: no SKIP, the ERROR is a notification
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels == {"WORKLOAD-001": "error", "TRUST-001": "error", "SESSION-001": "warning", "TAG-001": "note"}
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert set(r["partialFingerprints"]) == {"iacValidator/v1"}
    trust_result = next(r for r in results if r["ruleId"] == "TRUST-001")
    location = trust_result["locations"][0]
    assert location["physicalLocation"] == {"artifactLocation": {"uri": "stacks/vendor.yaml"}, "region": {"startLine": 13}}
    assert location["logicalLocations"] == [
        {"name": "VendorRole", "kind": "resource", "fullyQualifiedName": "AWS::IAM::Role/VendorRole"}
    ]

    invocation = run_["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    # errors first; then every skipped file and the summary line as notes (issue 8: every file accounted for)
    assert [n["level"] for n in notes] == ["error", "error", "note", "note"]
    assert invocation["properties"]["files"] == {"scanned": 3, "skipped": 1, "error": 1}
    assert notes[2]["message"]["text"] == "skipped: not a template file type"
    assert notes[3]["message"]["text"].startswith("iac-validator: 3 file(s) scanned, 1 skipped, 1 could not be read")
    assert notes[0]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "stacks/broken.yaml"},
        "region": {"startLine": 7},
    }
    assert "KeyError" in notes[1]["message"]["text"]
    descriptors = driver["notifications"]
    assert [descriptors[n["descriptor"]["index"]]["id"] for n in notes] == ["load-error", "policy-error", "file-skipped", "scan-summary"]
    assert driver["rules"][notes[1]["associatedRule"]["index"]]["id"] == "WORKLOAD-001"


def test_sarif_without_findings_or_errors_is_valid(report):
    clean = replace(report, findings=(), unresolved=(), errors=(), gate_passed=True, gate_reasons=())
    doc = json.loads(sarif.render(clean))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_line_unknown_and_policy_missing_from_report(report):
    f = replace(report.findings[0], policy_id="CUSTOM-9", location=Location("./x/t.yaml", None))
    doc = json.loads(sarif.render(replace(report, findings=(f,))))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    result = doc["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "x/t.yaml"}}
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "CUSTOM-9"


# --- fingerprints -------------------------------------------------------------------------------


def test_fingerprint_survives_line_shifts_and_value_changes(report):
    f = pick(report, "SESSION-001")
    assert sarif.fingerprint(f) == sarif.fingerprint(replace(f, location=Location(f.location.file, 99)))
    assert sarif.fingerprint(f) == sarif.fingerprint(replace(f, location=Location("./" + f.location.file, 8)))
    assert sarif.fingerprint(f) == sarif.fingerprint(replace(f, message=f.message.replace("43200", "7200")))


def test_fingerprint_differs_for_another_resource_policy_or_file(report):
    f = pick(report, "SESSION-001")
    base = sarif.fingerprint(f)
    assert base != sarif.fingerprint(replace(f, resource_id="OtherRole"))
    assert base != sarif.fingerprint(replace(f, policy_id="TRUST-001"))
    assert base != sarif.fingerprint(replace(f, location=Location("stacks/other.yaml", 8)))
    assert base != sarif.fingerprint(replace(f, message="MaxSessionDuration is missing"))
    assert re.fullmatch(r"[0-9a-f]{64}", base)


def test_fingerprints_are_unique_within_a_report(report):
    f = pick(report, "TRUST-001")  # "Statement 0 ..." — a second statement differs only in digits
    twin = replace(f, message=f.message.replace("Statement 0", "Statement 1"))
    prints = sarif.fingerprints([f, twin])
    assert prints[0] == sarif.fingerprint(f) and prints[0] != prints[1]
    assert prints == sarif.fingerprints([f, replace(twin, location=Location(f.location.file, 40))])


def test_relative_path():
    cwd = os.getcwd()
    assert sarif.relative_path("./stacks/a.yaml") == "stacks/a.yaml"
    assert sarif.relative_path(os.path.join(cwd, "stacks", "a.yaml")) == "stacks/a.yaml"
    assert sarif.relative_path("/elsewhere/a.yaml", cwd="/work/repo") == "/elsewhere/a.yaml"
    assert sarif.relative_path("/work/repo/infra/a.tf", cwd="/work/repo") == "infra/a.tf"
    assert sarif.relative_path("infra\\mod\\main.tf") == "infra/mod/main.tf"


# --- JUnit --------------------------------------------------------------------------------------


def test_junit_parses_and_counts_add_up(report):
    root = ET.fromstring(junit.render(report).encode("utf-8"))
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(len(c.findall("failure")) for c in cases),
            "errors": sum(len(c.findall("error")) for c in cases),
            "skipped": sum(len(c.findall("skipped")) for c in cases),
        }
        assert {k: int(suite.get(k)) for k in counted} == counted, suite.get("name")
        for k in totals:
            totals[k] += counted[k]
    assert {k: int(root.get(k)) for k in totals} == totals
    # 2 passing pairs are plain testcases; the skipped README.md is a skipped testcase of "skipped files"
    assert totals == {"tests": 11, "failures": 5, "errors": 2, "skipped": 2}
    passing = [c for c in root.iter("testcase") if not list(c)]
    assert sorted(c.get("name") for c in passing) == ["AppServer (AWS::EC2::Instance)", "aws_iam_role.analyst (aws_iam_role)"]


def test_junit_content(report):
    root = ET.fromstring(junit.render(report).encode("utf-8"))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    # every scanned file (even without findings) and every unreadable file; skipped files in a suite of their own
    assert set(suites) == {"stacks/broken.yaml", "stacks/vendor.yaml", "tf/main.tf", "tf/outputs.tf", "skipped files"}
    (readme,) = suites["skipped files"].findall("testcase")
    assert readme.get("name") == "README.md" and readme.find("skipped").get("message") == "not a template file type"
    counts = {p.get("name"): p.get("value") for p in suites["skipped files"].iter("property")}
    assert counts == {"files.scanned": "3", "files.skipped": "1", "files.error": "1"}
    broken = suites["stacks/broken.yaml"].findall("testcase")
    assert len(broken) == 1 and broken[0].find("error").get("message") == "mapping values are not allowed here"

    trust = next(c for c in suites["stacks/vendor.yaml"] if c.get("classname") == "TRUST-001" and c.find("failure") is not None)
    assert trust.get("name") == "VendorRole (AWS::IAM::Role)"
    failure = trust.find("failure")
    assert failure.get("type") == "high"
    assert failure.text.splitlines()[0] == "stacks/vendor.yaml:13"
    assert failure.text.splitlines()[-1] == "Fix: Fix TRUST-001: use a role."
    skipped = next(c for c in suites["stacks/vendor.yaml"] if c.find("skipped") is not None)
    assert skipped.get("name") == "PartnerRole (AWS::IAM::Role)"
    error = next(c for c in suites["tf/main.tf"] if c.find("error") is not None)
    assert error.get("classname") == "WORKLOAD-001" and "KeyError" in error.find("error").get("message")


def test_junit_survives_control_characters(report):
    f = replace(report.findings[0], message="bad \x00\x1b value")
    root = ET.fromstring(junit.render(replace(report, findings=(f,))).encode("utf-8"))
    assert root.get("failures") == "1"


# --- GitLab Code Quality ------------------------------------------------------------------------


def test_gitlab_code_quality(report):
    every = json.loads(gitlab.render(report))
    # the unreadable and the skipped file are issues too, after the findings
    assert [(i["check_name"], i["severity"], i["location"]["path"]) for i in every[5:]] == [
        (gitlab.LOAD_ERROR, "major", "stacks/broken.yaml"),
        (gitlab.SKIPPED_FILE, "info", "README.md"),
    ]
    issues = every[:5]
    assert isinstance(issues, list) and len(issues) == 5
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["description"].startswith(issue["check_name"] + ": ")
        assert isinstance(issue["location"]["path"], str) and issue["location"]["lines"]["begin"] >= 1
    assert {i["check_name"]: i["severity"] for i in issues} == {
        "WORKLOAD-001": "critical",
        "TRUST-001": "major",
        "SESSION-001": "minor",
        "TAG-001": "info",
    }
    sarif_prints = [r["partialFingerprints"]["iacValidator/v1"] for r in json.loads(sarif.render(report))["runs"][0]["results"]]
    assert [i["fingerprint"] for i in issues] == sarif_prints
    assert len(set(sarif_prints)) == len(sarif_prints)


def test_gitlab_line_unknown_is_line_one(report):
    f = replace(report.findings[0], location=Location("a.yaml", None))
    assert json.loads(gitlab.render(replace(report, findings=(f,))))[0]["location"]["lines"] == {"begin": 1}


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_top_and_sections(report):
    md = markdown.render(report)
    lines = md.splitlines()
    assert lines[1].startswith("## ❌ ") and "2 finding(s) at or above high" in lines[1]
    assert "Score 22/100 · grade F" in md and "1 critical" in md and "2 medium" in md
    table = [line for line in lines if line.startswith("| ")][1:]
    assert [row.split(" | ")[1] for row in table] == ["WORKLOAD-001", "TRUST-001", "SESSION-001", "SESSION-001", "TAG-001"]
    assert "[stacks/vendor.yaml:13](stacks/vendor.yaml#L13)" in md
    assert "no owner tag \\| Tags is empty" in md  # a pipe in a cell is escaped
    assert all(len(re.split(r"(?<!\\)\|", row)) == 7 for row in table)  # 5 cells per row
    assert md.count("<details>") == 5 and md.count("</details>") == 5  # TRUST, WORKLOAD, SESSION, TAG; skipped files
    assert "3 files scanned · 1 skipped · 1 could not be read" in md
    assert "- `README.md`: not a template file type" in md
    assert "**Unresolved:** 1 check" in md
    assert "### Errors (2)" in md and "mapping values are not allowed here" in md
    assert "**Skipped:** 1 file" in md


def test_markdown_gate_passed(report):
    md = markdown.render(replace(report, findings=(), errors=(), gate_passed=True, gate_reasons=()))
    assert md.splitlines()[1] == "## ✅ iac-validator: gate passed"
    assert "No failing findings." in md and md.count("<details>") == 1  # the skipped files only


def many_findings_report(n: int = 500, policies: int = 40) -> Report:
    long_text = "Temporary credentials expire; long-term keys do not. " * 12
    pols = tuple(
        _policy(
            f"BULK-{i:03d}",
            f"Bulk policy number {i}",
            list(Severity)[i % 4],
            "BULK",
            rationale=long_text,
            remediation=Remediation(text=long_text, cloudformation="Key: value\n" * 15, terraform="key = 1\n" * 15),
        )
        for i in range(policies)
    )
    findings = tuple(
        Finding(
            policy_id=pols[i % policies].id,
            title=pols[i % policies].title,
            severity=pols[i % policies].severity,
            outcome=Outcome.FAIL,
            message=f"resource {i} fails check | with a pipe and a long explanation " + "x" * 80,
            resource_id=f"Role{i}",
            resource_type="AWS::IAM::Role",
            format=Format.CLOUDFORMATION,
            location=Location(f"stacks/stack{i % 25}.yaml", 10 + i),
            remediation="Use a role.",
        )
        for i in range(n)
    )
    return replace(fixture_report(), findings=findings, policies=pols)


def test_markdown_stays_readable_at_500_findings():
    md = markdown.render(many_findings_report())
    rows = [line for line in md.splitlines() if line.startswith("| ") and "stack" in line]
    assert len(rows) == markdown.MAX_ROWS == 50
    assert "… and 450 more failures" in md
    assert md.count("<details>") <= markdown.MAX_POLICIES
    assert "more policies" in md
    assert len(md.encode("utf-8")) < 60_000
    assert rows[0].startswith("| 🟥 critical")  # worst first


# --- end to end ---------------------------------------------------------------------------------

FAILING_TEMPLATE = """\
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


def test_end_to_end_every_format(tmp_path):
    (tmp_path / "vendor.yaml").write_text(FAILING_TEMPLATE)
    (tmp_path / "notes.txt").write_text("not a template")
    result = run(Config(paths=(str(tmp_path),)))
    assert result.findings
    outputs = {fmt: FORMATS[fmt](result) for fmt in ("sarif", "junit", "markdown", "gitlab")}
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(outputs["sarif"]))
    assert int(ET.fromstring(outputs["junit"].encode()).get("failures")) == len(result.findings)
    issues = json.loads(outputs["gitlab"])
    assert len([i for i in issues if i["check_name"] != gitlab.SKIPPED_FILE]) == len(result.findings)
    assert [i["location"]["path"].endswith("notes.txt") for i in issues if i["check_name"] == gitlab.SKIPPED_FILE] == [True]
    assert "## ❌" in outputs["markdown"]


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown", "gitlab"])
def test_cli_formats(tmp_path, fmt):
    (tmp_path / "vendor.yaml").write_text(FAILING_TEMPLATE)
    out = tmp_path / f"report.{fmt}"
    done = CliRunner().invoke(app, ["scan", str(tmp_path / "vendor.yaml"), "--format", fmt, "--output", str(out)])
    assert done.exit_code == 1, done.output
    assert out.read_text(encoding="utf-8").strip()


def test_sarif_policy_error_without_failures(report):
    only_error = tuple(f for f in report.findings if f.outcome is Outcome.ERROR)
    doc = json.loads(sarif.render(replace(report, findings=only_error, errors=())))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    run_ = doc["runs"][0]
    assert run_["results"] == [] and run_["tool"]["driver"]["rules"] == []
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    descriptors = run_["tool"]["driver"]["notifications"]
    (note,) = [n for n in notes if descriptors[n["descriptor"]["index"]]["id"] == "policy-error"]
    assert "associatedRule" not in note
    assert run_["tool"]["driver"]["notifications"][note["descriptor"]["index"]]["id"] == "policy-error"
