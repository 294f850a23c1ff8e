"""Nested stacks: local TemplateURLs are loaded with the parent's Parameters; the rest is a note."""

from __future__ import annotations

import textwrap
from pathlib import Path

from validator.config import Config
from validator.model import FileStatus, Finding, Outcome, Report
from validator.run import run

NESTED = Path(__file__).parents[1] / "fixtures" / "cloudformation" / "nested"
NOTE = "cfn:nested-stack"


def _scan(*paths: Path, **config) -> Report:
    return run(Config(paths=tuple(str(p) for p in paths), fail_on=None, **config))


def _failing(report: Report, policy_id: str) -> list[Finding]:
    return [f for f in report.findings if f.policy_id == policy_id]


def _notes(report: Report) -> list[str]:
    return [f.message for f in report.unresolved if f.policy_id == NOTE]


def test_children_are_judged_with_the_parameters_their_parent_passes():
    report = _scan(NESTED)
    assert report.errors == ()
    (trust,) = _failing(report, "TRUST-001")
    assert Path(trust.location.file).name == "vendor-role.yaml" and trust.resource_id == "VendorRole"
    assert "account 111122223333" in trust.message  # VendorAccount has no default: the parent gave it
    (session,) = _failing(report, "SESSION-001")  # Analysts passes 43200, Operators 3600
    assert Path(session.location.file).name == "session-role.yaml"
    assert session.message == "MaxSessionDuration is 43200 s, limit 3600 s"
    assert [Path(r.path).name for r in report.files] == ["parent.yaml", "session-role.yaml", "vendor-role.yaml"]
    assert {r.status for r in report.files} == {FileStatus.SCANNED}


def test_remote_and_unresolved_template_urls_are_listed_as_not_analysed():
    notes = _notes(_scan(NESTED))
    assert notes == [
        "nested stack Shared: remote template https://s3.amazonaws.com/acme-templates/shared/network.yaml is not analysed (only local template paths are)",
        "nested stack Generated: TemplateURL could not be resolved (Fn::Sub uses unresolved Artifacts.RegionalDomainName); its template is not analysed",
    ]
    report = _scan(NESTED)
    lines = (NESTED / "parent.yaml").read_text().splitlines()
    for f in report.unresolved:
        assert f.outcome is Outcome.SKIP and "TemplateURL" in lines[f.location.line - 1]


def test_a_child_scanned_alone_uses_its_defaults(tmp_path):
    child = NESTED / "stacks" / "session-role.yaml"
    report = _scan(child, cfn_parameters={"SessionSeconds": "7200"})
    (session,) = _failing(report, "SESSION-001")
    assert session.message == "MaxSessionDuration is 7200 s, limit 3600 s"
    assert _failing(_scan(child), "SESSION-001") == []


def _write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


ROLE = """\
Parameters:
  Seconds: {Type: Number, Default: 3600}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: !Ref Seconds
"""


def _stack(name: str, url: str, params: str = "") -> str:
    return f"  {name}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n{params}"


def test_paths_outside_the_scan_missing_files_and_non_templates_are_refused(tmp_path):
    repo = tmp_path / "repo"
    _write(tmp_path, "outside.yaml", ROLE)
    _write(repo, "notes.yaml", "title: not a template\n")
    parent = _write(
        repo,
        "parent.yaml",
        "Resources:\n"
        + _stack("Escape", "../outside.yaml")
        + _stack("Missing", "nope.yaml")
        + _stack("Notes", "notes.yaml")
        + _stack("S3", "s3://bucket/key.yaml"),
    )
    report = _scan(repo)
    assert report.errors == ()
    notes = _notes(report)
    assert len(notes) == 4
    # a path that leaves the scanned tree is refused before anything looks at it (issue 8)
    assert notes[0] == "nested stack Escape: template ../outside.yaml is outside the scanned tree: refused, not read"
    assert "nested stack Missing: template" in notes[1] and "does not exist" in notes[1]
    assert "nested stack Notes: template" in notes[2] and "not one of the scanned" in notes[2]
    assert notes[3] == "nested stack S3: remote template s3://bucket/key.yaml is not analysed (only local template paths are)"
    assert all(Path(f.location.file) == parent for f in report.unresolved if f.policy_id == NOTE)
    assert _failing(report, "SESSION-001") == []  # outside.yaml was not loaded


def test_cycles_are_cut_and_every_file_is_reported_once(tmp_path):
    _write(tmp_path, "a.yaml", "Resources:\n" + _stack("B", "b.yaml", "      Parameters:\n        Seconds: 7200\n"))
    _write(tmp_path, "b.yaml", ROLE + _stack("A", "a.yaml"))
    report = _scan(tmp_path)
    assert report.errors == ()
    assert sorted(Path(r.path).name for r in report.files) == ["a.yaml", "b.yaml"]
    assert any("includes itself (a cycle)" in n for n in _notes(report))


def test_unresolved_parameters_reach_the_child_as_unknown(tmp_path):
    _write(tmp_path, "child.yaml", ROLE)
    _write(
        tmp_path,
        "parent.yaml",
        "Resources:\n  Other:\n    Type: AWS::S3::Bucket\n"
        + _stack("Child", "child.yaml", "      Parameters:\n        Seconds: !GetAtt Other.Arn\n"),
    )
    report = _scan(tmp_path)
    assert _failing(report, "SESSION-001") == []
    (unresolved,) = [f for f in report.unresolved if f.policy_id == "SESSION-001"]
    assert "set by the parent stack to an unresolved value" in unresolved.message  # not the child's default


def test_a_sam_application_with_a_local_location_is_a_nested_stack(tmp_path):
    _write(tmp_path, "apps/role.yaml", ROLE)
    _write(
        tmp_path,
        "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          RoleApp:
            Type: AWS::Serverless::Application
            Properties:
              Location: apps/role.yaml
              Parameters:
                Seconds: "43200"
          Marketplace:
            Type: AWS::Serverless::Application
            Properties:
              Location:
                ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/vendor-app
                SemanticVersion: 1.0.0
        """,
    )
    report = _scan(tmp_path)
    assert report.errors == ()
    (session,) = _failing(report, "SESSION-001")
    assert Path(session.location.file).name == "role.yaml"
    assert _notes(report) == ["nested stack Marketplace: an application from the AWS Serverless Application Repository is not analysed"]
