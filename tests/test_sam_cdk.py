"""SAM templates (expanded with cfn-lint's SAM transform) and CDK output (cdk.out/)."""

from __future__ import annotations

import json
import os
import textwrap
from datetime import date
from pathlib import Path

from validator.config import Config
from validator.discover import discover
from validator.loaders.cloudformation import load
from validator.model import FileStatus, Outcome, Reference, Report
from validator.run import run

SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: prod
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables:
        AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: src/orders/
      Policies:
        - S3ReadPolicy:
            BucketName: !Ref Bucket
        - AmazonDynamoDBReadOnlyAccess
        - Statement:
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: "*"
  Partner:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      Handler: partner.handler
      InlineCode: "def handler(event, context): pass"
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: arn:aws:iam::111122223333:root
            Action: sts:AssumeRole
  Bucket:
    Type: AWS::S3::Bucket
"""


def _line(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def _scan(*paths: Path, **config) -> Report:
    report = run(Config(paths=tuple(str(p) for p in paths), fail_on=None, **config))
    assert report.errors == ()
    return report


def test_sam_resources_are_expanded_with_globals_implicit_roles_and_policy_templates():
    template, errors = load("sam.yaml", SAM)
    assert errors == [] and template is not None and template.notes == ()
    resources = {r.id: r for r in template.resources}
    assert {"Orders", "OrdersRole", "Partner", "PartnerRole", "Bucket"} <= set(resources)
    orders = resources["Orders"]
    assert orders.type == "AWS::Lambda::Function"
    assert orders.properties["Environment"] == {"Variables": {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}}  # from Globals
    assert orders.properties["Role"] == Reference("Fn::GetAtt OrdersRole.Arn", target="OrdersRole", attribute="Arn")
    role = resources["OrdersRole"]
    assert role.type == "AWS::IAM::Role" and role.origin == "SAM Orders" and orders.origin == ""
    assert "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess" in role.properties["ManagedPolicyArns"]
    statements = [s for p in role.properties["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert any("s3:GetObject" in s["Action"] for s in statements)  # the S3ReadPolicy template, expanded
    assert any(s.get("Action") == "sqs:SendMessage" for s in statements)
    assert template.relations["Orders"] == {"role": ("OrdersRole",)}


def test_expanded_resources_point_at_the_sam_resource_and_the_lines_written():
    template, _ = load("sam.yaml", SAM)
    resources = {r.id: r for r in template.resources}
    assert resources["Orders"].location.line == _line(SAM, "  Orders:")
    assert resources["OrdersRole"].location.line == _line(SAM, "  Orders:")
    assert resources["PartnerRole"].location.line == _line(SAM, "  Partner:")
    assert resources["Bucket"].location.line == _line(SAM, "  Bucket:")
    # A value copied from the template keeps its line; a value the transform made has none of its own.
    assert resources["Orders"].line_of(("Environment", "Variables", "AWS_ACCESS_KEY_ID")) == _line(SAM, "AWS_ACCESS_KEY_ID")
    assert resources["OrdersRole"].line_of(("AssumeRolePolicyDocument",)) == _line(SAM, "  Orders:")
    trust = ("AssumeRolePolicyDocument", "Statement", 0, "Principal")
    assert resources["PartnerRole"].line_of(trust) == _line(SAM, "Principal:")


def test_findings_on_expanded_resources_name_the_sam_resource(tmp_path):
    (tmp_path / "template.yaml").write_text(SAM, encoding="utf-8")
    report = _scan(tmp_path / "template.yaml")
    trust = [f for f in report.findings if f.policy_id == "TRUST-001"]
    assert [(f.resource_id, f.resource_type, f.location.line) for f in trust] == [
        ("PartnerRole (SAM Partner)", "AWS::IAM::Role", _line(SAM, "Principal:"))
    ]
    workload = [f for f in report.findings if f.policy_id == "WORKLOAD-005"]
    assert {(f.resource_id, f.location.line) for f in workload} == {
        ("Orders", _line(SAM, "AWS_ACCESS_KEY_ID")),
        ("Partner", _line(SAM, "AWS_ACCESS_KEY_ID")),
    }
    dev = _scan(tmp_path / "template.yaml", cfn_parameters={"Stage": "dev"})
    assert not [f for f in dev.findings if f.resource_id.startswith("Partner")]  # its condition is false


def test_a_failed_transform_falls_back_to_the_untransformed_template_with_a_note(tmp_path):
    text = SAM.replace("      CodeUri: src/orders/\n", "      CodeUri: src/orders/\n      Events:\n        Bad:\n          Type: NotAnEventType\n")
    text += "  AnalystRole:\n    Type: AWS::IAM::Role\n    Properties:\n      MaxSessionDuration: 43200\n"
    template, errors = load("sam.yaml", text)
    assert errors == [] and template is not None
    (note,) = template.notes
    assert note.policy_id == "cfn-lint:E0001" and note.outcome is Outcome.SKIP
    assert "NotAnEventType" in note.message and note.location.line == _line(text, "Transform:")
    assert {r.id: r.type for r in template.resources}["Orders"] == "AWS::Serverless::Function"
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    report = _scan(tmp_path / "template.yaml")
    assert [f.policy_id for f in report.unresolved if f.policy_id.startswith("cfn-lint")] == ["cfn-lint:E0001"]
    assert any(f.policy_id == "SESSION-001" and f.resource_id == "AnalystRole" for f in report.findings)
    assert not [f for f in report.findings if f.policy_id.startswith("cfn-lint")]  # a note, never a failure


def test_the_transform_leaves_the_process_environment_alone(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    load("sam.yaml", SAM)
    assert "AWS_DEFAULT_REGION" not in os.environ
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    load("sam.yaml", SAM)
    assert os.environ["AWS_DEFAULT_REGION"] == "eu-central-1"


def _cdk_template(stack: str, logical_id: str, construct: str) -> dict:
    return {
        "Resources": {
            logical_id: {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "MaxSessionDuration": 43200,
                    "AssumeRolePolicyDocument": {
                        "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}],
                        "Version": "2012-10-17",
                    },
                },
                "Metadata": {"aws:cdk:path": f"{stack}/{construct}/Resource"},
            },
        },
        "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}},
    }


def _cloud_assembly(root: Path) -> Path:
    out = root / "cdk.out"
    (out / "asset.1234abcd").mkdir(parents=True)
    (out / "asset.1234abcd" / "index.json").write_text('{"Resources": {}}')  # bundled code, whatever it holds
    (out / "asset.1234abcd" / "handler.py").write_text("def handler(event, context): pass\n")
    (out / "cdk.out").write_text('{"version":"36.0.0"}')
    (out / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"AppStack": {"type": "aws:cloudformation:stack"}}}))
    (out / "tree.json").write_text(json.dumps({"version": "tree-0.1", "tree": {"id": "App", "path": "", "children": {"Resources": {}}}}))
    (out / "AppStack.assets.json").write_text(json.dumps({"version": "36.0.0", "files": {}, "dockerImages": {}}))
    (out / "AppStack.template.json").write_text(json.dumps(_cdk_template("AppStack", "AppRole8D2C2A4B", "AppRole"), indent=1))
    stage = out / "assembly-Prod"
    stage.mkdir()
    (stage / "cdk.out").write_text('{"version":"36.0.0"}')
    (stage / "manifest.json").write_text("{}")
    (stage / "ProdAppStack.template.json").write_text(json.dumps(_cdk_template("Prod/AppStack", "AppRoleFFEE0011", "AppRole")))
    return out


def test_cdk_cloud_assembly_files_that_are_not_templates_are_skipped_with_a_reason(tmp_path):
    out = _cloud_assembly(tmp_path)
    plan = discover([str(out)])
    assert sorted(Path(s.path).name for s in plan.cloudformation) == ["AppStack.template.json", "ProdAppStack.template.json"]
    reasons = {Path(r.path).relative_to(out).as_posix(): r.reason for r in plan.records}
    assert reasons == {
        "asset.1234abcd": "directory excluded: CDK asset (bundled code or files of a cloud assembly), not templates",
        "cdk.out": "CDK cloud assembly version marker, not a template",
        "manifest.json": "CDK cloud assembly manifest, not a template",
        "tree.json": "CDK construct tree, not a template",
        "AppStack.assets.json": "CDK asset manifest, not a template",
        "assembly-Prod/cdk.out": "CDK cloud assembly version marker, not a template",
        "assembly-Prod/manifest.json": "CDK cloud assembly manifest, not a template",
    }
    # The same names outside a cloud assembly are ordinary files.
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text("{}")
    (other,) = discover([str(tmp_path / "other")]).records
    assert "CDK" not in other.reason


def test_cdk_findings_show_the_construct_path_next_to_the_logical_id(tmp_path):
    out = _cloud_assembly(tmp_path)
    report = _scan(out)
    session = sorted((f.resource_id, Path(f.location.file).name) for f in report.findings if f.policy_id == "SESSION-001")
    assert session == [
        ("AppRole8D2C2A4B (AppStack/AppRole/Resource)", "AppStack.template.json"),
        ("AppRoleFFEE0011 (Prod/AppStack/AppRole/Resource)", "ProdAppStack.template.json"),
    ]
    assert {r.status for r in report.files if r.path.endswith(".template.json")} == {FileStatus.SCANNED}


def test_an_inline_waiver_on_a_cdk_resource_still_applies(tmp_path):
    template = _cdk_template("AppStack", "AppRole8D2C2A4B", "AppRole")
    template["Resources"]["AppRole8D2C2A4B"]["Metadata"]["iac-validator"] = {
        "waivers": [{"id": "SESSION-001", "reason": "batch jobs need 12 h until the rewrite", "expires": "2099-12-31"}]
    }
    path = tmp_path / "AppStack.template.json"
    path.write_text(json.dumps(template, indent=1))
    report = _scan(path, today=date(2026, 1, 1))
    assert not [f for f in report.findings if f.policy_id == "SESSION-001"]
    assert [f.resource_id for f in report.waived] == ["AppRole8D2C2A4B (AppStack/AppRole/Resource)"]


def test_a_sam_template_inside_a_directory_scan_is_expanded(tmp_path):
    (tmp_path / "template.yaml").write_text(textwrap.dedent(SAM), encoding="utf-8")
    report = _scan(tmp_path)
    assert report.resources_scanned >= 5  # Orders, OrdersRole, Partner, PartnerRole, Bucket


def test_without_cfn_lints_sam_transform_sam_templates_are_judged_untransformed(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cfnlint.template.transforms._sam", None)  # as if a cfn-lint without it
    template, errors = load("sam.yaml", SAM)
    assert errors == [] and template is not None
    (note,) = template.notes
    assert "has no SAM transform" in note.message and note.outcome is Outcome.SKIP
    assert {r.id: r.type for r in template.resources}["Orders"] == "AWS::Serverless::Function"
