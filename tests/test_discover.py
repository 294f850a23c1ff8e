"""Discovery: what gets scanned, what is skipped and why, what cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validator.discover import Plan, discover
from validator.model import FileStatus

CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${AWS::StackName}-role"
      AssumeRolePolicyDocument: !GetAtt Trust.Document
      MaxSessionDuration: !Ref AWS::NoValue
"""
NOT_CFN = "not a CloudFormation template"


def put(root: Path, relative: str, content: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    return path


def scan(*paths: Path | str) -> Plan:
    return discover([str(p) for p in paths])


def record(plan: Plan, path: Path):
    matches = [r for r in plan.records if r.path == str(path)]
    assert len(matches) == 1, (path, plan.records)
    return matches[0]


def scanned(plan: Plan) -> set[str]:
    return {f.path for f in plan.cloudformation} | {f.path for fs in plan.terraform.values() for f in fs}


def test_kubernetes_manifest_github_workflow_and_package_json_are_not_cloudformation(tmp_path):
    k8s = put(
        tmp_path,
        "k8s/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: web\n          resources:\n            limits: {cpu: '1'}\n",
    )
    workflow = put(
        tmp_path,
        ".github/workflows/ci.yml",
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
    )
    package = put(tmp_path, "web/package.json", json.dumps({"name": "web", "version": "1.0.0", "dependencies": {}}))
    plan = scan(tmp_path)
    assert scanned(plan) == set()
    for path in (k8s, workflow, package):
        r = record(plan, path)
        assert r.status is FileStatus.SKIPPED
        assert NOT_CFN in r.reason
    assert plan.errors == []


def test_cloudformation_yaml_with_short_form_tags_is_picked_up(tmp_path):
    template = put(tmp_path, "stacks/role.yaml", CFN)
    json_template = put(tmp_path, "stacks/bucket.template", json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}))
    plan = scan(tmp_path)
    assert [f.path for f in plan.cloudformation] == [str(json_template), str(template)]
    assert plan.cloudformation[1].text == CFN
    assert plan.records == [] and plan.errors == []


def test_tf_files_of_one_directory_form_one_module(tmp_path):
    main = put(tmp_path, "infra/main.tf", 'resource "aws_iam_role" "r" {}\n')
    variables = put(tmp_path, "infra/variables.tf", 'variable "x" {}\n')
    other = put(tmp_path, "infra/modules/vpc/main.tf", 'resource "aws_vpc" "v" {}\n')
    tfvars = put(tmp_path, "infra/prod.tfvars", 'x = "1"\n')
    tfvars_json = put(tmp_path, "infra/terraform.tfvars.json", '{"x": "2"}')
    plan = scan(tmp_path)
    assert list(plan.terraform) == [str(main.parent), str(other.parent)]
    assert [f.path for f in plan.terraform[str(main.parent)]] == [str(main), str(variables)]
    assert [f.path for f in plan.terraform[str(other.parent)]] == [str(other)]
    # variable values are read with the module directory they sit in, not skipped
    assert [f.path for f in plan.tfvars[str(main.parent)]] == [str(tfvars), str(tfvars_json)]
    assert plan.records == []
    assert plan.cloudformation == []


@pytest.mark.parametrize("name", [".terraform", ".git", "node_modules"])
def test_tool_directories_are_skipped_with_a_reason(tmp_path, name):
    put(tmp_path, "main.tf", 'resource "aws_iam_role" "r" {}\n')
    put(tmp_path, f"{name}/modules/x/main.tf", 'resource "aws_iam_role" "hidden" {}\n')
    put(tmp_path, f"{name}/stack.yaml", CFN)
    plan = scan(tmp_path)
    assert scanned(plan) == {str(tmp_path / "main.tf")}
    r = record(plan, tmp_path / name)
    assert r.status is FileStatus.SKIPPED
    assert r.reason.startswith("directory excluded:")


def test_overlapping_paths_record_an_excluded_directory_once(tmp_path):
    put(tmp_path, "infra/main.tf", 'resource "aws_iam_role" "r" {}\n')
    put(tmp_path, "infra/.terraform/x.tf", "")
    plan = scan(tmp_path, tmp_path / "infra", tmp_path / "infra" / "main.tf")
    assert [f.path for fs in plan.terraform.values() for f in fs] == [str(tmp_path / "infra" / "main.tf")]
    assert [r.path for r in plan.records] == [str(tmp_path / "infra" / ".terraform")]


def test_empty_file_is_skipped(tmp_path):
    empty = put(tmp_path, "empty.yaml", "")
    blank = put(tmp_path, "blank.json", "  \n\n")
    plan = scan(tmp_path)
    assert record(plan, empty).reason == "empty file"
    assert record(plan, blank).reason == "empty file"
    assert plan.errors == []


def test_binary_file_is_skipped(tmp_path):
    binary = put(tmp_path, "image.yaml", b"Resources:\n\x00\x01\x02\x89PNG")
    r = record(scan(tmp_path), binary)
    assert r.status is FileStatus.SKIPPED and r.reason == "binary file"


def test_non_utf8_file_is_an_error_with_its_line(tmp_path):
    latin1 = put(tmp_path, "stack.yaml", CFN.replace('"${AWS::StackName}-role"', "caf\xe9").encode("latin-1"))
    plan = scan(tmp_path)
    r = record(plan, latin1)
    assert r.status is FileStatus.ERROR and "UTF-8" in r.reason
    (error,) = plan.errors
    assert error.file == str(latin1)
    assert error.line == 6
    assert "0xe9" in error.message
    assert plan.cloudformation == []


def test_utf8_bom_template_is_scanned_without_the_bom(tmp_path):
    template = put(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + CFN.encode())
    plan = scan(tmp_path)
    assert [f.path for f in plan.cloudformation] == [str(template)]
    assert plan.cloudformation[0].text == CFN


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_template_with_a_bom_is_decoded(tmp_path, encoding):
    data = CFN.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    template = put(tmp_path, "wide.yaml", data)
    plan = scan(tmp_path)
    assert [f.path for f in plan.cloudformation] == [str(template)]
    assert plan.cloudformation[0].text == CFN


def test_missing_path_is_an_error(tmp_path):
    missing = tmp_path / "nope"
    plan = scan(missing)
    (error,) = plan.errors
    assert error.file == str(missing) and "no such file" in error.message
    assert record(plan, missing).status is FileStatus.ERROR


def test_terraform_plan_json_is_recognised_by_content_in_any_encoding(tmp_path):
    plan_json = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": []}},
        "resource_changes": [],
    }
    compact = put(tmp_path, "tfplan.json", json.dumps(plan_json, separators=(",", ":")))
    wide = put(tmp_path, "windows/plan.json", b"\xff\xfe" + json.dumps(plan_json, indent=2).replace("\n", "\r\n").encode("utf-16-le"))
    plan = scan(tmp_path)
    assert [f.path for f in plan.terraform_plans] == [str(compact), str(wide)]
    assert json.loads(plan.terraform_plans[1].text) == plan_json
    assert plan.records == [] and plan.cloudformation == []


def test_other_file_types_are_skipped_unless_named_explicitly(tmp_path):
    readme = put(tmp_path, "README.md", "# Resources:\n")
    explicit = put(tmp_path, "stack.cfn", CFN)
    plan = scan(tmp_path)
    assert record(plan, readme).reason == "not a template file type"
    assert record(plan, explicit).reason == "not a template file type"
    plan = scan(explicit)
    assert [f.path for f in plan.cloudformation] == [str(explicit)]


def test_a_file_given_twice_is_scanned_once(tmp_path):
    template = put(tmp_path, "role.yaml", CFN)
    plan = scan(template, tmp_path, tmp_path / "." / "role.yaml")
    assert [f.path for f in plan.cloudformation] == [str(template)]


def test_terraform_json_and_broken_symlinks_are_skipped_with_a_reason(tmp_path):
    tf_json = put(tmp_path, "main.tf.json", '{"resource": {}}')
    link = tmp_path / "gone.yaml"
    link.symlink_to(tmp_path / "does-not-exist.yaml")
    plan = scan(tmp_path)
    assert ".tf.json" in record(plan, tf_json).reason
    assert record(plan, link).reason == "broken symbolic link"
    assert plan.errors == []


def test_results_are_in_a_stable_order(tmp_path):
    for name in ("b.yaml", "a.yaml", "c/z.yaml", "c/a.json"):
        put(tmp_path, name, CFN if name.endswith("yaml") else json.dumps({"Resources": {}}))
    for name in ("x.txt", "w.md"):
        put(tmp_path, name, "x")
    plan = scan(tmp_path)
    paths = [f.path for f in plan.cloudformation]
    assert paths == sorted(paths) and len(paths) == 4
    skipped = [r.path for r in plan.records]
    assert skipped == sorted(skipped) and len(skipped) == 2
