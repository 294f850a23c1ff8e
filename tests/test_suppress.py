"""Waivers: inline (CloudFormation Metadata, Terraform comments) and in the configuration; expiry,
stale waivers, audit mode, `waivers list`, and how every output marks waived findings.

The fixtures in fixtures/waivers/ are scanned with a fixed day, 2026-03-01 (`--today`)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from test_reporters import SARIF_SCHEMA, fixture_report
from typer.testing import CliRunner

from validator import suppress
from validator.cli import app
from validator.model import (
    BaselineEntry,
    Finding,
    Format,
    Location,
    Outcome,
    Resource,
    Scope,
    ScopeEntry,
    Severity,
    Waiver,
    WaiverSource,
    WaiverStatus,
    WaiverUse,
)
from validator.reporters import FORMATS, gitlab, junit, markdown, sarif

ROOT = Path(__file__).parents[1]
WAIVERS = ROOT / "fixtures" / "waivers"
VENDOR = WAIVERS / "cloudformation" / "vendor.yaml"
MALFORMED = WAIVERS / "cloudformation" / "malformed.yaml"
MAIN_TF = WAIVERS / "terraform" / "main.tf"
GOLDEN = Path(__file__).parent / "golden"
REPORT_SCHEMA = json.loads((ROOT / "validator" / "reporters" / "report.schema.json").read_text())
TODAY = "2026-03-01"


def scan(*args: str, today: str = TODAY):
    return CliRunner().invoke(app, ["scan", *args, "--today", today])


def scan_json(*args: str, today: str = TODAY) -> tuple[int, dict]:
    result = scan(*args, "--format", "json", today=today)
    data = json.loads(result.stdout)
    jsonschema.validate(data, REPORT_SCHEMA)
    return result.exit_code, data


def rows(items: list[dict]) -> set[tuple[str, str]]:
    return {(f["policy_id"], f["resource"]["id"]) for f in items}


# --- behaviour through the CLI ------------------------------------------------------------------


def test_expired_waiver_fails_again_and_the_report_says_when():
    result = scan(str(VENDOR))
    assert "ReportingRole" in result.output and "MaxSessionDuration is 43200 s" in result.output
    assert "Waiver expired on 2026-01-31" in result.output
    assert f"{VENDOR.relative_to(Path.cwd()) if VENDOR.is_relative_to(Path.cwd()) else VENDOR}:29" in result.output

    code, data = scan_json(str(VENDOR))
    (expired,) = [f for f in data["findings"] if f["resource"]["id"] == "ReportingRole"]
    assert expired["policy_id"] == "SESSION-001" and expired["outcome"] == "fail"
    assert expired["waiver"]["status"] == "expired"
    assert expired["waiver"]["note"] == "waiver expired on 2026-01-31"
    assert expired["waiver"]["expires"] == "2026-01-31" and expired["waiver"]["location"]["line"] == 29
    assert data["summary"]["findings"]["medium"] == 1  # it counts again
    assert data["summary"]["expired_waivers"] == 1
    assert code == 0  # medium is under --fail-on high


def test_a_waiver_works_through_its_last_day():
    _, data = scan_json(str(VENDOR), today="2026-01-31")
    assert ("SESSION-001", "ReportingRole") in rows(data["waived"])
    assert ("SESSION-001", "ReportingRole") not in rows(data["findings"])


def test_active_waiver_does_not_count_against_score_or_gate():
    code, data = scan_json(str(VENDOR))
    assert rows(data["waived"]) == {("TRUST-001", "VendorRole")}
    waived = data["waived"][0]
    assert waived["waiver"] | {"location": None} == {
        "policy_id": "TRUST-001",
        "reason": "Vendor X is migrating to external ids (SEC-123)",
        "expires": "2027-03-31",
        "owner": "vendor-team",
        "source": "inline",
        "location": None,
        "resources": ["VendorRole"],
        "resource_glob": None,
        "path_glob": None,
        "status": "active",
    }
    assert waived["waiver"]["location"]["line"] == 10
    assert data["summary"]["findings"]["high"] == 0 and data["summary"]["waived"] == 1
    assert data["summary"]["score"] == 100 - 8  # only the expired SESSION-001 counts
    assert code == 0 and data["summary"]["gate"]["passed"] is True


def test_waiver_without_reason_is_an_error_with_file_and_line_and_waives_nothing():
    result = scan(str(MALFORMED))
    assert result.exit_code == 2
    assert "malformed.yaml:9: malformed waiver: no reason" in result.output
    assert "1 malformed waiver(s) (they waive nothing)" in result.output
    code, data = scan_json(str(MALFORMED))
    assert rows(data["findings"]) == {("TRUST-001", "PartnerRole")}  # still fails
    assert data["waived"] == []
    (error,) = data["errors"]
    assert error["line"] == 9 and error["file"].endswith("malformed.yaml")


def test_stale_waivers_are_listed():
    result = scan(str(WAIVERS))
    out = result.output
    assert "Waivers that waive nothing (2)" in out
    assert "vendor.yaml:48  SESSION-001 on AuditRole: stale" in out
    assert ".iac-validator.yaml:14  TRUST-001 on resource LegacyPartnerRole: stale" in out
    _, data = scan_json(str(WAIVERS))
    stale = {(w["policy_id"], w["location"]["line"]) for w in data["waivers"] if w["status"] == "stale"}
    assert stale == {("SESSION-001", 48), ("TRUST-001", 14)}
    assert data["summary"]["stale_waivers"] == 2


def test_terraform_comment_waivers_above_a_block_and_on_an_attribute():
    _, data = scan_json(str(WAIVERS / "terraform"))
    assert rows(data["waived"]) == {("TRUST-001", "aws_iam_role.partner"), ("SESSION-001", "aws_iam_role.batch_nightly")}
    by_resource = {f["resource"]["id"]: f["waiver"] for f in data["waived"]}
    assert by_resource["aws_iam_role.partner"]["location"]["line"] == 3  # the comment above the block
    assert by_resource["aws_iam_role.partner"]["owner"] == "partner-team"
    assert by_resource["aws_iam_role.batch_nightly"]["source"] == "config"  # the configuration's glob
    (analyst,) = data["findings"]  # the `//` comment on the attribute expired on 2026-01-31
    assert analyst["resource"]["id"] == "aws_iam_role.analyst"
    assert analyst["waiver"]["note"] == "waiver expired on 2026-01-31" and analyst["waiver"]["location"]["line"] == 14


def test_audit_mode_ignores_inline_waivers_but_not_the_configuration():
    code, data = scan_json(str(WAIVERS / "cloudformation" / "vendor.yaml"), str(MAIN_TF), "--no-inline-waivers")
    assert ("TRUST-001", "VendorRole") in rows(data["findings"])
    assert ("TRUST-001", "aws_iam_role.partner") in rows(data["findings"])
    assert rows(data["waived"]) == {("SESSION-001", "aws_iam_role.batch_nightly")}
    assert all(w["source"] == "config" for w in data["waivers"])
    assert code == 1


def test_waivers_list_prints_every_waiver_with_its_status():
    result = CliRunner().invoke(app, ["waivers", "list", str(WAIVERS), "--today", TODAY])
    assert result.exit_code == 2  # malformed.yaml
    out = result.output
    lines = out.splitlines()
    assert any(line.startswith("active   TRUST-001") and "vendor.yaml:10" in line for line in lines)
    assert any(line.startswith("expired  SESSION-001") and "vendor.yaml:29" in line for line in lines)
    assert any(line.startswith("stale    SESSION-001") and "vendor.yaml:48" in line for line in lines)
    assert any(line.startswith("expired  SESSION-001") and "main.tf:14" in line for line in lines)
    assert "owner: vendor-team" in out and "expires: 2027-03-31" in out and "matches: 0 finding(s) (matches nothing)" in out
    assert "malformed.yaml:9: malformed waiver: no reason" in out
    assert lines[-1] == "7 waiver(s): 3 active, 2 expired, 2 stale; 1 malformed"

    listed = CliRunner().invoke(app, ["waivers", "list", str(WAIVERS), "--format", "json", "--today", TODAY])
    doc = json.loads(listed.stdout)
    states = sorted((w["policy_id"], w["source"], w["status"], w["matches"]) for w in doc["waivers"])
    assert states == [
        ("SESSION-001", "config", "active", 1),
        ("SESSION-001", "inline", "expired", 1),
        ("SESSION-001", "inline", "expired", 1),
        ("SESSION-001", "inline", "stale", 0),
        ("TRUST-001", "config", "stale", 0),
        ("TRUST-001", "inline", "active", 1),
        ("TRUST-001", "inline", "active", 1),
    ]
    assert len(doc["errors"]) == 1
    config_waiver = next(w for w in doc["waivers"] if w["source"] == "config" and w["status"] == "active")
    assert config_waiver["target"] == "resource aws_iam_role.batch* and path terraform/*.tf"
    assert config_waiver["owner"] == "data-platform"


def test_waived_findings_are_marked_in_every_output(tmp_path):
    paths = [str(VENDOR), str(MAIN_TF)]
    outputs = {fmt: tmp_path / f"report.{fmt}" for fmt in ("sarif", "junit", "markdown", "gitlab", "json")}
    result = scan(*paths, *(arg for fmt, p in outputs.items() for arg in ("--output", f"{fmt}={p}")))
    assert result.exit_code == 0, result.output  # the high findings are waived; two medium ones fail again
    assert "Waived (3)" in result.output

    doc = json.loads(outputs["sarif"].read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    results = doc["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert {r["locations"][0]["logicalLocations"][0]["name"] for r in suppressed} == {
        "VendorRole",
        "aws_iam_role.partner",
        "aws_iam_role.batch_nightly",
    }
    vendor = next(r for r in suppressed if r["locations"][0]["logicalLocations"][0]["name"] == "VendorRole")
    (s,) = vendor["suppressions"]
    assert s["kind"] == "inSource" and s["status"] == "accepted"
    assert s["justification"] == "Vendor X is migrating to external ids (SEC-123) (waived until 2027-03-31, owner vendor-team)"
    assert s["location"]["physicalLocation"]["region"] == {"startLine": 10}
    batch = next(r for r in suppressed if "batch" in r["locations"][0]["logicalLocations"][0]["name"])
    assert batch["suppressions"][0]["kind"] == "external"
    expired = next(r for r in results if r["locations"][0]["logicalLocations"][0]["name"] == "ReportingRole")
    assert "suppressions" not in expired and expired["properties"]["waiverExpired"] == "2026-01-31"

    root = ET.fromstring(outputs["junit"].read_bytes())
    skipped = {c.get("name"): c.find("skipped").get("message") for c in root.iter("testcase") if c.find("skipped") is not None}
    assert skipped["VendorRole (AWS::IAM::Role)"] == "waived until 2027-03-31: Vendor X is migrating to external ids (SEC-123)"
    failure = next(
        c for c in root.iter("testcase") if c.get("name") == "ReportingRole (AWS::IAM::Role)" and c.get("classname") == "SESSION-001"
    ).find("failure")
    assert "Waiver expired on 2026-01-31" in failure.text

    md = outputs["markdown"].read_text()
    assert "3 waived (not counted in the score or gate)" in md and "2 expired waivers" in md
    assert "<summary>Waived: 3 findings (not counted)</summary>" in md
    assert "**(waiver expired on 2026-01-31)**" in md

    issues = json.loads(outputs["gitlab"].read_text())  # Code Quality has no suppressions: waived ones are left out
    assert {i["check_name"] for i in issues} == {"SESSION-001"} and len(issues) == 2

    data = json.loads(outputs["json"].read_text())
    jsonschema.validate(data, REPORT_SCHEMA)
    assert len(data["waived"]) == 3


# --- pure functions -----------------------------------------------------------------------------


HERE = Location("main.tf", 3)


def test_parse_comment():
    ids, fields, problems = suppress.parse_comment('TRUST-001,SESSION-001 expires=2027-03-31 reason="vendor X migrating" owner=x')
    assert ids == ["TRUST-001", "SESSION-001"] and problems == []
    assert fields == {"expires": "2027-03-31", "reason": "vendor X migrating", "owner": "x"}
    assert suppress.parse_comment('TRUST-001 reason="unterminated')[2] == ["reason: unterminated quote"]


@pytest.mark.parametrize(
    "fields, allow_open, problem",
    [
        ({"id": "TRUST-001", "expires": "2027-03-31"}, False, "no reason"),
        ({"id": "TRUST-001", "reason": "  "}, True, "no reason"),
        ({"id": "TRUST-001", "reason": "r"}, False, "no expiry date"),
        ({"id": "TRUST-001", "reason": "r", "expires": "2027-02-30"}, False, "'2027-02-30' is not a date"),
        ({"id": "TRUST-001", "reason": "r", "expires": "next year"}, False, "is not a date"),
        ({"id": "trust", "reason": "r", "expires": "2027-01-01"}, False, "'TRUST' is not a policy id"),
        ({"reason": "r", "expires": "2027-01-01"}, False, "no policy id"),
        ({"id": "TRUST-001", "reason": "r", "expires": "2027-01-01", "until": "x"}, False, "unknown key until"),
    ],
)
def test_malformed_waivers(fields, allow_open, problem):
    waiver, error = suppress.make_waiver(fields, WaiverSource.INLINE, HERE, allow_open)
    assert waiver is None and error is not None
    assert error.file == "main.tf" and error.line == 3
    assert error.message.startswith("malformed waiver: ") and problem in error.message


def test_open_ended_waivers_only_when_allowed():
    waiver, error = suppress.make_waiver({"id": "trust-001", "reason": "r"}, WaiverSource.INLINE, HERE, True)
    assert error is None and waiver.expires is None and waiver.policy_id == "TRUST-001"
    assert not waiver.expired(date(2999, 1, 1))
    waiver, _ = suppress.make_waiver({"id": "TRUST-001", "reason": "r", "expires": date(2027, 3, 31)}, WaiverSource.INLINE, HERE)
    assert waiver.expires == date(2027, 3, 31)


def _tf_resource(address: str, line: int, file: str = "main.tf") -> Resource:
    return Resource(Format.TERRAFORM, "aws_iam_role", address, {}, Location(file, line))


TF = """\
locals {
  # iac-validator:waive TRUST-001 expires=2027-01-01 reason="inside locals"
  x = 1
}

# iac-validator:waive TRUST-001 expires=2027-01-01 reason="above"
# another comment between the waiver and the block
resource "aws_iam_role" "a" {
  name = "a" # iac-validator:waive SESSION-001 expires=2027-01-01 reason="trailing"
  policy = <<EOT
# iac-validator:waive WORKLOAD-001 expires=2027-01-01 reason="in a heredoc: not a comment"
EOT
  /* iac-validator:waive SESSION-001 expires=2027-02-02 reason="block comment" */
  description = "d"
}
// iac-validator:waive TRUST-001 reason="no expiry"
resource "aws_iam_role" "b" {
}
"""


def test_terraform_waivers_attach_to_the_block_they_sit_on_or_in():
    resources = [_tf_resource("aws_iam_role.a", 8), _tf_resource("aws_iam_role.b", 17)]
    waivers, errors = suppress.terraform_waivers("main.tf", TF, resources)
    found = {(w.location.line, w.policy_id, w.resources, w.reason) for w in waivers}
    assert found == {
        (2, "TRUST-001", (), "inside locals"),  # a locals block judges nothing: stale
        (6, "TRUST-001", ("aws_iam_role.a",), "above"),
        (9, "SESSION-001", ("aws_iam_role.a",), "trailing"),
        (13, "SESSION-001", ("aws_iam_role.a",), "block comment"),
    }
    assert [(e.line, e.message.split(":")[1].strip()) for e in errors] == [(16, "no expiry date (expires")]


def test_terraform_waivers_name_every_instance_of_the_block():
    resources = [_tf_resource('aws_iam_role.a["dev"]', 8), _tf_resource('aws_iam_role.a["prod"]', 8)]
    waivers, _ = suppress.terraform_waivers("main.tf", TF, resources)
    above = next(w for w in waivers if w.location.line == 6)
    assert above.resources == ('aws_iam_role.a["dev"]', 'aws_iam_role.a["prod"]')


def _finding(policy: str, resource: str, file: str = "main.tf", line: int = 9, outcome: Outcome = Outcome.FAIL) -> Finding:
    return Finding(policy, "t", Severity.HIGH, outcome, "m 1", resource, "aws_iam_role", Format.TERRAFORM, Location(file, line))


def _waiver(policy: str = "TRUST-001", expires: date | None = date(2026, 3, 1), **kw: object) -> Waiver:
    base = {"source": WaiverSource.INLINE, "location": Location("main.tf", 1), "resources": ("aws_iam_role.a",)}
    return Waiver(policy, "because", expires, **(base | kw))


def test_apply_waivers_active_expired_stale_and_other_outcomes():
    findings = [
        _finding("TRUST-001", "aws_iam_role.a"),
        _finding("SESSION-001", "aws_iam_role.a"),
        _finding("TRUST-001", "aws_iam_role.b"),
        _finding("TRUST-001", "aws_iam_role.a", outcome=Outcome.SKIP),
    ]
    waivers = [_waiver(), _waiver("SESSION-001", date(2026, 2, 28)), _waiver("WORKLOAD-001")]
    result = suppress.apply_waivers(findings, waivers, date(2026, 3, 1))
    assert [(f.policy_id, f.resource_id) for f in result.waived] == [("TRUST-001", "aws_iam_role.a")]
    assert result.waived[0].waiver == waivers[0] and not result.waived[0].waiver_expired
    session = next(f for f in result.findings if f.policy_id == "SESSION-001")
    assert session.waiver == waivers[1] and session.waiver_expired
    assert [(u.status, u.matches) for u in result.uses] == [
        (WaiverStatus.ACTIVE, 1),
        (WaiverStatus.EXPIRED, 1),
        (WaiverStatus.STALE, 0),
    ]
    assert len(result.findings) == 3  # the SKIP outcome is never waived


def test_inline_waivers_only_match_their_own_file():
    other = _finding("TRUST-001", "aws_iam_role.a", file="other/main.tf")
    assert suppress.apply_waivers([other], [_waiver()], date(2026, 1, 1)).waived == ()


def test_config_waivers_match_by_policy_resource_and_path_globs(tmp_path):
    base = str(tmp_path)
    f = _finding("TRUST-001", "module.app.aws_iam_role.ci[0]", file=os.path.join(base, "infra", "app", "main.tf"))
    cases = {
        ("TRUST-*", "module.app.*", ""): True,
        ("TRUST-001", "module.app.aws_iam_role.ci[0]", ""): True,  # exact address with brackets
        ("TRUST-001", "", "infra/**"): True,
        ("TRUST-001", "", "infra/*.tf"): False,
        ("TRUST-001", "", "main.tf"): True,  # no slash: any depth
        ("SESSION-001", "module.app.*", ""): False,
        ("TRUST-001", "module.other.*", "infra/**"): False,
    }
    for (policy, resource, path), expected in cases.items():
        w = _waiver(policy, source=WaiverSource.CONFIG, resources=(), resource_glob=resource, path_glob=path)
        assert suppress.waiver_matches(w, f, base) is expected, (policy, resource, path)


def test_cloudformation_waiver_lines():
    text = VENDOR.read_text()
    resource = Resource(
        Format.CLOUDFORMATION,
        "AWS::IAM::Role",
        "ReportingRole",
        {},
        Location(str(VENDOR), 24),
        metadata={"iac-validator": {"waivers": [{"id": "SESSION-001", "reason": "r", "expires": "2026-01-31"}]}},
    )
    (waiver,), errors = suppress.cloudformation_waivers(resource, text)
    assert errors == [] and waiver.location.line == 29 and waiver.resources == ("ReportingRole",)
    bad = replace(resource, metadata={"iac-validator": {"waiver": []}})
    _, errors = suppress.cloudformation_waivers(bad, text)
    assert errors and "must be a mapping with a waivers list" in errors[0].message


# --- golden files for the suppressed variant of the shared fixture report ------------------------


def suppressed_report():
    """The shared fixture report of test_reporters with one finding waived (inline), one baselined,
    one whose waiver expired, a stale configuration waiver, a fixed baseline entry and a scope."""
    report = fixture_report()
    session = next(f for f in report.findings if f.policy_id == "SESSION-001" and f.location.file == "stacks/vendor.yaml")
    tag = next(f for f in report.findings if f.policy_id == "TAG-001")
    trust = next(f for f in report.findings if f.policy_id == "TRUST-001")
    active = Waiver(
        "SESSION-001", "Batch jobs need long sessions (OPS-7)", date(2027, 3, 31), WaiverSource.INLINE,
        Location("stacks/vendor.yaml", 6), owner="data-team", resources=("VendorRole",),
    )
    expired = Waiver(
        "TRUST-001", "Vendor X migrating", date(2026, 1, 31), WaiverSource.INLINE, Location("stacks/vendor.yaml", 10),
        resources=("VendorRole",),
    )
    stale = Waiver(
        "WORKLOAD-001", "Old CI user", date(2026, 12, 31), WaiverSource.CONFIG, Location(".iac-validator.yaml", 12),
        resource_glob="aws_iam_user.old*",
    )
    findings = tuple(
        replace(f, waiver=expired, waiver_expired=True) if f is trust else f
        for f in report.findings
        if f is not session and f is not tag
    )
    return replace(
        report,
        findings=findings,
        waived=(replace(session, waiver=active),),
        baselined=(tag,),
        fixed=(BaselineEntry("0" * 64, "SESSION-001", "tf/old.tf", "aws_iam_role.gone", "max_session_duration is 0 s"),),
        waivers=(
            WaiverUse(active, WaiverStatus.ACTIVE, 1),
            WaiverUse(expired, WaiverStatus.EXPIRED, 1),
            WaiverUse(stale, WaiverStatus.STALE, 0),
        ),
        baseline=".iac-validator-baseline.json",
        scope=Scope("origin/main", ("stacks/vendor.yaml",), (ScopeEntry("stacks/vendor.yaml", "changed"),)),
    )


@pytest.mark.parametrize(
    "fmt, name",
    [
        ("sarif", "suppressed.sarif"),
        ("junit", "suppressed.junit.xml"),
        ("markdown", "suppressed.md"),
        ("gitlab", "suppressed.gitlab.json"),
        ("json", "suppressed.json"),
    ],
)
def test_golden_suppressed(fmt, name):
    out = FORMATS[fmt](suppressed_report())
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(out.encode("utf-8"))
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert out == path.read_bytes().decode("utf-8"), f"{name} changed: review, then UPDATE_GOLDEN=1 to accept"


def test_suppressed_sarif_is_valid_and_marks_waived_and_baselined():
    doc = json.loads(sarif.render(suppressed_report()))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == 5  # 3 failing + 1 waived + 1 baselined
    by_rule = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r for r in results}
    waived = by_rule[("SESSION-001", "stacks/vendor.yaml")]
    assert waived["suppressions"] == [
        {
            "kind": "inSource",
            "status": "accepted",
            "justification": "Batch jobs need long sessions (OPS-7) (waived until 2027-03-31, owner data-team)",
            "location": {"physicalLocation": {"artifactLocation": {"uri": "stacks/vendor.yaml"}, "region": {"startLine": 6}}},
        }
    ]
    baselined = by_rule[("TAG-001", "stacks/vendor.yaml")]
    assert baselined["baselineState"] == "unchanged" and baselined["suppressions"][0]["kind"] == "external"
    assert "baseline" in baselined["suppressions"][0]["justification"]
    assert by_rule[("TRUST-001", "stacks/vendor.yaml")]["baselineState"] == "new"
    assert len({r["partialFingerprints"]["iacValidator/v1"] for r in results}) == 5


def test_suppressed_junit_markdown_gitlab():
    report = suppressed_report()
    root = ET.fromstring(junit.render(report).encode())
    # unresolved + waived + baselined, and the skipped README.md (a testcase of "skipped files")
    assert root.get("skipped") == "4" and root.get("failures") == "3"
    md = markdown.render(report)
    assert "1 waived · 1 baselined (not counted in the score or gate) · 1 fixed since the baseline" in md
    assert "1 stale waiver · 1 expired waiver" in md and "Scope: files changed since `origin/main`" in md
    assert "**Waivers that waive nothing** (1)" in md
    assert len([i for i in json.loads(gitlab.render(report)) if not i["check_name"].startswith("iac-validator:")]) == 3


def test_a_waiver_in_a_local_module_covers_every_call(tmp_path):
    module = tmp_path / "modules" / "role"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        '# iac-validator:waive SESSION-001 expires=2027-03-31 reason="module-wide exception"\n'
        'resource "aws_iam_role" "analyst" {\n  max_session_duration = 7200\n}\n'
    )
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "main.tf").write_text(
        'module "a" {\n  source = "../modules/role"\n}\nmodule "b" {\n  source = "../modules/role"\n}\n'
    )
    (tmp_path / ".iac-validator.yaml").write_text("policies:\n  enable: [SESSION-001]\n")
    _, data = scan_json(str(tmp_path))
    assert data["findings"] == []
    assert data["waived"] and all("aws_iam_role.analyst" in f["resource"]["id"] for f in data["waived"])
    (waiver,) = data["waivers"]
    assert waiver["status"] == "active" and waiver["matches"] == len(data["waived"])
