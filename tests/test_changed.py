"""Changed-files mode: `scan --changed-since REF` asks git what changed and scans it with what it
belongs to (the Terraform module directory and its callers, the parent stack of a nested template)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from validator.changed import GitError, changed_files, scope
from validator.cli import app

ROOT = Path(__file__).parents[1]
REPORT_SCHEMA = json.loads((ROOT / "validator" / "reporters" / "report.schema.json").read_text())

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

ROLE_TF = """\
resource "aws_iam_role" "analyst" {
  name                 = "analyst"
  max_session_duration = 7200
}
"""
CHILD = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ChildRole:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: 43200
"""
PARENT = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: ./nested/child.yaml
"""


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo),
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    for path, text in {
        ".iac-validator.yaml": "policies:\n  enable: [WORKLOAD-001, TRUST-001, SESSION-001]\n",
        "modules/role/main.tf": ROLE_TF,
        "modules/role/variables.tf": 'variable "name" {\n  default = "x"\n}\n',
        "envs/prod/main.tf": 'module "role" {\n  source = "../../modules/role"\n}\n',
        "envs/dev/main.tf": 'resource "aws_iam_role" "dev" {\n  max_session_duration = 7200\n}\n',
        "stacks/parent.yaml": PARENT,
        "stacks/nested/child.yaml": CHILD,
        "stacks/other.yaml": CHILD.replace("ChildRole", "OtherRole"),
        "README.md": "docs\n",
    }.items():
        (r / path).parent.mkdir(parents=True, exist_ok=True)
        (r / path).write_text(text)
    git(r, "init", "-q", "-b", "main")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "initial")
    git(r, "checkout", "-q", "-b", "feature")
    return r


def entries(data: dict, repo: Path) -> dict[str, str]:
    return {Path(e["path"]).resolve().relative_to(repo.resolve()).as_posix(): e["reason"] for e in data["scope"]["scanned"]}


def scan_json(repo: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["scan", str(repo), "--format", "json", *args])
    data = json.loads(result.stdout)
    jsonschema.validate(data, REPORT_SCHEMA)
    return result.exit_code, data


def test_changed_terraform_file_brings_its_module_and_the_modules_that_call_it(repo):
    (repo / "modules/role/variables.tf").write_text('variable "name" {\n  default = "y"\n}\n')
    git(repo, "commit", "-q", "-am", "change a variable")
    code, data = scan_json(repo, "--changed-since", "main")
    assert entries(data, repo) == {
        "modules/role/variables.tf": "changed",
        "modules/role/main.tf": f"same Terraform module as {_shown(repo / 'modules/role/variables.tf')}",
        "envs/prod/main.tf": f"calls module {_shown(repo / 'modules/role')}",
    }
    assert data["scope"]["since"] == "main"
    assert [_rel(c, repo) for c in data["scope"]["changed"]] == ["modules/role/variables.tf"]
    # The module's role is judged (on its own or through its caller); envs/dev is not in scope.
    assert {_rel(f["location"]["file"], repo) for f in data["findings"]} == {"modules/role/main.tf"}
    assert all("aws_iam_role.analyst" in f["resource"]["id"] for f in data["findings"])
    assert code == 0


def test_changed_nested_template_brings_its_parent_stack(repo):
    (repo / "stacks/nested/child.yaml").write_text(CHILD + "# edited\n")
    git(repo, "commit", "-q", "-am", "edit the child")
    _, data = scan_json(repo, "--changed-since", "main")
    assert entries(data, repo) == {
        "stacks/nested/child.yaml": "changed",
        "stacks/parent.yaml": f"parent stack of {_shown(repo / 'stacks/nested/child.yaml')}",
    }
    assert {f["resource"]["id"] for f in data["findings"]} == {"ChildRole"}


def test_working_tree_changes_and_untracked_files_count_and_the_text_report_says_the_scope(repo):
    (repo / "stacks/new.yaml").write_text(CHILD.replace("ChildRole", "NewRole"))  # untracked
    (repo / "README.md").write_text("changed docs\n")  # unstaged, not a template
    _, data = scan_json(repo, "--changed-since", "main")
    assert entries(data, repo) == {"stacks/new.yaml": "changed"}
    assert sorted(_rel(c, repo) for c in data["scope"]["changed"]) == ["README.md", "stacks/new.yaml"]
    text = CliRunner().invoke(app, ["scan", str(repo), "--changed-since", "main"]).output
    assert "Scope: changed since main: 2 changed file(s), 1 path(s) in scope" in text
    assert "new.yaml (changed)" in text


def test_nothing_changed_scans_nothing_and_passes(repo):
    code, data = scan_json(repo, "--changed-since", "main")
    assert code == 0 and data["scope"]["scanned"] == [] and data["files"] == []


def test_a_deleted_terraform_file_still_brings_its_module(repo):
    git(repo, "rm", "-q", "modules/role/variables.tf")
    git(repo, "commit", "-q", "-m", "drop variables")
    _, data = scan_json(repo, "--changed-since", "main")
    assert entries(data, repo) == {
        "modules/role/main.tf": f"same Terraform module as {_shown(repo / 'modules/role/variables.tf')}",
        "envs/prod/main.tf": f"calls module {_shown(repo / 'modules/role')}",
    }


def test_only_changes_under_the_scanned_path(repo):
    (repo / "envs/dev/main.tf").write_text(ROLE_TF.replace("analyst", "dev"))
    (repo / "stacks/other.yaml").write_text(CHILD + "# x\n")
    result = CliRunner().invoke(app, ["scan", str(repo / "stacks"), "--format", "json", "--changed-since", "main"])
    data = json.loads(result.stdout)
    assert entries(data, repo) == {"stacks/other.yaml": "changed"}


def test_unknown_ref_is_a_usage_error(repo):
    result = CliRunner().invoke(app, ["scan", str(repo), "--changed-since", "no-such-branch"])
    assert result.exit_code == 2
    assert "unknown git revision 'no-such-branch'" in result.output and "Traceback" not in result.output
    with pytest.raises(GitError):
        changed_files("--output=x", str(repo))


def test_not_a_repository(tmp_path):
    with pytest.raises(GitError):
        changed_files("main", str(tmp_path))


def test_scope_is_pure_over_the_file_tree(repo):
    result = scope("main", [str(repo / "README.md"), str(repo / "modules/role/main.tf")], [str(repo / "modules")])
    assert [(_rel(e.path, repo), e.reason.split(" as ")[0]) for e in result.scanned] == [
        ("modules/role/main.tf", "changed"),
        ("modules/role/variables.tf", "same Terraform module"),
    ]
    assert result.changed == (_shown(repo / "modules/role/main.tf"),)  # README.md is outside modules/


def _shown(path: Path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def _rel(path: str, repo: Path) -> str:
    return Path(path).resolve().relative_to(repo.resolve()).as_posix()
