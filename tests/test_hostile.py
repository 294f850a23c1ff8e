"""Hostile input (issue 8): never crash, never hang, never lose a file, never leak a secret.

fixtures/hostile/ holds every case git can store portably; what it cannot (symbolic link loops,
links out of the tree, a FIFO, a file over the size limit, unreadable files: the tests run as root,
so permissions are simulated) is added to a copy of it in a temporary directory.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from validator import discover as discover_module
from validator import limits
from validator.cli import app
from validator.config import Config
from validator.discover import discover
from validator.engine import operators
from validator.engine.base import Args
from validator.engine.policies import load_policies
from validator.loaders import cloudformation
from validator.model import FileStatus, Outcome, Report, Unknown
from validator.reporters import FORMATS, gitlab
from validator.run import run

ROOT = Path(__file__).parents[1]
HOSTILE = ROOT / "fixtures" / "hostile"
POLICIES = HOSTILE / "policies"
PWNED = Path("/tmp/iac-validator-pwned")  # what the !!python/object fixture would create if it ran
ROLE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  OutsideRole:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: 43200
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of fixtures/hostile plus links, a FIFO and a file over the size limit."""
    base = tmp_path_factory.mktemp("hostile")
    root = base / "tree"
    shutil.copytree(HOSTILE, root, symlinks=True)
    outside = base / "outside"
    outside.mkdir()
    (outside / "stolen.yaml").write_text(ROLE)
    links = root / "links"
    links.mkdir()
    (links / "loop.yaml").symlink_to("loop.yaml")
    (links / "ping.yaml").symlink_to("pong.yaml")
    (links / "pong.yaml").symlink_to("ping.yaml")
    (links / "outside.yaml").symlink_to(outside / "stolen.yaml")
    (links / "outside-dir").symlink_to(outside, target_is_directory=True)
    (links / "up").symlink_to("..", target_is_directory=True)
    (links / "valid-again.yaml").symlink_to("../valid.yaml")
    (links / "gone.yaml").symlink_to("does-not-exist.yaml")
    os.mkfifo(root / "pipe.yaml")
    with open(root / "huge.yaml", "w") as fh:  # 11 MB: over the 10 MB default
        fh.write('AWSTemplateFormatVersion: "2010-09-09"\n')
        fh.write(("# " + "x" * 1022 + "\n") * 11 * 1024)
        fh.write("Resources: {}\n")
    heredoc = root / "hcl" / "big-heredoc"
    heredoc.mkdir()
    body = ("line of a large heredoc " * 4 + "\n") * 20_000  # 2 MB
    (heredoc / "main.tf").write_text(f'locals {{\n  doc = <<EOT\n{body}EOT\n}}\n\nresource "aws_iam_role" "big" {{\n  description = local.doc\n}}\n')
    return root


@pytest.fixture(scope="module")
def report(tree: Path) -> Report:
    return run(Config(paths=(str(tree),), file_timeout=60))


@pytest.fixture(scope="module")
def cli(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One CLI run over the whole tree: JSON on standard output, every other format written by
    --output FORMAT=PATH in the same run (text with --verbose: every list in full)."""
    out = tmp_path_factory.mktemp("reports")
    extra = [arg for fmt in FORMATS if fmt != "json" for arg in ("--output", f"{fmt}={out / fmt}")]
    done = CliRunner().invoke(app, ["scan", str(tree), "--format", "json", "--verbose", "--no-color", *extra])
    assert done.exit_code == 2, done.output  # unreadable inputs
    assert "Traceback" not in done.output
    return {"json": done.stdout, **{fmt: (out / fmt).read_text() for fmt in FORMATS if fmt != "json"}}


def records(doc: dict, tree: Path) -> dict[str, tuple[FileStatus, str]]:
    return {os.path.relpath(f["path"], tree): (FileStatus(f["status"]), f["reason"] or "") for f in doc["files"]}


def errors(doc: dict, tree: Path) -> dict[str, list[tuple[int | None, str]]]:
    out: dict[str, list[tuple[int | None, str]]] = {}
    for e in doc["errors"]:
        out.setdefault(os.path.relpath(e["file"], tree), []).append((e["line"], e["message"]))
    return out


def report_records(report: Report, tree: Path) -> dict[str, tuple[FileStatus, str]]:
    return {os.path.relpath(r.path, tree): (r.status, r.reason) for r in report.files}


# What happens to each file: status, a fragment of the reason (and of the error message, with its line).
EXPECTED: dict[str, tuple[FileStatus, str]] = {
    "valid.yaml": (FileStatus.SCANNED, ""),
    "encodings/crlf.yaml": (FileStatus.SCANNED, ""),
    "encodings/utf8-bom.yaml": (FileStatus.SCANNED, ""),
    "encodings/utf16.yaml": (FileStatus.SCANNED, ""),
    "template-dir.yaml/inside.yaml": (FileStatus.SCANNED, ""),
    "hcl/deep/main.tf": (FileStatus.SCANNED, ""),
    "hcl/big-heredoc/main.tf": (FileStatus.SCANNED, ""),
    "escape/main.tf": (FileStatus.SCANNED, ""),
    "escape/nested-stacks.yaml": (FileStatus.SCANNED, ""),
    "regex/redos.yaml": (FileStatus.SCANNED, ""),
    "encodings/latin1.yaml": (FileStatus.ERROR, "not valid UTF-8"),
    "encodings/empty.yaml": (FileStatus.SKIPPED, "empty file"),
    "encodings/binary.yaml": (FileStatus.SKIPPED, "binary file"),
    "yaml/duplicate-keys.yaml": (FileStatus.ERROR, "Duplicate found 'Twice' (lines 3 and 14)"),
    "yaml/tabs.yaml": (FileStatus.ERROR, "found character that cannot start any token"),
    "yaml/python-tag.yaml": (FileStatus.ERROR, "YAML tag !!python/object/apply:os.system is not allowed"),
    "yaml/recursive-alias.yaml": (FileStatus.ERROR, "YAML alias *loop at line 6 refers to a node that contains it"),
    "yaml/billion-laughs.yaml": (FileStatus.ERROR, "YAML aliases expand the document by more than 100000 nodes"),
    "yaml/deep.yaml": (FileStatus.ERROR, "nesting deeper than 100 levels at line 6"),
    "json/deep.json": (FileStatus.ERROR, "nesting deeper than 100 levels at line 1"),
    "json/comments.json": (FileStatus.ERROR, "did not find expected ',' or '}'"),
    "hcl/heredoc/main.tf": (FileStatus.ERROR, "invalid HCL: Unexpected token"),
    "hcl/string/main.tf": (FileStatus.ERROR, "invalid HCL: Unexpected token"),
    "hcl/deep-blocks/main.tf": (FileStatus.ERROR, "(nested too deeply to evaluate)"),
    "links/loop.yaml": (FileStatus.SKIPPED, "symbolic link loop: not followed"),
    "links/ping.yaml": (FileStatus.SKIPPED, "symbolic link loop: not followed"),
    "links/pong.yaml": (FileStatus.SKIPPED, "symbolic link loop: not followed"),
    "links/gone.yaml": (FileStatus.SKIPPED, "broken symbolic link"),
    "links/outside.yaml": (FileStatus.SKIPPED, "symbolic link to a file outside the scanned tree: not followed (--follow-symlinks"),
    "links/outside-dir": (FileStatus.SKIPPED, "symbolic link to a directory outside the scanned tree: not followed"),
    "links/up": (FileStatus.SKIPPED, "symbolic link loop (a link to a directory that contains it): not followed"),
    "links/valid-again.yaml": (FileStatus.SKIPPED, "symbolic link to valid.yaml: scanned under that name, not twice"),
    "pipe.yaml": (FileStatus.SKIPPED, "not a regular file: a named pipe (FIFO)"),
    "huge.yaml": (FileStatus.SKIPPED, "file too large (11.0 MB, limit 10 MB; --max-file-size raises it)"),
    ".gitattributes": (FileStatus.SKIPPED, "not a template file type"),
    "policies/HOSTILE-001.yaml": (FileStatus.SKIPPED, "not a CloudFormation template"),
    "escape/main.tf:15 module.up": (FileStatus.SKIPPED, 'source "../../../../../../../outside") is outside the scanned tree'),
    "escape/main.tf:19 module.absolute": (FileStatus.SKIPPED, "is an absolute path, outside the scanned tree: not analysed"),
    "escape/main.tf:23 module.remote": (FileStatus.SKIPPED, "is a remote module: never fetched, not analysed"),
    "escape/main.tf:27 module.registry": (FileStatus.SKIPPED, "version 5.0.0) is a remote module: never fetched"),
}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_each_hostile_file_is_scanned_skipped_or_an_error_with_its_reason(cli, tree, path):
    doc = json.loads(cli["json"])
    status, reason = EXPECTED[path]
    found = records(doc, tree)
    assert path in found, sorted(found)
    assert found[path][0] is status, found[path]
    assert reason in found[path][1], found[path]
    if status is FileStatus.ERROR:
        assert any(reason in message for _, message in errors(doc, tree)[path])


def test_error_lines_point_at_the_problem(cli, tree):
    lines = {path: [line for line, _ in found] for path, found in errors(json.loads(cli["json"]), tree).items()}
    assert lines["encodings/latin1.yaml"] == [7]
    assert lines["yaml/duplicate-keys.yaml"] == [14]
    assert lines["yaml/tabs.yaml"] == [4]
    assert lines["yaml/python-tag.yaml"] == [3]
    assert lines["yaml/billion-laughs.yaml"] == [8]
    assert lines["yaml/deep.yaml"] == [6]
    assert lines["hcl/heredoc/main.tf"] == [2]


def test_no_file_is_lost(cli, tree):
    """Every file and link of the tree is a record, or lies below a directory that is one."""
    from validator.secrets import mask

    shown = set(records(json.loads(cli["json"]), tree))
    for directory, dirnames, filenames in os.walk(tree):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]:
            path = mask(os.path.relpath(os.path.join(directory, name), tree))  # a key in a file name is masked
            assert path in shown or any(path.startswith(s + os.sep) for s in shown), path


def test_the_valid_files_beside_them_are_still_judged(cli, tree):
    doc = json.loads(cli["json"])
    failing = {(os.path.relpath(f["location"]["file"], tree), f["location"]["line"], f["policy_id"]) for f in doc["findings"]}
    for path in ("valid.yaml", "encodings/crlf.yaml", "encodings/utf8-bom.yaml", "encodings/utf16.yaml", "template-dir.yaml/inside.yaml"):
        assert (path, 6, "SESSION-001") in failing  # the CRLF and UTF-16 files keep their line numbers
    assert doc["summary"]["resources"] >= 10


def test_nothing_runs_nothing_escapes(cli, tree):
    assert not PWNED.exists()
    doc = json.loads(cli["json"])
    notes = {f["resource"]["id"]: f["message"] for f in doc["unresolved"] if f["policy_id"] == "cfn:nested-stack"}
    assert notes == {
        "Up": "nested stack Up: template ../../../../../../etc/passwd is outside the scanned tree: refused, not read",
        "Absolute": "nested stack Absolute: template /etc/hosts is outside the scanned tree: refused, not read",
        "FileUrl": "nested stack FileUrl: template file:///etc/shadow is outside the scanned tree: refused, not read",
        "Remote": "nested stack Remote: remote template https://evil.example.com/stack.yaml is not analysed (only local template paths are)",
    }
    assert all("root:x:0:0" not in out and "localhost" not in out for out in cli.values())  # /etc/passwd, /etc/hosts never read


def test_file_and_templatefile_never_read_outside_the_tree(tree):
    from validator.discover import discover
    from validator.run import load_all

    resources = [r for template, _, _ in load_all(discover([str(tree / "escape")])) if template for r in template.resources]
    role = next(r for r in resources if r.id == "aws_iam_role.escape")
    assert isinstance(role.properties["description"], Unknown)
    assert "outside the scanned tree: not read" in role.properties["description"].reason


def test_billion_laughs_is_rejected_in_milliseconds():
    text = (HOSTILE / "yaml" / "billion-laughs.yaml").read_text()
    started = time.perf_counter()
    template, errs = cloudformation.load("laughs.yaml", text)
    elapsed = time.perf_counter() - started
    assert template is None and "billion laughs" in errs[0].message
    assert elapsed < 0.5, elapsed  # measured: about 10 ms; expanding it would take hours and gigabytes
    print(f"billion laughs rejected in {elapsed * 1000:.1f} ms")


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: &a [*a, *a]\n", "refers to a node that contains it"),
        ("- " * 150 + "x\n", "nesting deeper than 100 levels at line 1"),
        ("x: " + "{a: " * 150 + "1" + "}" * 150 + "\n", "nesting deeper than 100 levels"),
        ("[" * 100_000 + "]" * 100_000, "nesting deeper than 100 levels"),  # the C parser would overflow its stack
    ],
)
def test_structure_limits(text, message):
    problem = limits.structure_problem(text)
    assert problem is not None and message in problem.message


def test_moderate_anchors_and_nesting_are_fine():
    ok = "Tags: &tags [{Key: a, Value: b}]\nMore: *tags\nDeep: " + "[" * 90 + "]" * 90 + "\n"
    assert limits.structure_problem(ok) is None
    assert limits.structure_problem('{"a": ' * 90 + "1" + "}" * 90) is None


# --- limits and flags ---------------------------------------------------------------------------


def test_max_file_size_is_configurable(tmp_path):
    (tmp_path / "small.yaml").write_text(ROLE)
    (tmp_path / "padded.yaml").write_text(ROLE + "#" * 3000 + "\n")
    result = CliRunner().invoke(app, ["scan", str(tmp_path), "--max-file-size", "2k", "--format", "json", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert files["small.yaml"]["status"] == "scanned"
    assert files["padded.yaml"]["status"] == "skipped"
    assert files["padded.yaml"]["reason"].startswith("file too large (3.1 KB, limit 2 KB")
    bad = CliRunner().invoke(app, ["scan", str(tmp_path), "--max-file-size", "lots"])
    assert bad.exit_code == 2 and "--max-file-size 'lots' is not a size" in bad.stderr


def test_parse_size():
    assert limits.parse_size("10MB") == 10 * 1024 * 1024
    assert limits.parse_size("512k") == 512 * 1024
    assert limits.parse_size("1048576") == 1048576
    assert limits.parse_size("1.5M") == 1536 * 1024
    with pytest.raises(ValueError):
        limits.parse_size("-1")


def test_follow_symlinks_follows_links_out_of_the_tree(tree):
    report = run(Config(paths=(str(tree / "links"),), follow_symlinks=True, file_timeout=60))
    found = report_records(report, tree)
    assert found["links/outside-dir/stolen.yaml"][0] is FileStatus.SCANNED
    assert found["links/outside.yaml"] == (  # the same file: scanned once, under its first name
        FileStatus.SKIPPED,
        "symbolic link to ../../outside/stolen.yaml: scanned under that name, not twice",
    )
    assert found["links/valid-again.yaml"][0] is FileStatus.SCANNED  # outside links/, followed too
    assert found["links/loop.yaml"][1] == "symbolic link loop: not followed"


def test_unreadable_file_and_directory_are_errors(tmp_path, monkeypatch):
    """The tests run as root (chmod 000 does not stop root), so the operating system's refusal is simulated."""
    (tmp_path / "valid.yaml").write_text(ROLE)
    (tmp_path / "locked.yaml").write_text(ROLE)
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "inside.yaml").write_text(ROLE)
    real_open, real_scandir = builtins.open, os.scandir

    def refusing_open(file, *args, **kwargs):
        if str(file).endswith("locked.yaml"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    def refusing_scandir(path="."):
        if str(path).endswith("vault"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discover_module, "open", refusing_open, raising=False)
    monkeypatch.setattr(os, "scandir", refusing_scandir)
    report = run(Config(paths=(str(tmp_path),)))
    found = report_records(report, tmp_path)
    assert found["valid.yaml"][0] is FileStatus.SCANNED
    assert found["locked.yaml"] == (FileStatus.ERROR, "cannot read file: Permission denied")
    assert found["vault"] == (FileStatus.ERROR, "cannot read directory: Permission denied")
    assert {e.message for e in report.errors} == {"cannot read file: Permission denied", "cannot read directory: Permission denied"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions; simulated in the test above")
def test_unreadable_file_for_real(tmp_path):
    locked = tmp_path / "locked.yaml"
    locked.write_text(ROLE)
    locked.chmod(0)
    report = run(Config(paths=(str(tmp_path),)))
    assert report_records(report, tmp_path)["locked.yaml"] == (FileStatus.ERROR, "cannot read file: Permission denied")


def test_a_file_given_as_a_fifo_or_a_directory_named_like_a_template(tmp_path):
    os.mkfifo(tmp_path / "stack.yaml")  # opening it would block forever
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "dir.yaml" / "t.yaml").write_text(ROLE)
    plan = discover([str(tmp_path / "stack.yaml"), str(tmp_path / "dir.yaml")])
    assert [r.reason for r in plan.records] == ["not a regular file: a named pipe (FIFO)"]
    assert [Path(f.path).name for f in plan.cloudformation] == ["t.yaml"]


# --- time budget --------------------------------------------------------------------------------


def _spin() -> None:
    while True:
        pass


def test_a_file_that_takes_too_long_becomes_an_error_and_the_scan_goes_on(tmp_path, monkeypatch):
    (tmp_path / "valid.yaml").write_text(ROLE)
    (tmp_path / "slow.yaml").write_text(ROLE)
    original = cloudformation._load

    def slow(path, *args):
        if path.endswith("slow.yaml"):
            _spin()
        return original(path, *args)

    monkeypatch.setattr(cloudformation, "_load", slow)
    started = time.perf_counter()
    report = run(Config(paths=(str(tmp_path),), file_timeout=0.3))
    assert time.perf_counter() - started < 10
    found = report_records(report, tmp_path)
    assert found["valid.yaml"][0] is FileStatus.SCANNED
    assert found["slow.yaml"] == (
        FileStatus.ERROR,
        "loading took longer than 0.3 s (the per-file time budget, --file-timeout): not analysed",
    )
    assert "SESSION-001" in [f.policy_id for f in report.findings if f.location.file.endswith("valid.yaml")]


def test_a_terraform_module_that_takes_too_long_is_an_error(tmp_path, monkeypatch):
    from validator.loaders import terraform

    for name in ("fast", "slow"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(f'resource "aws_iam_role" "{name}" {{\n  max_session_duration = 7200\n}}\n')
    original = terraform.load_root

    def slow(module, **kwargs):
        if module.directory.endswith("slow"):
            _spin()
        return original(module, **kwargs)

    monkeypatch.setattr(terraform, "load_root", slow)
    report = run(Config(paths=(str(tmp_path),), file_timeout=0.3))
    found = report_records(report, tmp_path)
    assert found["fast/main.tf"][0] is FileStatus.SCANNED
    status, reason = found["slow/main.tf"]
    assert status is FileStatus.ERROR and "took longer than 0.3 s (the per-file time budget, --file-timeout)" in reason


def test_an_evaluation_that_takes_too_long_is_an_error(tmp_path, monkeypatch):
    import validator.work as run_module

    (tmp_path / "valid.yaml").write_text(ROLE)
    (tmp_path / "slow.yaml").write_text(ROLE.replace("OutsideRole", "SlowRole"))
    original = run_module.evaluate

    def slow(policies, templates, params=None):
        templates = list(templates)
        if any(r.id == "SlowRole" for t in templates for r in t.resources):
            _spin()
        return original(policies, templates, params)

    monkeypatch.setattr(run_module, "evaluate", slow)
    report = run(Config(paths=(str(tmp_path),), file_timeout=0.3))
    found = report_records(report, tmp_path)
    assert found["valid.yaml"][0] is FileStatus.SCANNED
    assert found["slow.yaml"] == (
        FileStatus.ERROR,
        "evaluating the policies took longer than 0.3 s (the per-file time budget, --file-timeout): not judged",
    )


def test_the_time_budget_restores_a_previous_alarm():
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.4)
        with limits.time_budget(5):
            pass
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # the outer timer runs on
        time.sleep(0.6)
        assert fired == [signal.SIGALRM]
        with pytest.raises(limits.BudgetExceeded), limits.time_budget(0.05):
            _spin()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- user-written policies ----------------------------------------------------------------------


def test_a_catastrophic_regex_times_out(monkeypatch):
    monkeypatch.setattr(operators, "REGEX_TIMEOUT", 0.2)
    started = time.perf_counter()
    (violation,) = operators.op_matches("a" * 5000 + "!", Args("Description", "(a+)+$"))
    elapsed = time.perf_counter() - started
    assert violation.outcome is Outcome.ERROR
    assert violation.message == "regular expression /(a+)+$/ took longer than 0.2 s on Description (5001 characters): not decided"
    assert elapsed < 3, elapsed
    print(f"catastrophic regex stopped after {elapsed:.2f} s (timeout 0.2 s)")


def test_regexes_are_checked_when_policies_load():
    policies, errs = load_policies([HOSTILE / "policies-invalid"])
    assert policies == ()
    (error,) = errs
    assert error.message == "$.check.value: invalid regular expression: unterminated character set at position 1"


def test_hostile_policies_report_and_the_others_still_run(tree, monkeypatch):
    monkeypatch.setattr(operators, "REGEX_TIMEOUT", 0.2)
    report = run(Config(paths=(str(tree / "regex"), str(tree / "valid.yaml")), policy_dirs=(POLICIES,), keep_passes=True))
    by_policy = {(f.policy_id, f.resource_id): f for f in report.findings}
    timeout = by_policy[("HOSTILE-001", "Redos")]
    assert timeout.outcome is Outcome.ERROR and "took longer than 0.2 s on Description (4001 characters)" in timeout.message
    raised = by_policy[("HOSTILE-002", "ValidRole")]
    assert raised.outcome is Outcome.ERROR and raised.message == "policy raised ValueError: limit 'lots' is not a valid number"
    assert ("SESSION-001", "ValidRole") in by_policy  # the built-in pack ran on the same resources
    assert any(f.policy_id == "GUARD-001" and f.resource_id == "Redos" for f in report.passes)
    assert "2 policy evaluation(s) failed" in report.gate_reasons


def test_policy_messages_are_templates_of_label_value_and_limit_only():
    from validator.engine.policies import _message_problem

    assert _message_problem("{label} is {value}, limit {limit:>10}") is None
    assert "unknown placeholder {value.__class__}" in (_message_problem("{value.__class__}") or "")
    assert "not allowed" in (_message_problem("{value:>999999999}") or "")


# --- the CLI: every format, exit codes ----------------------------------------------------------


def invoke(*args: str):
    return CliRunner().invoke(app, ["scan", *args])


def test_every_format_accounts_for_every_file(cli, tree):
    doc = json.loads(cli["json"])
    paths = {f["path"]: FileStatus(f["status"]) for f in doc["files"]}
    counts = {s: sum(1 for status in paths.values() if status is s) for s in FileStatus}
    summary = f"{counts[FileStatus.SCANNED]} file(s) scanned, {counts[FileStatus.SKIPPED]} skipped"
    assert summary in cli["text"]
    assert doc["summary"]["files"] == {s.value: n for s, n in counts.items()}
    invocation = json.loads(cli["sarif"])["runs"][0]["invocations"][0]
    assert invocation["properties"]["files"] == {s.value: n for s, n in counts.items()}
    assert invocation["toolExecutionNotifications"][-1]["message"]["text"].startswith(f"iac-validator: {summary}")
    assert f"{counts[FileStatus.SKIPPED]} skipped · {counts[FileStatus.ERROR]} could not be read" in cli["markdown"]
    junit_root = ET.fromstring(cli["junit"].encode())
    junit_counts = {p.get("name"): int(p.get("value")) for p in junit_root.iter("property")}
    assert junit_counts == {f"files.{s.value}": n for s, n in counts.items()}
    issues = json.loads(cli["gitlab"])
    sarif_text = unquote(cli["sarif"])  # SARIF locations are URIs
    for path, status in paths.items():
        rel = os.path.relpath(path)
        for fmt, out in (("text", cli["text"]), ("json", cli["json"]), ("sarif", sarif_text), ("junit", cli["junit"])):
            assert rel in out or path in out, (fmt, path)
        if status is not FileStatus.SCANNED:
            assert any(i["location"]["path"] in (rel, path) for i in issues if i["check_name"].startswith("iac-validator:")), path


def test_exit_code_two_on_unreadable_inputs_unless_allowed(tree):
    failed = invoke(str(tree / "yaml"), str(tree / "valid.yaml"), "--fail-on", "none")
    assert failed.exit_code == 2
    assert "Gate: FAILED (6 input(s) could not be read)" in failed.stdout
    allowed = invoke(str(tree / "yaml"), str(tree / "valid.yaml"), "--fail-on", "none", "--allow-errors")
    assert allowed.exit_code == 0, allowed.output
    assert "Errors (6)" in allowed.stdout and "Gate: PASSED" in allowed.stdout  # still reported
    gated = invoke(str(tree / "yaml"), str(tree / "valid.yaml"), "--fail-on", "medium", "--allow-errors")
    assert gated.exit_code == 1  # the findings still decide the gate


def test_allow_errors_does_not_hide_a_malformed_policy(tree):
    done = invoke(str(tree / "valid.yaml"), "--policy-dir", str(HOSTILE / "policies-invalid"), "--allow-errors", "--fail-on", "none")
    assert done.exit_code == 2 and "invalid regular expression" in done.stdout


def test_library_logs_go_through_the_mask(tmp_path, capsys):
    import logging

    result = CliRunner().invoke(app, ["scan", str(tmp_path), "--fail-on", "none"])
    assert result.exit_code == 0
    logging.getLogger("cfnlint.decode").error("Template key AKIAQ4HT7BXK2MZ9WE5R is malformed")
    err = capsys.readouterr().err + result.stderr
    assert "AKIAQ4HT7BXK2MZ9WE5R" not in err


def test_one_real_run_of_the_command(tree):
    """The installed entry point on the whole hostile tree, with the hostile policies: no traceback,
    exit code 2, every error named, the valid files judged, within a bounded time."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "validator", "scan", str(tree), "--format", "json", "--policy-dir", str(POLICIES), "--file-timeout", "30"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    data = json.loads(done.stdout)
    status = {os.path.relpath(f["path"], tree): f["status"] for f in data["files"]}
    assert status["valid.yaml"] == "scanned" and status["yaml/billion-laughs.yaml"] == "error"
    messages = {(f["policy_id"], f["resource"]["id"]): f for f in data["findings"]}
    assert messages[("HOSTILE-001", "Redos")]["outcome"] == "error"
    assert "regular expression /(a+)+$/ took longer than 1 s" in messages[("HOSTILE-001", "Redos")]["message"]
    assert messages[("SESSION-001", "ValidRole")]["outcome"] == "fail"
    assert not PWNED.exists()
    assert elapsed < 120, elapsed
    print(f"whole hostile tree scanned in {elapsed:.1f} s")


# --- secrets ------------------------------------------------------------------------------------

SECRET_FIXTURES = [
    ROOT / "fixtures" / "inventory",
    *(ROOT / "fixtures" / "policies" / pid for pid in ("KEYS-004", "KEYS-005", "SECRETS-002", "WORKLOAD-005")),
    HOSTILE / "secrets",
]
# Values that have no shape to find them by: literal passwords of the fixtures.
PASSWORDS = [
    "Catalog#2019!",
    "Warehouse-2020-admin",
    "Reports-2018!",
    "Events-Prod-2021",
    "Wh-prod-2020",
    "Hostile-Ledger-2024!",
    "Hostile-Tf-Ledger-2024!",
]


def _example_files(tmp_path: Path) -> list[Path]:
    """The examples of the credential policies, as files (KEYS-004 and WORKLOAD-005 are example-only)."""
    from validator.engine.policies import builtin_policy_dir

    policies, _ = load_policies([builtin_policy_dir()])
    out: list[Path] = []
    for policy in policies:
        if policy.id not in ("KEYS-004", "KEYS-005", "KEYS-006", "SECRETS-002", "WORKLOAD-005"):
            continue
        for i, example in enumerate(policy.examples):
            if "cloudformation" in example:
                path = tmp_path / f"{policy.id}-{i}.yaml"
                path.write_text(example["cloudformation"])
            else:
                path = tmp_path / f"{policy.id}-{i}" / "main.tf"
                path.parent.mkdir()
                path.write_text(example["terraform"])
            out.append(path)
    return out


def _raw_secrets(paths: list[Path]) -> set[str]:
    from validator.secrets import ACCESS_KEY_ID, ENTROPY_FLOOR, SECRET_ACCESS_KEY, _mixed, entropy

    found = set(PASSWORDS)
    for base in paths:
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        for file in files:
            for text in (file.name, file.read_text(encoding="utf-8", errors="replace")):
                found.update(ACCESS_KEY_ID.findall(text))
                found.update(c for c in SECRET_ACCESS_KEY.findall(text) if _mixed(c) and entropy(c) >= ENTROPY_FLOOR)
    return found


def test_no_output_format_shows_a_secret(tmp_path):
    examples = tmp_path / "examples"
    examples.mkdir()
    inputs = [p for p in SECRET_FIXTURES if p.exists()] + _example_files(examples)
    raw = _raw_secrets(inputs)
    assert {"AKIAQ4HT7BXK2MZ9WE5R", "ASIAQ4HT7BXK2MZ9WE5R", "AKIAZ7QF3WLXNC4PJR2M", "Xq7vLm2Rt9Kp4Wn8Yb3Hc6Jd1Fg5Sa0ZeQuIoPlM"} <= raw
    # a key keeps its first four characters when masked: look for the rest
    needles = {value if value in PASSWORDS else value[4:]: value for value in raw}
    leaks: list[str] = []
    for fmt in FORMATS:
        out = tmp_path / f"report.{fmt}"
        baseline = tmp_path / f"baseline.{fmt}.json"
        done = CliRunner().invoke(
            app,
            [
                "scan", *map(str, inputs), "--format", fmt, "--output", str(out), "--verbose",
                "--policy-dir", str(POLICIES), "--baseline-write", str(baseline), "--no-color",
            ],
        )  # fmt: skip
        assert done.exit_code == 2, done.output  # the broken secret fixtures are errors
        for where, text in (("report", out.read_text()), ("baseline", baseline.read_text()), ("terminal", done.output)):
            leaks += [f"{fmt} {where}: {needles[n]}" for n in needles if n in text]
        if fmt == "text":
            shown = out.read_text()
            # file names, resource ids, parse errors and a policy message that shows the value: all masked
            assert "deploy-ASIA****************.yaml" in shown
            assert "deployerAKIA****************key" in shown
            assert "Duplicate found 'AKIA****************'" in shown
            assert "<<AKIA****************\\naws_secret_access_key = kV3p****" in shown
            assert "MasterUserPassword is ********, not a dynamic reference" in shown
            assert "master_password is ********, not a dynamic reference" in shown
    assert leaks == []


def test_the_mask_keeps_types_and_reaches_every_field(report):
    from validator.secrets import Masker, mask_report

    masked = mask_report(report, Masker({"valid.yaml"}))
    assert masked.fail_on is report.fail_on and masked.score.counts == report.score.counts
    assert not any("valid.yaml" in r.path for r in masked.files)
    assert all(isinstance(f.severity.rank, int) for f in masked.findings)
    assert re.search(r"\*{8}", FORMATS["json"](masked))
    gitlab_out = json.loads(gitlab.render(masked))
    assert not any("valid.yaml" in i["location"]["path"] for i in gitlab_out)


def test_sub_strings_do_not_count_as_nesting():
    """`${Var}` in !Sub strings opens no collection: a template full of them needs no event scan."""
    lines = ["Resources:", "  Topic:", "    Type: AWS::SNS::Topic", "    Properties:", "      Tags:"]
    lines += [f"        - {{Key: k{i}, Value: !Sub '${{AWS::StackName}}-${{AWS::Region}}-{i}'}}" for i in range(60)]
    text = "\n".join(lines) + "\n"
    assert limits._surely_shallow(text, limits.MAX_NESTING)
    assert limits.structure_problem(text) is None
    deep = "a: " + "[" * 101 + "]" * 101 + "\nb: ${x}\n"
    assert not limits._surely_shallow(deep, limits.MAX_NESTING)
    assert "nesting" in limits.structure_problem(deep).message
