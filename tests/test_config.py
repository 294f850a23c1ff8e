"""Repository configuration (.iac-validator.yaml / [tool.iac-validator]), `init`, and the scan
options that go with it: --output FORMAT=PATH, --quiet/--verbose, the progress bar, `scan -`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from validator.cli import app, progress_wanted
from validator.model import Severity
from validator.repo_config import (
    ConfigError,
    find_config,
    load_config,
    parse_output,
    select_policies,
    starter_config,
    validate,
)

ROOT = Path(__file__).parents[1]
CONFIG_SCHEMA = json.loads((ROOT / "validator" / "config.schema.json").read_text())
REPORT_SCHEMA = json.loads((ROOT / "validator" / "reporters" / "report.schema.json").read_text())

LONG_SESSION = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  AnalystRole:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: 7200
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
"""
ONLY_HEADLINE = "policies:\n  enable: [WORKLOAD-001, TRUST-001, SESSION-001]\n"


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def scan_json(*args: str) -> tuple[int, dict]:
    result = invoke("scan", *args, "--format", "json")
    data = json.loads(result.stdout)
    jsonschema.validate(data, REPORT_SCHEMA)
    return result.exit_code, data


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # discovery stops at the repository root
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "analyst.yaml").write_text(LONG_SESSION)
    return tmp_path


def write_config(repo: Path, text: str) -> Path:
    path = repo / ".iac-validator.yaml"
    path.write_text(text)
    return path


# --- validation ---------------------------------------------------------------------------------


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(CONFIG_SCHEMA)


def test_unknown_key_is_an_error_naming_its_path_and_line(repo):
    config = write_config(repo, "fail_on: high\npolicies:\n  disable: []\n  foo: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    (problem,) = caught.value.problems
    assert problem.endswith(".iac-validator.yaml:4: $.policies.foo: unknown key (allowed: dirs, disable, enable, params, severity)")

    result = invoke("scan", str(repo / "stacks"))
    assert result.exit_code == 2
    assert "$.policies.foo: unknown key" in result.output and "Traceback" not in result.output


def test_every_problem_is_reported_in_document_order(repo):
    config = write_config(repo, "bogus: 1\nfail_on: urgent\nfail_under: 120\npolicies:\n  severity: {SESSION-001: extreme}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    problems = [p.split(": ", 1)[1] for p in caught.value.problems]
    assert [p.split(":")[0] for p in problems] == ["$.bogus", "$.fail_on", "$.fail_under", "$.policies.severity.SESSION-001"]
    assert [p.split(": ")[0].rsplit(":", 1)[-1] for p in caught.value.problems] == ["1", "2", "3", "5"]


def test_invalid_yaml_is_an_error_with_a_line(repo):
    config = write_config(repo, "policies:\n  disable: [a\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "invalid YAML" in caught.value.problems[0] and ".iac-validator.yaml:" in caught.value.problems[0]


def test_the_starter_config_validates_and_init_refuses_to_overwrite(tmp_path):
    assert validate(yaml.safe_load(starter_config()), "starter") == []
    result = invoke("init", str(tmp_path))
    assert result.exit_code == 0 and "wrote" in result.output
    written = tmp_path / ".iac-validator.yaml"
    assert written.read_text() == starter_config()
    config = load_config(written)
    assert config.fail_on is Severity.HIGH and config.waivers == () and not config.allow_open_ended_waivers

    written.write_text("fail_on: low\n")
    refused = invoke("init", str(tmp_path))
    assert refused.exit_code == 2 and "--force" in refused.output
    assert written.read_text() == "fail_on: low\n"
    assert invoke("init", str(tmp_path), "--force").exit_code == 0
    assert written.read_text() == starter_config()


def test_every_commented_example_of_the_starter_validates_too():
    uncommented = "\n".join(
        line.replace("# ", "", 1) if line.lstrip().startswith(("# enable", "# severity", "#   SESSION", "# params", "# dirs", "# fail_under", "# format", "# outputs", "#   sarif")) else line
        for line in starter_config().splitlines()
    )
    data = yaml.safe_load(uncommented)
    assert data["policies"]["severity"] == {"SESSION-001": "high"} and data["outputs"]
    assert validate(data, "starter") == []


# --- discovery ----------------------------------------------------------------------------------


def test_discovered_upward_from_the_scanned_path_and_not_above_the_repository(repo, tmp_path):
    config = write_config(repo, "fail_on: low\n")
    assert find_config(repo / "stacks" / "analyst.yaml") == config
    assert find_config(repo / "stacks") == config
    nested = repo / "inner"
    (nested / ".git").mkdir(parents=True)
    assert find_config(nested) is None  # another repository: the outer configuration is not its own


def test_pyproject_tool_table(repo):
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.iac-validator]\nfail_on = "none"\n')
    assert find_config(repo / "stacks") == repo / "pyproject.toml"
    assert load_config(repo / "pyproject.toml").fail_on is None
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(repo / "stacks") is None
    (repo / "pyproject.toml").write_text('[tool.iac-validator]\nwaivers = [{ id = "TRUST-001", reason = "r", expires = 2027-01-01, resource = "X", colour = "red" }]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(repo / "pyproject.toml")
    assert caught.value.problems == [f"{repo / 'pyproject.toml'}: $.waivers[0].colour: unknown key (allowed: expires, id, owner, path, reason, resource)"]


def test_config_option_names_a_file(repo, tmp_path):
    other = tmp_path / "ci-config.yaml"
    other.write_text("fail_on: none\n" + ONLY_HEADLINE)
    write_config(repo, "fail_on: low\n" + ONLY_HEADLINE)
    assert scan_json(str(repo / "stacks"))[0] == 1  # the discovered one: medium ≥ low fails
    assert scan_json(str(repo / "stacks"), "--config", str(other))[0] == 0
    missing = invoke("scan", str(repo / "stacks"), "--config", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "no such file" in missing.output


# --- settings -----------------------------------------------------------------------------------


def test_severity_override_changes_the_gate(repo):
    write_config(repo, ONLY_HEADLINE)
    code, data = scan_json(str(repo / "stacks"))
    assert code == 0 and data["findings"][0]["severity"] == "medium"
    write_config(repo, ONLY_HEADLINE + "  severity:\n    SESSION-001: high\n")
    code, data = scan_json(str(repo / "stacks"))
    assert code == 1
    assert [(f["policy_id"], f["severity"]) for f in data["findings"]] == [("SESSION-001", "high")]
    assert data["summary"]["gate"]["reasons"] == ["1 finding(s) at or above high"]
    assert data["summary"]["score"] == 80


def test_disabling_a_group_removes_its_findings(repo):
    write_config(repo, ONLY_HEADLINE)
    assert {f["policy_id"] for f in scan_json(str(repo / "stacks"))[1]["findings"]} == {"SESSION-001"}
    write_config(repo, "policies:\n  enable: [WORKLOAD-001, TRUST-001, SESSION-001]\n  disable: [session]\n")
    code, data = scan_json(str(repo / "stacks"))
    assert data["findings"] == [] and "SESSION-001" not in {p["id"] for p in data["policies"]}
    assert code == 0


def test_a_selector_that_names_no_policy_is_an_error(repo):
    write_config(repo, "policies:\n  disable: [SESION-001]\n")
    code, data = scan_json(str(repo / "stacks"))
    assert code == 2
    assert any("policies.disable: 'SESION-001' names no policy or group" in e["message"] for e in data["errors"])


def test_select_policies_unit():
    from test_reporters import POLICIES

    selected, errors = select_policies(POLICIES, enable=("TRUST", "SESSION-001"), disable=("UNUSED-001",), severity={"TRUST-001": Severity.LOW})
    assert [p.id for p in selected] == ["TRUST-001", "SESSION-001"] and errors == []
    assert next(p for p in selected if p.id == "TRUST-001").severity is Severity.LOW


def test_params_fail_on_and_fail_under_from_config_and_flags_win(repo):
    write_config(repo, ONLY_HEADLINE + "  params:\n    SESSION-001: {max_seconds: 2h}\nfail_under: 99\nfail_on: low\n")
    code, data = scan_json(str(repo / "stacks"))
    assert data["findings"] == [] and data["summary"]["gate"] == {"passed": True, "fail_on": "low", "fail_under": 99, "reasons": []}
    code, data = scan_json(str(repo / "stacks"), "--param", "SESSION-001.max_seconds=3600", "--fail-on", "critical", "--fail-under", "50")
    assert [f["policy_id"] for f in data["findings"]] == ["SESSION-001"]
    assert data["summary"]["gate"]["fail_on"] == "critical" and data["summary"]["gate"]["fail_under"] == 50
    assert code == 0


def test_exclude_globs_skip_files_with_a_reason(repo):
    (repo / "legacy").mkdir()
    (repo / "legacy" / "old.yaml").write_text(LONG_SESSION)
    write_config(repo, ONLY_HEADLINE + "exclude: [legacy/**]\n")
    _, data = scan_json(str(repo))
    skipped = {Path(f["path"]).relative_to(repo).as_posix(): f["reason"] for f in data["files"] if f["status"] == "skipped"}
    assert skipped["legacy/old.yaml"] == "excluded by configuration (legacy/**)"
    assert skipped[".iac-validator.yaml"] == "iac-validator configuration"
    assert {Path(f["location"]["file"]).relative_to(repo).as_posix() for f in data["findings"]} == {"stacks/analyst.yaml"}


def test_policy_dirs_are_relative_to_the_config_file(repo):
    (repo / "team").mkdir()
    custom = yaml.safe_load((ROOT / "policies" / "session" / "SESSION-001.yaml").read_text())
    custom |= {"id": "ORG-001", "severity": "low"}
    (repo / "team" / "ORG-001.yaml").write_text(yaml.safe_dump(custom))
    write_config(repo, "policies:\n  enable: [ORG]\n  dirs: [team]\n")
    _, data = scan_json(str(repo / "stacks"))
    assert [(f["policy_id"], f["severity"]) for f in data["findings"]] == [("ORG-001", "low")]


def test_default_format_and_outputs_from_config(repo, tmp_path):
    write_config(repo, ONLY_HEADLINE + "format: json\noutputs:\n  sarif: reports/iac.sarif\n")
    result = invoke("scan", str(repo / "stacks"))
    assert json.loads(result.stdout)["schema_version"] == "1.0"
    assert json.loads((repo / "reports" / "iac.sarif").read_text())["version"] == "2.1.0"


# --- outputs, verbosity, progress, stdin --------------------------------------------------------


def test_output_format_path_is_repeatable(repo, tmp_path):
    write_config(repo, ONLY_HEADLINE)
    main = tmp_path / "main.txt"
    result = invoke(
        "scan",
        str(repo / "stacks"),
        "--output", str(main),
        "--output", f"sarif={tmp_path / 'r.sarif'}",
        "--output", f"junit={tmp_path / 'r.xml'}",
        "-o", f"markdown={tmp_path / 'r.md'}",
    )  # fmt: skip
    assert result.exit_code == 0 and result.stdout == ""
    assert "Gate: PASSED" in main.read_text()
    assert json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "SESSION-001"
    assert (tmp_path / "r.xml").read_text().startswith("<?xml")
    assert "iac-validator: gate passed" in (tmp_path / "r.md").read_text()
    twice = invoke("scan", str(repo / "stacks"), "-o", str(main), "-o", str(tmp_path / "other.txt"))
    assert twice.exit_code == 2 and "FORMAT=PATH" in twice.output


def test_parse_output():
    formats = ("text", "json", "sarif")
    assert parse_output("sarif=out/r.sarif", formats) == ("sarif", "out/r.sarif")
    assert parse_output("report.json", formats) == (None, "report.json")
    assert parse_output("weird=name.txt", formats) == (None, "weird=name.txt")


def test_quiet_and_verbose(repo):
    write_config(repo, ONLY_HEADLINE)
    quiet = invoke("scan", str(repo / "stacks"), "--quiet")
    assert quiet.exit_code == 0
    lines = quiet.output.splitlines()
    assert lines[0].startswith("MEDIUM") and lines[-1].startswith("Gate: PASSED")
    assert "file(s) scanned" not in quiet.output and "Fix:" not in quiet.output
    verbose = invoke("scan", str(repo / "stacks"), "--verbose")
    assert "configuration: " in verbose.output and "Passed (" in verbose.output and "Fix:" in verbose.output
    both = invoke("scan", str(repo / "stacks"), "-q", "-v")
    assert both.exit_code == 2


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_progress_bar_only_on_a_terminal_outside_ci():
    assert progress_wanted(_Stream(True), {}) is True
    assert progress_wanted(_Stream(False), {}) is False
    assert progress_wanted(_Stream(True), {"CI": "true"}) is False
    assert progress_wanted(_Stream(True), {}, quiet=True) is False


def test_no_progress_output_when_not_a_tty(repo):
    write_config(repo, ONLY_HEADLINE)
    result = CliRunner().invoke(app, ["scan", str(repo / "stacks"), "--format", "json"])
    assert result.stderr == "" and json.loads(result.stdout)


def test_scan_stdin_cloudformation_and_terraform(repo):
    write_config(repo, ONLY_HEADLINE)
    result = invoke("scan", "-", "--config", str(repo / ".iac-validator.yaml"), "--format", "json", stdin=LONG_SESSION)
    data = json.loads(result.stdout)
    assert [(f["policy_id"], f["location"]["file"], f["location"]["line"]) for f in data["findings"]] == [("SESSION-001", "<stdin>", 6)]
    assert [(f["path"], f["status"], f["format"]) for f in data["files"]] == [("<stdin>", "scanned", "cloudformation")]

    hcl = 'resource "aws_iam_role" "r" {\n  max_session_duration = 43200\n}\n'
    result = invoke("scan", "-", "--config", str(repo / ".iac-validator.yaml"), "--format", "json", stdin=hcl)
    data = json.loads(result.stdout)
    assert [(f["resource"]["id"], f["location"]["file"], f["location"]["line"]) for f in data["findings"]] == [("aws_iam_role.r", "<stdin>", 2)]
    assert "iac-validator-" not in result.stdout  # the temporary file never shows


def test_scan_without_paths_is_a_usage_error():
    result = invoke("scan")
    assert result.exit_code == 2 and "give a PATH" in result.output


PLAN = ROOT / "fixtures" / "terraform" / "equivalence" / "plan" / "tfplan.json"


@pytest.mark.skipif(not PLAN.exists(), reason="no plan fixture")
def test_scan_stdin_terraform_plan():
    result = invoke("scan", "-", "--format", "json", stdin=PLAN.read_text())
    data = json.loads(result.stdout)
    assert data["files"][0]["path"] == "<stdin>" and data["files"][0]["format"] == "terraform-plan"
    assert data["findings"] and {f["location"]["file"] for f in data["findings"]} == {"<stdin>"}


# --- integration files --------------------------------------------------------------------------


def test_pre_commit_hook():
    import re

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "iac-validator" and hook["entry"] == "iac-validator scan" and hook["language"] == "python"
    files = re.compile(hook["files"])
    assert all(files.search(n) for n in ("a.yaml", "b.yml", "c.json", "d.template", "main.tf", "prod.tfvars"))
    assert not any(files.search(n) for n in ("setup.py", "README.md", "main.tfstate"))


def test_ci_docs_examples_are_valid_and_use_the_real_options():
    import re

    text = (ROOT / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    for block in blocks:
        yaml.safe_load(block)  # every YAML example parses
    assert "github/codeql-action/upload-sarif" in text and "--body-file iac-validator.md" in text
    assert "codequality: gl-code-quality-report.json" in text and "junit: iac-validator-junit.xml" in text
    assert "terraform show -json plan.out | iac-validator scan -" in text
    import typer

    scan_command = typer.main.get_command(app).commands["scan"]
    options = {opt for param in scan_command.params for opt in param.opts}
    mentioned = {"--changed-since", "--output", "--baseline", "--baseline-write", "--no-inline-waivers", "--quiet", "--fail-on"}
    assert mentioned <= set(re.findall(r"(--[a-z][a-z-]+)", text))
    assert mentioned <= options
