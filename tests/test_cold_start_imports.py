"""What a one-file scan imports is start-up time a pre-commit user waits for on every commit.

A JSON report of a Terraform module or of a CloudFormation template needs neither rich (the text
reporter's), jsonschema (the built-in policy pack is validated when its content changes, see
tests/test_cold_start_policies.py) nor cfn-lint (a fallback decoder and an opt-in linter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from validator.model import Report
from validator.reporters import FORMATS, render

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("rich", "jsonschema", "cfnlint")

_SCAN = """
import json, sys
watch, out, argv = sys.argv[1].split(","), sys.argv[2], sys.argv[3:]
sys.argv = ["iac-validator", *argv]
from validator.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(watch))
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"code": code, "loaded": loaded}, fh)
"""


def imported_by(tmp_path: Path, *argv: str, watch: tuple[str, ...] = HEAVY) -> tuple[object, list[str]]:
    out = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-c", _SCAN, ",".join(watch), str(out), *argv], cwd=ROOT, check=True,
                   capture_output=True, text=True)
    done = json.loads(out.read_text("utf-8"))
    return done["code"], done["loaded"]


@pytest.mark.parametrize(
    "target",
    ["fixtures/policies/WORKLOAD-001/terraform/pass", "fixtures/policies/WORKLOAD-001/cloudformation/pass.yaml"],
    ids=["terraform-module", "cloudformation-template"],
)
def test_a_one_file_json_scan_imports_no_heavy_library(tmp_path, target):
    report = tmp_path / "report.json"
    code, loaded = imported_by(tmp_path, "scan", target, "--format", "json", "-o", str(report), "--fail-on", "none")
    assert code in (0, None)
    assert loaded == []
    assert json.loads(report.read_text("utf-8"))["summary"]["files"]["scanned"] >= 1


def test_a_one_file_terraform_scan_reads_no_yaml_and_starts_no_pool(tmp_path):
    """PyYAML is for CloudFormation and configuration files: the built-in pack is read from its
    decoded copy once the first run has written it. Process pools are for many files."""
    target = "fixtures/policies/WORKLOAD-001/terraform/pass"
    argv = ("scan", target, "--format", "json", "-o", str(tmp_path / "report.json"), "--fail-on", "none")
    watch = (*HEAVY, "yaml", "multiprocessing", "concurrent")
    imported_by(tmp_path, *argv, watch=watch)  # the first run may write the copy
    code, loaded = imported_by(tmp_path, *argv, watch=watch)
    assert code in (0, None)
    assert loaded == []


def test_the_version_imports_no_heavy_library(tmp_path):
    code, loaded = imported_by(tmp_path, "--version")
    assert code in (0, None)
    assert loaded == []


def test_importing_the_reporters_imports_no_reporter():
    code = "import sys, validator.reporters; print(sorted(m for m in sys.modules if m.startswith(('validator.reporters.', 'rich'))))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "[]"


def test_every_format_renders_with_its_module(monkeypatch):
    import importlib

    report = Report.__new__(Report)  # the renderers are replaced: any object goes
    for fmt in FORMATS:
        module = importlib.import_module(f"validator.reporters.{fmt}")
        seen: list[tuple[object, dict[str, object]]] = []
        name = module.__name__
        monkeypatch.setattr(module, "render", lambda r, _seen=seen, _name=name, **kw: _seen.append((r, kw)) or f"<{_name}>")
        assert FORMATS[fmt](report) == f"<{module.__name__}>"
        assert render(report, fmt) == f"<{module.__name__}>"
        assert seen[0] == (report, {})
        expected = {"color": False, "verbosity": 0} if fmt == "text" else {}
        assert seen[1] == (report, expected)
    text = importlib.import_module("validator.reporters.text")
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(text, "render", lambda r, **kw: calls.append(kw) or "")
    render(report, "text", color=True, verbosity=1)
    assert calls == [{"color": True, "verbosity": 1}]
