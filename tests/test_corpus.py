"""The shared corpus of real-world templates: every file accounted for, no tool errors, deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator.config import Config
from validator.model import FileStatus, Outcome, Report
from validator.run import run

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="module")
def reports() -> tuple[Report, Report]:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"no corpus at {CORPUS}")
    config = Config(paths=(str(CORPUS),), fail_on=None)
    return run(config), run(config)


def manifest() -> list[str]:
    lines = (CORPUS / "MANIFEST.tsv").read_text("utf-8").splitlines()
    assert lines[0].split("\t")[0] == "path"
    return [line.split("\t")[0] for line in lines[1:] if line.strip()]


def test_every_manifest_file_is_reported_once_with_a_status(reports):
    report, _ = reports
    by_path: dict[str, list] = {}
    for record in report.files:
        by_path.setdefault(Path(record.path).relative_to(CORPUS).as_posix(), []).append(record)
    expected = manifest()
    assert expected
    missing = [p for p in expected if p not in by_path]
    assert missing == []
    repeated = [p for p, records in by_path.items() if len(records) != 1]
    assert repeated == []
    for path in expected:
        (record,) = by_path[path]
        if record.status is not FileStatus.SCANNED:
            assert record.reason.strip(), f"{path} is {record.status} without a reason"


def test_templates_and_modules_are_actually_scanned(reports):
    report, _ = reports
    scanned = [r for r in report.files if r.status is FileStatus.SCANNED]
    assert any(r.path.endswith(".tf") for r in scanned)
    assert any(r.path.endswith((".yaml", ".yml")) for r in scanned)
    assert any(r.path.endswith(".json") for r in scanned)
    assert report.resources_scanned > 0
    assert report.passed > 0


def test_no_finding_is_a_tool_error(reports):
    report, _ = reports
    errors = [f for f in (*report.findings, *report.unresolved) if f.outcome is Outcome.ERROR]
    assert errors == []
    assert all(f.outcome is Outcome.FAIL for f in report.findings)
    assert all(f.outcome is Outcome.SKIP for f in report.unresolved)


def test_findings_point_at_a_scanned_file_and_line(reports):
    report, _ = reports
    scanned = {r.path for r in report.files if r.status is FileStatus.SCANNED}
    for finding in (*report.findings, *report.unresolved):
        assert finding.location.file in scanned, finding
        assert finding.location.line and finding.location.line > 0, finding
        assert finding.message, finding


def test_two_runs_are_identical(reports):
    first, second = reports
    assert first.findings == second.findings
    assert first.unresolved == second.unresolved
    assert first.files == second.files
    assert first.errors == second.errors
    assert first.score == second.score
