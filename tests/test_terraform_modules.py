"""Local modules: loaded through their callers with the callers' inputs, addressed, located."""

from __future__ import annotations

import json

from terraform_helpers import load, write

from validator.config import Config
from validator.model import FileStatus, Outcome, Reference, is_unknown
from validator.run import run

ROLE_MODULE = {
    "modules/role/variables.tf": """
    variable "name" {
      type = string
    }
    variable "trusted_account" {
      type = string
    }
    variable "external_id" {
      type    = string
      default = null
    }
    variable "max_session_duration" {
      type    = number
      default = 3600
    }
    """,
    "modules/role/main.tf": """
    data "aws_iam_policy_document" "trust" {
      statement {
        actions = ["sts:AssumeRole"]
        principals {
          type        = "AWS"
          identifiers = ["arn:aws:iam::${var.trusted_account}:root"]
        }
        dynamic "condition" {
          for_each = var.external_id == null ? [] : [var.external_id]
          content {
            test     = "StringEquals"
            variable = "sts:ExternalId"
            values   = [condition.value]
          }
        }
      }
    }

    resource "aws_iam_role" "this" {
      name                 = var.name
      assume_role_policy   = data.aws_iam_policy_document.trust.json
      max_session_duration = var.max_session_duration
    }

    output "arn" {
      value = aws_iam_role.this.arn
    }

    output "name" {
      value = aws_iam_role.this.name
    }
    """,
}


def test_a_local_module_is_loaded_with_the_callers_inputs_and_full_addresses(tmp_path):
    write(
        tmp_path,
        {
            **ROLE_MODULE,
            "main.tf": """
            module "vendor" {
              source          = "./modules/role"
              name            = "vendor"
              trusted_account = "111122223333"
            }

            module "partner" {
              source               = "./modules/role"
              name                 = "partner"
              trusted_account      = "444455556666"
              external_id          = "contract-7"
              max_session_duration = 43200
            }

            resource "aws_iam_instance_profile" "vendor" {
              role = module.vendor.name
              tags = { arn = module.vendor.arn }
            }
            """,
        },
    )
    loaded = load(tmp_path)
    assert loaded.errors == []
    resources = loaded.resources
    vendor = resources["module.vendor.aws_iam_role.this"]
    partner = resources["module.partner.aws_iam_role.this"]
    assert (vendor.location.file, vendor.location.line) == (str(tmp_path / "modules/role/main.tf"), 20)
    # the calling line: in metadata; the calling file (no line, so identities survive edits): the origin
    assert vendor.metadata["module_calls"] == [f"{tmp_path / 'main.tf'}:2 module.vendor"]
    assert vendor.origin == "via ../../main.tf"
    assert vendor.properties["name"] == "vendor" and vendor.properties["max_session_duration"] == 3600
    assert partner.properties["max_session_duration"] == 43200
    vendor_trust = json.loads(vendor.properties["assume_role_policy"])["Statement"][0]
    partner_trust = json.loads(partner.properties["assume_role_policy"])["Statement"][0]
    assert "Condition" not in vendor_trust
    assert partner_trust["Condition"] == {"StringEquals": {"sts:ExternalId": "contract-7"}}
    # module outputs resolve into the child: a Reference to the role instance, its name known
    profile = resources["aws_iam_instance_profile.vendor"].properties
    assert isinstance(profile["role"], Reference) and profile["role"].target == "module.vendor.aws_iam_role.this"
    assert profile["tags"]["arn"].target == "module.vendor.aws_iam_role.this"
    # the module's own files are reported once, as scanned, with the resources located in them
    assert loaded.record(tmp_path / "modules/role/main.tf").status is FileStatus.SCANNED
    assert loaded.record(tmp_path / "modules/role/main.tf").resources == 2

    report = run(Config(paths=(str(tmp_path),), fail_on=None))
    failed = {(f.policy_id, f.resource_id, f.location.file, f.location.line) for f in report.findings}
    main_tf = str(tmp_path / "modules/role/main.tf")
    # the line of the offending argument inside the module
    assert ("TRUST-001", "module.vendor.aws_iam_role.this (via ../../main.tf)", main_tf, 22) in failed
    assert ("SESSION-001", "module.partner.aws_iam_role.this (via ../../main.tf)", main_tf, 23) in failed
    assert not any(f[0] == "TRUST-001" and "partner" in f[1] for f in failed)


def test_a_called_directory_is_judged_through_its_callers_only(tmp_path):
    write(
        tmp_path,
        {
            **ROLE_MODULE,
            "envs/prod/main.tf": 'module "vendor" {\n  source          = "../../modules/role"\n  name            = "vendor"\n  trusted_account = "111122223333"\n}\n',
            "envs/dev/main.tf": 'module "vendor" {\n  source          = "../../modules/role"\n  name            = "vendor-dev"\n  trusted_account = "111122223333"\n  external_id     = "dev"\n}\n',
        },
    )
    loaded = load(tmp_path)
    roles = sorted(k for k, r in loaded.resources.items() if r.type == "aws_iam_role")
    # twice, once per caller; never standalone with its default (unknown) inputs
    assert roles == ["module.vendor.aws_iam_role.this"]
    instances = [r for t in loaded.templates for r in t.resources if r.type == "aws_iam_role"]
    assert sorted(r.properties["name"] for r in instances) == ["vendor", "vendor-dev"]
    assert sorted(r.origin for r in instances) == ["via ../../envs/dev/main.tf", "via ../../envs/prod/main.tf"]
    # variable declarations of the child are judged once, not once per caller
    declared = [r for t in loaded.templates for r in t.resources if r.id == "module.vendor.var.name"]
    assert len(declared) == 1


def test_a_module_nobody_calls_is_scanned_standalone_and_one_only_called_with_count_zero_too(tmp_path):
    write(
        tmp_path,
        {
            **ROLE_MODULE,
            "main.tf": 'module "off" {\n  source          = "./modules/role"\n  count           = 0\n  name            = "off"\n  trusted_account = "1"\n}\n',
            "standalone/main.tf": 'resource "aws_iam_role" "alone" {\n  name = "alone"\n}\n',
        },
    )
    loaded = load(tmp_path)
    resources = loaded.resources
    assert "aws_iam_role.alone" in resources
    assert "aws_iam_role.this" in resources  # nobody instantiated it: judged on its own
    assert is_unknown(resources["aws_iam_role.this"].properties["name"])


def test_remote_and_escaping_modules_are_reported_as_not_analysed(tmp_path):
    write(
        tmp_path,
        {
            "repo/main.tf": """
            module "vpc" {
              source  = "terraform-aws-modules/vpc/aws"
              version = "~> 5.0"
            }
            module "git" {
              source = "git::https://example.com/modules.git//iam?ref=v1.2.0"
            }
            module "outside" {
              source = "../../elsewhere"
            }
            module "missing" {
              source = "./nothing-here"
            }
            resource "aws_iam_role" "r" {
              name = module.vpc.role_name
            }
            """,
        },
    )
    loaded = load(tmp_path / "repo")
    main = str(tmp_path / "repo/main.tf")
    skipped = {r.path: r.reason for r in loaded.records if r.status is FileStatus.SKIPPED}
    assert set(skipped) == {f"{main}:2 module.vpc", f"{main}:6 module.git", f"{main}:9 module.outside", f"{main}:12 module.missing"}
    assert "terraform-aws-modules/vpc/aws" in skipped[f"{main}:2 module.vpc"] and "never fetched" in skipped[f"{main}:2 module.vpc"]
    assert "git::https://example.com" in skipped[f"{main}:6 module.git"]
    assert "outside the scanned tree" in skipped[f"{main}:9 module.outside"]
    assert is_unknown(loaded.resources["aws_iam_role.r"].properties["name"])
    assert loaded.errors == []


def test_module_cycles_and_depth_are_bounded(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": 'module "a" {\n  source = "./a"\n}\n',
            "a/main.tf": 'module "b" {\n  source = "../b"\n}\nresource "aws_iam_role" "a" {}\n',
            "b/main.tf": 'module "a" {\n  source = "../a"\n}\nresource "aws_iam_role" "b" {}\n',
            "deep/main.tf": 'module "next" {\n  source = "./m"\n}\n',
            **{f"deep/{'m/' * i}main.tf": 'module "next" {\n  source = "./m"\n}\nresource "aws_iam_role" "r" {}\n' for i in range(1, 20)},
        },
    )
    loaded = load(tmp_path)
    ids = set(loaded.resources)
    assert {"module.a.aws_iam_role.a", "module.a.module.b.aws_iam_role.b"} <= ids
    reasons = [r.reason for r in loaded.records if r.status is FileStatus.SKIPPED]
    assert any("calls itself" in r for r in reasons)
    assert any("nested deeper than 16" in r for r in reasons)
    assert loaded.errors == []


def test_a_broken_child_file_is_one_error_and_the_rest_loads(tmp_path):
    write(
        tmp_path,
        {
            "a/main.tf": 'module "m" {\n  source = "../m"\n}\n',
            "b/main.tf": 'module "m" {\n  source = "../m"\n}\n',
            "m/good.tf": 'resource "aws_iam_role" "ok" {\n  max_session_duration = 43200\n}\n',
            "m/bad.tf": 'resource "aws_iam_role" "bad" {\n  name = = 1\n}\n',
        },
    )
    loaded = load(tmp_path)
    assert [(e.file, e.line) for e in loaded.errors] == [(str(tmp_path / "m/bad.tf"), 2)]
    assert loaded.record(tmp_path / "m/bad.tf").status is FileStatus.ERROR
    assert loaded.record(tmp_path / "m/good.tf").status is FileStatus.SCANNED
    assert "module.m.aws_iam_role.ok" in loaded.resources


def test_module_for_each_and_count_instances(tmp_path):
    write(
        tmp_path,
        {
            **ROLE_MODULE,
            "main.tf": """
            variable "vendors" {
              default = { datadog = "464622532012", acme = "111122223333" }
            }
            variable "unknown" {}
            module "vendor" {
              source          = "./modules/role"
              for_each        = var.vendors
              name            = "vendor-${each.key}"
              trusted_account = each.value
            }
            module "maybe" {
              source          = "./modules/role"
              count           = var.unknown ? 1 : 0
              name            = "maybe"
              trusted_account = "111122223333"
            }
            """,
        },
    )
    resources = load(tmp_path).resources
    datadog = resources['module.vendor["datadog"].aws_iam_role.this']
    assert datadog.properties["name"] == "vendor-datadog"
    assert "464622532012" in datadog.properties["assume_role_policy"]
    assert 'module.vendor["acme"].aws_iam_role.this' in resources
    assert resources["module.maybe[*].aws_iam_role.this"].properties["name"] == "maybe"


def test_findings_inside_modules_point_at_the_module_file(tmp_path):
    write(
        tmp_path,
        {
            "modules/bastion/main.tf": 'resource "aws_instance" "this" {\n  ami = "ami-0c1a7f89451184c8b"\n}\n',
            "main.tf": 'module "bastion" {\n  source = "./modules/bastion"\n}\n',
        },
    )
    report = run(Config(paths=(str(tmp_path),), fail_on=None))
    (finding,) = [f for f in report.findings if f.policy_id == "WORKLOAD-001"]
    assert (finding.resource_id, finding.location.file, finding.location.line) == (
        "module.bastion.aws_instance.this (via ../../main.tf)",
        str(tmp_path / "modules/bastion/main.tf"),
        1,
    )
    assert finding.outcome is Outcome.FAIL
