"""--jobs and the result cache change when a report is ready, never what it says.

The shared corpus (≈480 real templates and modules) is scanned in one process, in two worker
processes, and twice through a result cache; the four reports must be equal. Smaller trees show
what a user relies on: an edited file is scanned again, a corrupt cache entry is ignored, a file
read by `file()` is part of the key, a worker that dies loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from validator import discover as discover_module
from validator import execute
from validator.config import Config
from validator.discover import discover
from validator.model import Outcome, Report
from validator.run import run
from validator.units import split

ROOT = Path(__file__).parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "fixtures"


# --- the corpus: one process = two workers = cold cache = warm cache -----------------------------


@pytest.fixture(scope="module")
def corpus_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"no corpus at {CORPUS}")
    cache = str(tmp_path_factory.mktemp("cache"))
    base = Config(paths=(str(CORPUS),), fail_on=None)
    saved = discover_module.PACK_AFTER_CHARS
    discover_module.PACK_AFTER_CHARS = 100_000  # a large tree's: most texts wait compressed
    try:
        packed = run(Config(paths=base.paths, fail_on=None, jobs=2))
    finally:
        discover_module.PACK_AFTER_CHARS = saved
    return {
        "packed texts": packed,
        "jobs 1": run(base),
        "jobs 2": run(Config(paths=base.paths, fail_on=None, jobs=2)),
        "cold cache": run(Config(paths=base.paths, fail_on=None, jobs=2, cache_dir=cache)),
        "warm cache": run(Config(paths=base.paths, fail_on=None, jobs=2, cache_dir=cache)),
    }


def test_past_the_threshold_texts_wait_compressed_and_read_back_the_same(monkeypatch):
    def sources() -> list[discover_module.SourceFile]:
        plan = discover([str(FIXTURES / "examples")])
        return [*plan.cloudformation, *(f for fs in plan.terraform.values() for f in fs)]

    assert all(isinstance(s.data, str) for s in sources())  # a small tree: nothing compressed
    monkeypatch.setattr(discover_module, "PACK_AFTER_CHARS", 0)
    assert all(isinstance(s.data, bytes) for s in sources())
    for source in sources():
        with open(source.path, encoding="utf-8-sig") as fh:
            assert source.text == fh.read()
        assert source.chars == len(source.text)


def test_the_corpus_is_big_enough_to_be_scanned_in_parallel():
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"no corpus at {CORPUS}")
    units = split(discover([str(CORPUS)]))
    size = sum(len(s.text) for u in units for s in u.sources())
    assert len(units) >= execute.MIN_PARALLEL_UNITS and size >= execute.MIN_PARALLEL_BYTES


@pytest.mark.parametrize("route", ["jobs 2", "cold cache", "warm cache", "packed texts"])
def test_every_route_gives_the_same_report(corpus_reports, route):
    expected, got = corpus_reports["jobs 1"], corpus_reports[route]
    assert got.findings and got.findings == expected.findings
    assert got.files == expected.files
    assert got.errors == expected.errors
    assert got.unresolved == expected.unresolved
    assert got.inventory == expected.inventory
    assert (got.passed, got.resources_scanned, got.score) == (expected.passed, expected.resources_scanned, expected.score)
    assert got == expected


def test_the_warm_run_reads_every_cacheable_unit_from_the_cache(corpus_reports):
    cold, warm = corpus_reports["cold cache"].from_cache, corpus_reports["warm cache"].from_cache
    assert cold[0] == 0
    assert warm == (cold[1], cold[1])  # file()/templatefile() readers included: their files are unchanged


def test_the_cli_output_is_byte_identical_for_any_number_of_jobs(tmp_path):
    out = {}
    for jobs in ("1", "2", "3"):
        target = tmp_path / f"report-{jobs}.sarif"
        cmd = [sys.executable, "-m", "validator", "scan", str(FIXTURES / "policies"), "--jobs", jobs, "--no-cache"]
        subprocess.run([*cmd, "--format", "sarif", "-o", str(target), "--fail-on", "none"], check=True, timeout=300)
        out[jobs] = target.read_bytes()
    assert out["1"] == out["2"] == out["3"]
    assert json.loads(out["1"])["runs"][0]["results"]


# --- passes are counted, and kept only when asked --------------------------------------------------


def test_passes_are_counted_without_being_kept_unless_asked():
    counted = run(Config(paths=(str(FIXTURES / "examples"),)))
    kept = run(Config(paths=(str(FIXTURES / "examples"),), keep_passes=True))
    assert counted.passes == () and counted.passed > 0
    assert len(kept.passes) == kept.passed == counted.passed
    assert all(f.outcome is Outcome.PASS for f in kept.passes)
    assert kept.findings == counted.findings


# --- the cache on a small tree ---------------------------------------------------------------------

ROLE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: {duration}
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
"""


def _session_findings(report: Report) -> list[str]:
    return [f"{f.resource_id}:{f.location.line}" for f in report.findings if f.policy_id == "SESSION-001"]


def test_an_edited_file_is_scanned_again_and_an_unchanged_one_is_not(tmp_path):
    tree, cache = tmp_path / "stacks", tmp_path / "cache"
    tree.mkdir()
    (tree / "deploy.yaml").write_text(ROLE.format(duration=3600))
    (tree / "other.yaml").write_text(ROLE.format(duration=3600).replace("DeployRole", "OtherRole"))
    config = Config(paths=(str(tree),), cache_dir=str(cache))

    first = run(config)
    assert _session_findings(first) == [] and first.from_cache == (0, 2)
    (tree / "deploy.yaml").write_text(ROLE.format(duration=43200))
    second = run(config)
    assert _session_findings(second) == ["DeployRole:6"]
    assert second.from_cache == (1, 2)  # other.yaml came from the cache
    assert run(config).from_cache == (2, 2)


def test_a_corrupt_or_truncated_entry_is_ignored_and_rewritten(tmp_path):
    tree, cache = tmp_path / "stacks", tmp_path / "cache"
    tree.mkdir()
    (tree / "deploy.yaml").write_text(ROLE.format(duration=43200))
    config = Config(paths=(str(tree),), cache_dir=str(cache))
    expected = run(config)
    (entry,) = [p for p in cache.rglob("*.pickle")]
    for damage in (b"", b"not a pickle", entry.read_bytes()[:20]):
        entry.write_bytes(damage)
        again = run(config)
        assert again == expected and again.from_cache == (0, 1)
    assert run(config).from_cache == (1, 1)


def test_settings_that_change_results_are_part_of_the_key(tmp_path):
    tree, cache = tmp_path / "stacks", tmp_path / "cache"
    tree.mkdir()
    (tree / "deploy.yaml").write_text(ROLE.format(duration=7200))
    default = run(Config(paths=(str(tree),), cache_dir=str(cache)))  # at most one hour
    lenient = run(Config(paths=(str(tree),), cache_dir=str(cache), params={"SESSION-001": {"max_seconds": "4h"}}))
    assert _session_findings(default) == ["DeployRole:6"]
    assert _session_findings(lenient) == []
    assert lenient.from_cache == (0, 1)


def test_a_module_reading_a_file_is_judged_with_the_file_as_it_is_now(tmp_path):
    """`assume_role_policy = file("trust.json")`: the trust policy is not in any .tf file."""
    module, cache = tmp_path / "role", tmp_path / "cache"
    module.mkdir()
    (module / "main.tf").write_text(
        'resource "aws_iam_role" "vendor" {\n'
        '  name               = "vendor-audit"\n'
        '  assume_role_policy = file("${path.module}/trust.json")\n'
        "}\n"
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}],
    }
    (module / "trust.json").write_text(json.dumps(trust))
    config = Config(paths=(str(module),), cache_dir=str(cache))
    first = run(config)
    assert [f.resource_id for f in first.findings if f.policy_id == "TRUST-001"] == ["aws_iam_role.vendor"]
    assert run(config).from_cache == (1, 1)
    trust["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "vendor-4f1c9a"}}
    (module / "trust.json").write_text(json.dumps(trust))
    edited = run(config)
    assert edited.from_cache == (0, 1)
    assert [f.resource_id for f in edited.findings if f.policy_id == "TRUST-001"] == []
    (module / "trust.json").unlink()  # now unknown: neither failing nor the cached pass
    gone = run(config)
    assert gone.from_cache == (0, 1)
    assert [f.resource_id for f in gone.unresolved if f.policy_id == "TRUST-001"] == ["aws_iam_role.vendor"]


def test_no_cache_reads_and_writes_nothing(tmp_path):
    home = tmp_path / "cache"
    env = {**os.environ, "IAC_VALIDATOR_CACHE_DIR": str(home)}
    cmd = [sys.executable, "-m", "validator", "scan", str(FIXTURES / "examples"), "--format", "json", "-o", os.devnull]
    subprocess.run([*cmd, "--no-cache"], env=env, timeout=120)
    assert not list(home.rglob("*.pickle"))  # (the HCL parser's own cache may be there: not results)
    subprocess.run(cmd, env=env, timeout=120)
    assert any(home.rglob("*.pickle"))


def test_concurrent_runs_share_one_cache_safely(tmp_path):
    tree, cache = tmp_path / "policies", tmp_path / "cache"
    shutil.copytree(FIXTURES / "policies", tree)
    env = {**os.environ, "IAC_VALIDATOR_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "validator", "scan", str(tree), "--format", "json", "--fail-on", "none", "--jobs", "1"]
    runs = [subprocess.Popen([*cmd, "-o", str(tmp_path / f"{i}.json")], env=env) for i in range(3)]
    assert [p.wait(timeout=300) for p in runs] == [0, 0, 0]
    assert not list(cache.rglob(".tmp-*"))  # no half-written entry left behind
    subprocess.run([*cmd, "-o", str(tmp_path / "warm.json")], env=env, check=True, timeout=300)
    reports = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("0", "1", "2", "warm")]
    assert all(r["findings"] == reports[0]["findings"] for r in reports)


# --- a worker that dies ----------------------------------------------------------------------------


def test_a_worker_that_dies_loses_no_unit(monkeypatch):
    parent = os.getpid()
    original = execute.scan

    def crash_in_workers(unit, policies, config):
        if os.getpid() != parent and "TRUST-001" in unit.label:
            os._exit(9)  # as if killed by the OOM killer
        return original(unit, policies, config)

    monkeypatch.setattr(execute, "MIN_PARALLEL_BYTES", 0)
    expected = run(Config(paths=(str(FIXTURES / "policies"),)))
    monkeypatch.setattr(execute, "scan", crash_in_workers)
    got = run(Config(paths=(str(FIXTURES / "policies"),), jobs=2))
    assert got == expected


# --- units: what must be loaded together stays together -------------------------------------------


def test_nested_stacks_and_called_modules_stay_in_one_unit(tmp_path):
    (tmp_path / "cfn").mkdir()
    (tmp_path / "cfn" / "parent.yaml").write_text(
        "Resources:\n  Network:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./network.yaml\n"
    )
    (tmp_path / "cfn" / "network.yaml").write_text(ROLE.format(duration=3600))
    (tmp_path / "cfn" / "billing.yaml").write_text(ROLE.format(duration=3600))
    for d in ("live/prod", "modules/role", "sandbox", "shared-vars"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "live/prod/main.tf").write_text('module "role" {\n  source = "../../modules/role"\n}\n')
    (tmp_path / "modules/role/main.tf").write_text('resource "aws_iam_role" "r" {\n  name = "r"\n}\n')
    (tmp_path / "sandbox/main.tf").write_text('resource "aws_iam_role" "s" {\n  name = "s"\n}\n')
    (tmp_path / "shared-vars/terraform.tfvars").write_text('region = "eu-west-1"\n')

    units = split(discover([str(tmp_path)]))
    groups = sorted(sorted(os.path.relpath(s.path, tmp_path) for s in u.sources()) for u in units)
    assert groups == [
        ["cfn/billing.yaml"],
        ["cfn/network.yaml", "cfn/parent.yaml"],
        ["live/prod/main.tf", "modules/role/main.tf"],
        ["sandbox/main.tf"],
        ["shared-vars/terraform.tfvars"],
    ]


def test_a_cache_kept_inside_the_scanned_repository_is_not_scanned(tmp_path):
    """GitLab CI caches only paths inside the project: the cache directory is tagged (CACHEDIR.TAG)
    and discovery skips it as one directory instead of listing every entry as a skipped file."""
    (tmp_path / "deploy.yaml").write_text(ROLE.format(duration=3600))
    config = Config(paths=(str(tmp_path),), cache_dir=str(tmp_path / ".iac-validator-cache"))
    run(config)
    again = run(config)
    assert again.from_cache == (1, 1)
    assert [(os.path.basename(r.path), r.status.value) for r in again.files] == [
        (".iac-validator-cache", "skipped"),
        ("deploy.yaml", "scanned"),
    ]


@pytest.mark.parametrize("enabled", [True, False])
def test_a_unit_is_scanned_without_the_cycle_collector_which_is_left_as_it_was(enabled):
    import gc

    from validator.engine.policies import builtin_policy_dir, load_policies
    from validator.work import scan

    policies, _ = load_policies([builtin_policy_dir()])
    unit = split(discover([str(FIXTURES / "examples")]))[0]
    (gc.enable if enabled else gc.disable)()
    try:
        result = scan(unit, policies, Config(paths=(str(FIXTURES / "examples"),)))
        assert gc.isenabled() is enabled
        assert result.templates >= 1
    finally:
        gc.enable()
