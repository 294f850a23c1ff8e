"""fixtures/clean: a compliant web application in CloudFormation and in Terraform must pass cleanly."""

from __future__ import annotations

from pathlib import Path

from validator.config import Config
from validator.discover import discover
from validator.engine.evaluate import evaluate
from validator.engine.policies import builtin_policy_dir, load_policies
from validator.model import FileStatus, Format, Outcome
from validator.run import load_all, run

ROOT = Path(__file__).parent.parent
CLEAN = ROOT / "fixtures" / "clean"
POLICY_IDS = {"WORKLOAD-001", "TRUST-001", "SESSION-001"}


def _relative(path: str) -> str:
    return Path(path).resolve().relative_to(CLEAN.resolve()).as_posix()


def test_clean_stack_has_no_failing_findings_and_no_errors():
    report = run(Config(paths=(str(CLEAN),)))
    assert report.errors == ()
    assert report.findings == (), "\n".join(
        f"{f.policy_id} {_relative(f.location.file)}:{f.location.line} {f.resource_id}: {f.message}" for f in report.findings
    )
    assert report.unresolved == (), [f"{f.resource_id}: {f.message}" for f in report.unresolved]
    assert report.gate_passed
    assert report.score.value == 100


def test_every_file_of_the_clean_stack_is_scanned():
    report = run(Config(paths=(str(CLEAN),)))
    on_disk = {p.relative_to(CLEAN).as_posix() for p in CLEAN.rglob("*") if p.is_file()}
    assert on_disk == {
        "cloudformation/web-app.yaml",
        "terraform/iam.tf",
        "terraform/main.tf",
        "terraform/outputs.tf",
        "terraform/variables.tf",
        "terraform/versions.tf",
    }
    statuses = {_relative(r.path): r.status for r in report.files}
    assert statuses == dict.fromkeys(on_disk, FileStatus.SCANNED)
    resources = {_relative(r.path): r.resources for r in report.files}
    assert resources["cloudformation/web-app.yaml"] > 0
    assert resources["terraform/iam.tf"] > 0
    assert resources["terraform/main.tf"] > 0


def test_every_policy_is_exercised_and_passes_in_both_formats():
    """Zero findings means something only if each policy actually judged resources in each format."""
    policies, errors = load_policies([builtin_policy_dir()])
    assert errors == []
    passed: dict[Format, dict[str, set[str]]] = {Format.CLOUDFORMATION: {}, Format.TERRAFORM: {}}
    for template, template_errors, _ in load_all(discover([str(CLEAN)])):
        assert template is not None and template_errors == []
        for f in evaluate(policies, [template]):
            if f.policy_id in POLICY_IDS:
                assert f.outcome is Outcome.PASS, f"{f.policy_id} {f.resource_id}: {f.message}"
                passed[f.format].setdefault(f.policy_id, set()).add(f.resource_id)

    assert passed[Format.CLOUDFORMATION] == {
        "WORKLOAD-001": {"WebServer"},
        "TRUST-001": {"WebServerRole", "OrdersFunctionRole", "GitHubActionsDeployRole", "MonitoringVendorRole"},
        "SESSION-001": {"WebServerRole", "OrdersFunctionRole", "GitHubActionsDeployRole", "MonitoringVendorRole"},
    }
    roles = {"aws_iam_role.web", "aws_iam_role.orders_processor", "aws_iam_role.github_deploy", "aws_iam_role.monitoring_vendor"}
    assert passed[Format.TERRAFORM] == {
        "WORKLOAD-001": {"aws_instance.web"},
        "TRUST-001": roles,
        "SESSION-001": roles,
    }
