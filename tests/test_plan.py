"""Plan JSON (`terraform show -json` / `tofu show -json`): real files from ../shared/plans and our fixtures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from terraform_helpers import load, write

from validator.config import Config
from validator.model import SELF_ACCOUNT, FileStatus, Format, Outcome, Reference, is_pseudo, is_unknown
from validator.reporters import render
from validator.run import run

ROOT = Path(__file__).parents[1]
SHARED = ROOT.parent / "shared" / "plans"
FIXTURES = ROOT / "fixtures" / "plans"
EQUIVALENCE = ROOT / "fixtures" / "terraform" / "equivalence"
SHARED_PLANS = sorted(SHARED.glob("*.json")) if SHARED.is_dir() else []
needs_shared = pytest.mark.skipif(not SHARED_PLANS, reason=f"no shared plans at {SHARED}")


def alone(tmp_path: Path, plan: Path, with_source: bool = False) -> Path:
    """The plan in a directory of its own (the shared folder mixes many plans' .tf files)."""
    target = tmp_path / plan.name
    shutil.copyfile(plan, target)
    source = plan.with_name(plan.name.replace(".json", ".main.tf"))
    if with_source and source.exists():
        shutil.copyfile(source, tmp_path / "main.tf")
    return target


@needs_shared
@pytest.mark.parametrize("plan", SHARED_PLANS, ids=lambda p: p.name)
def test_every_shared_plan_loads_without_errors(tmp_path, plan):
    loaded = load(alone(tmp_path, plan))
    assert loaded.errors == []
    record = loaded.record(tmp_path / plan.name)
    assert record.status is FileStatus.SCANNED and record.format is Format.TERRAFORM_PLAN
    for resource in loaded.resources.values():
        assert resource.format is Format.TERRAFORM_PLAN
        assert resource.location.file == str(tmp_path / plan.name)
    report = run(Config(paths=(str(tmp_path),), fail_on=None))
    assert [f for f in report.findings if f.outcome is Outcome.ERROR] == []
    for fmt in ("text", "json"):
        assert render(report, fmt, color=False)


@needs_shared
@pytest.mark.parametrize("name", ["checkov-plan_with_utf_16_encoding.json", "checkov-plan_encodings-tfplan_win_utf16.json"])
def test_utf16_plans_written_by_powershell_are_decoded(tmp_path, name):
    assert (SHARED / name).read_bytes()[:2] == b"\xff\xfe"
    loaded = load(alone(tmp_path, SHARED / name))
    assert loaded.errors == []
    assert any(r.type == "aws_s3_bucket" for r in loaded.resources.values())
    # the line of each resource is its address in resource_changes, counted through CRLF line ends
    text = (SHARED / name).read_bytes().decode("utf-16")
    for r in loaded.resources.values():
        if not is_pseudo(r.type):
            assert f'"address": "{r.id}"' in text.splitlines()[r.location.line - 1]


@needs_shared
def test_compact_plan_and_addresses_from_nested_child_modules(tmp_path):
    resources = load(alone(tmp_path, SHARED / "checkov-plan_nested_child_modules.json")).resources
    assert sorted(k for k, r in resources.items() if r.type == "aws_eks_cluster") == [
        "module.child_0.module.child_1_a.aws_eks_cluster.cluster",
        "module.child_0.module.child_1_b.aws_eks_cluster.cluster",
        "module.child_0.module.child_1_c.aws_eks_cluster.cluster",
    ]
    keyed = load(alone(tmp_path, SHARED / "checkov-plan_for_each_nested_modules_with_connections.json")).resources
    assert 'module.parent["prod"].module.child.azurerm_subnet.subnet["app"]' in keyed
    counted = load(alone(tmp_path, SHARED / "opentofu-modules.json")).resources
    assert {"module.module_test_foo.test_instance.test[0]", "module.module_test_bar.test_instance.test"} <= set(counted)
    assert counted["module.module_test_bar.test_instance.test"].properties == {"ami": "bar-var"}


@needs_shared
def test_unknown_values_and_data_sources(tmp_path):
    resources = load(alone(tmp_path, SHARED / "checkov-plan_with_iam_data_block.json")).resources
    policy = resources["aws_s3_bucket_policy.allow_access_from_another_account"].properties["policy"]
    # unknown in the plan; the configuration says it is the policy document's json: rendered from it
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"AWS": "123456789012"} and statement["Action"] == "*"
    resource = statement["Resource"]
    assert isinstance(resource, Reference) and resource.target == "aws_s3_bucket.example"
    bucket = resources["aws_s3_bucket_policy.allow_access_from_another_account"].properties["bucket"]
    assert isinstance(bucket, Reference) and (bucket.target, bucket.attribute) == ("aws_s3_bucket.example", "id")
    # computed attributes the configuration does not set are left out, as in HCL
    assert "arn" not in resources["aws_s3_bucket.example"].properties
    partial = load(alone(tmp_path, SHARED / "checkov-plan_data_resource_partial_values.json")).resources
    cluster = partial["module.child.module.b.data.aws_eks_cluster.cluster"]
    assert cluster.type == "data.aws_eks_cluster" and cluster.properties["name"] == "test"


@needs_shared
def test_data_sources_read_during_planning_come_from_prior_state(tmp_path):
    resources = load(alone(tmp_path, SHARED / "checkov-plan_with_iam_policies.json")).resources
    assert resources["data.aws_iam_policy_document.fail_1"].properties["json"].startswith("{")
    policy = json.loads(resources["aws_iam_role_policy.fail_1"].properties["policy"])
    assert policy["Statement"][0]["Action"] == "iam:*"


@needs_shared
def test_a_replacement_is_judged_and_a_deletion_is_not(tmp_path):
    replaced = load(alone(tmp_path, SHARED / "checkov-plan_with_deleted_resources.json")).resources
    assert "aws_secretsmanager_secret.default" in replaced  # ["create", "delete"]: it exists after apply
    doc = json.loads((SHARED / "checkov-plan_with_deleted_resources.json").read_text("utf-8"))
    doc["resource_changes"][0]["change"]["actions"] = ["delete"]
    doc["planned_values"]["root_module"]["resources"] = []
    (tmp_path / "deleted").mkdir()
    (tmp_path / "deleted" / "plan.json").write_text(json.dumps(doc), "utf-8")
    assert not [r for r in load(tmp_path / "deleted").resources.values() if not is_pseudo(r.type)]
    resources = load(FIXTURES / "sensitive-deleted-and-deferred.json").resources
    assert "aws_iam_role.legacy" not in resources  # delete only, also in prior_state: never judged
    assert resources["aws_iam_role.batch"].properties["max_session_duration"] == 43200  # replaced


@needs_shared
def test_providers_with_aliases_from_configuration(tmp_path):
    resources = load(alone(tmp_path, SHARED / "checkov-plan_with_providers.json")).resources
    assert sorted(k for k in resources if k.startswith("provider.")) == ["provider.aws", "provider.aws.ohio", "provider.aws.oregon"]
    assert resources["provider.aws.ohio"].properties == {"access_key": "AKIAIOSFODNN7EXAMPLE", "region": "us-east-2", "alias": "ohio"}
    scoped = load(alone(tmp_path, SHARED / "opentofu-modules.json")).resources
    assert {r.type for r in scoped.values() if r.id.startswith("provider.")} <= {"provider.test"}


def _rendered(path: Path) -> str:
    report = run(Config(paths=(str(path),), fail_on=None))
    return "\n".join(render(report, fmt, color=False) for fmt in ("text", "json", "sarif", "junit", "markdown", "gitlab"))


@needs_shared
@pytest.mark.parametrize("with_source", [False, True])
def test_sensitive_values_never_reach_a_report(tmp_path, with_source):
    plan = alone(tmp_path, SHARED / "opentofu-sensitive-values.json", with_source=with_source)
    resources = load(plan).resources
    assert is_unknown(resources["test_instance.test"].properties["ami"])
    if not with_source:  # nothing read from the plan keeps it (the .tf source itself has it in clear)
        assert "boop" not in repr(resources)
    assert "boop" not in _rendered(tmp_path)


def test_sensitive_values_stay_masked_in_every_format():
    plan = FIXTURES / "sensitive-deleted-and-deferred.json"
    assert "Sup3r-S3cret-Passw0rd!" in plan.read_text("utf-8")
    resources = load(plan).resources
    password = resources["aws_db_instance.orders"].properties["password"]
    assert is_unknown(password) and password.reason == "sensitive value"
    assert "Sup3r-S3cret-Passw0rd!" not in _rendered(plan)


def test_a_trust_policy_the_plan_leaves_unknown_is_rendered_from_the_deferred_document():
    report = run(Config(paths=(str(FIXTURES / "sensitive-deleted-and-deferred.json"),), fail_on=None))
    failing = {(f.policy_id, f.resource_id.split(" (")[0]) for f in report.findings}
    assert ("TRUST-001", "aws_iam_role.partner") in failing  # 777788889999 without an external id
    assert ("SESSION-001", "aws_iam_role.batch") in failing
    assert not any(r == "aws_iam_role.legacy" for _, r in failing)


def test_compact_plan_static_provider_keys_and_module_instances():
    plan = FIXTURES / "compact-static-keys-and-modules.json"
    assert plan.read_text("utf-8").count("\n") == 1
    report = run(Config(paths=(str(plan),), fail_on=None))
    failing = {(f.policy_id, f.resource_id) for f in report.findings}
    assert ("WORKLOAD-001", 'module.app["blue"].aws_instance.this') in failing
    assert ("SESSION-001", "module.worker[0].aws_iam_role.this") in failing
    ids = {f.policy_id for f in report.findings if f.resource_id == "provider.aws"}
    if "KEYS-005" in {p.id for p in report.policies}:
        assert "KEYS-005" in ids
    assert all(f.location.file == str(plan) and f.location.line == 1 for f in report.findings)


def test_with_its_configuration_findings_carry_the_tf_file_and_line():
    plan = EQUIVALENCE / "plan" / "tfplan.json"
    expressive = EQUIVALENCE / "expressive"
    report = run(Config(paths=(str(plan),), fail_on=None, tf_source=str(expressive)))
    by_resource = {(f.policy_id, f.resource_id): f for f in report.findings}
    vendor = by_resource[("TRUST-001", "module.vendor.aws_iam_role.this (plan tfplan.json)")]
    # the line of assume_role_policy in the module, as for the HCL alone
    assert (vendor.location.file, vendor.location.line) == (str(expressive / "modules/cross-account-role/main.tf"), 29)
    assert vendor.format is Format.TERRAFORM_PLAN
    analyst = by_resource[("SESSION-001", "aws_iam_role.analyst (plan tfplan.json)")]
    assert (analyst.location.file, analyst.location.line) == (str(expressive / "main.tf"), 71)
    statuses = {r.path: r.status for r in report.files}
    assert statuses[str(plan)] is FileStatus.SCANNED
    assert statuses[str(expressive / "main.tf")] is FileStatus.SCANNED
    # the configuration is not judged a second time on its own
    assert not [f for f in report.findings if f.format is Format.TERRAFORM]


def test_tf_files_beside_the_plan_are_its_configuration(tmp_path):
    shutil.copytree(EQUIVALENCE / "expressive", tmp_path / "infra")
    shutil.copyfile(EQUIVALENCE / "plan" / "tfplan.json", tmp_path / "infra" / "tfplan.json")
    report = run(Config(paths=(str(tmp_path),), fail_on=None))
    formats = {f.format for f in report.findings}
    assert formats == {Format.TERRAFORM_PLAN}
    vendor = [f for f in report.findings if f.policy_id == "TRUST-001" and f.resource_id.startswith("module.vendor")]
    assert [f.location.file for f in vendor] == [str(tmp_path / "infra/modules/cross-account-role/main.tf")]


def test_the_deploying_account_is_the_self_account():
    resources = load(EQUIVALENCE / "plan" / "tfplan.json").resources
    trust = json.loads(resources["aws_iam_role.analyst"].properties["assume_role_policy"])
    assert trust["Statement"][0]["Principal"]["Federated"] == f"arn:aws:iam::{SELF_ACCOUNT}:saml-provider/okta"


def test_not_a_plan_and_broken_json_are_errors_with_a_line(tmp_path):
    write(tmp_path, {"broken.json": '{\n  "format_version": "1.2",\n  "planned_values": {,\n}\n'})
    loaded = load(tmp_path)
    (error,) = loaded.errors
    assert error.file == str(tmp_path / "broken.json") and error.line == 3
    assert loaded.record(tmp_path / "broken.json").status is FileStatus.ERROR
