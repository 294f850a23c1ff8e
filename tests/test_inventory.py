"""The credential inventory: every long-term credential, and every way in to a role."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from validator.cli import app
from validator.config import Config
from validator.run import run

FIXTURE = Path(__file__).parents[1] / "fixtures" / "inventory"
RAW_KEY = "AKIAZ7QF3WLXNC4PJR2M"


def entries():
    report = run(Config(paths=(str(FIXTURE),), fail_on=None))
    return {(e.kind, e.resource_id): e for e in report.inventory}


def test_long_term_credentials_are_inventoried_in_both_formats():
    found = entries()
    kinds = {key for key in found if key[0] != "role-trust"}
    assert {
        ("iam-user", "LegacyCiUser"),
        ("access-key", "LegacyCiKey"),
        ("login-profile", "LegacyCiUser"),
        ("secret-without-rotation", "ArtifactsUploadToken"),
        ("iam-user", "aws_iam_user.reporting"),
        ("access-key", "aws_iam_access_key.reporting"),
        ("login-profile", "aws_iam_user_login_profile.reporting"),
        ("static-provider-key", "provider.aws"),
        ("hard-coded-key", "provider.aws"),
    } <= kinds
    assert found[("access-key", "LegacyCiKey")].detail == "access key for user LegacyCiUser"
    assert found[("iam-user", "aws_iam_user.reporting")].detail == "IAM user reporting-export"
    assert found[("access-key", "LegacyCiKey")].location.line == 11


def test_every_way_in_to_a_role_with_account_external_id_and_session():
    found = [e for e in run(Config(paths=(str(FIXTURE),), fail_on=None)).inventory if e.kind == "role-trust"]
    by_principal = {e.attributes["principal"]: e for e in found}
    vendor = by_principal["arn:aws:iam::444455556666:root"]
    assert vendor.attributes == {
        "principal_kind": "other account",
        "principal": "arn:aws:iam::444455556666:root",
        "account": "444455556666",
        "external_id": True,
        "max_session": 7200,
    }
    assert by_principal["LegacyCiUser"].attributes["principal_kind"] == "unresolved"  # a GetAtt: known at deploy
    oidc = next(e for e in found if e.resource_id == "aws_iam_role.github_deploy")
    assert oidc.attributes["principal_kind"] == "oidc" and oidc.attributes["max_session"] == 3600


def test_inventory_in_json_and_text_never_shows_the_key():
    runner = CliRunner()
    as_json = runner.invoke(app, ["scan", str(FIXTURE), "--format", "json", "--fail-on", "none"])
    data = json.loads(as_json.output)
    assert {e["kind"] for e in data["inventory"]} >= {"iam-user", "access-key", "role-trust", "static-provider-key"}
    text = runner.invoke(app, ["scan", str(FIXTURE), "--fail-on", "none"]).output
    assert "Credential inventory" in text and "Long-term credentials:" in text and "Ways in to roles:" in text
    for output in (as_json.output, text):
        assert RAW_KEY not in output
