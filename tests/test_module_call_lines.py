"""A finding inside a local Terraform module says which module call reached it, in every format."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from validator.cli import app

ROOT = Path(__file__).parents[1]
REPORT_SCHEMA = json.loads((ROOT / "validator" / "reporters" / "report.schema.json").read_text())
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"

CALLER = 'module "vendor" {\n  source     = "./modules/vendor"\n  account_id = "111122223333"\n}\n'
MODULE = """\
variable "account_id" {}
resource "aws_iam_role" "this" {
  name                 = "vendor"
  permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::${var.account_id}:root" }, Action = "sts:AssumeRole" }]
  })
}
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "main.tf").write_text(CALLER)
    (tmp_path / "live" / "modules" / "vendor").mkdir(parents=True)
    (tmp_path / "live" / "modules" / "vendor" / "main.tf").write_text(MODULE)
    return tmp_path / "live"


def test_text_json_and_sarif_name_the_calling_line(tmp_path: Path):
    root = project(tmp_path)
    runner = CliRunner()
    text = runner.invoke(app, ["scan", str(root)]).output
    assert "modules/vendor/main.tf:5  module.vendor.aws_iam_role.this" in text
    assert f"called from {root / 'main.tf'}:1 module.vendor" in text

    data = json.loads(runner.invoke(app, ["scan", str(root), "--format", "json"]).output)
    jsonschema.validate(data, REPORT_SCHEMA)
    (finding,) = [f for f in data["findings"] if f["policy_id"] == "TRUST-001"]
    assert finding["called_from"] == [f"{root / 'main.tf'}:1 module.vendor"]
    assert finding["location"]["file"].endswith("modules/vendor/main.tf")

    sarif = json.loads(runner.invoke(app, ["scan", str(root), "--format", "sarif"]).output)
    if SARIF_SCHEMA.is_file():
        jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "TRUST-001"]
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 1
    assert related["physicalLocation"]["artifactLocation"]["uri"].endswith("main.tf")
