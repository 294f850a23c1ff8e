"""Variable values as Terraform assigns them, locals, functions and file() inside the scanned tree."""

from __future__ import annotations

import json

from terraform_helpers import load, write

from validator.config import Config
from validator.model import SELF_ACCOUNT, FileStatus, Reference, is_unknown
from validator.run import run

VARIABLES = """
variable "a" {
  default = "default"
}
variable "b" {
  default = "default"
}
variable "c" {
  default = "default"
}
variable "d" {
  default = "default"
}
variable "e" {
  default = "default"
}
variable "seconds" {
  type    = number
  default = 3600
}
variable "accounts" {
  type    = list(string)
  default = []
}
variable "unset" {}
"""

ROLE = """
resource "aws_iam_role" "r" {
  name                 = "${var.a}-${var.b}-${var.c}-${var.d}-${var.e}"
  max_session_duration = var.seconds
  tags                 = { accounts = join(",", var.accounts) }
  description          = var.unset
}
"""


def role(loaded) -> dict:
    return dict(loaded.resources["aws_iam_role.r"].properties)


def test_defaults_then_terraform_tfvars_then_auto_tfvars_in_lexical_order(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": ROLE,
            "variables.tf": VARIABLES,
            "terraform.tfvars": 'a = "tfvars"\nb = "tfvars"\nc = "tfvars"\nseconds = 7200\n',
            "terraform.tfvars.json": json.dumps({"b": "tfvars.json", "c": "tfvars.json"}),
            "b.auto.tfvars": 'c = "b.auto"\nd = "b.auto"\n',
            "a.auto.tfvars.json": json.dumps({"c": "a.auto", "d": "a.auto"}),
            "prod.tfvars": 'e = "never loaded by itself"\n',
        },
    )
    loaded = load(tmp_path)
    assert loaded.errors == []
    props = role(loaded)
    # a: terraform.tfvars; b: .tfvars.json after it; c, d: *.auto.tfvars in lexical order (a.auto < b.auto)
    assert props["name"] == "tfvars-tfvars.json-b.auto-b.auto-default"
    assert props["max_session_duration"] == 7200
    assert is_unknown(props["description"])
    for name in ("terraform.tfvars", "terraform.tfvars.json", "b.auto.tfvars", "a.auto.tfvars.json", "prod.tfvars"):
        record = loaded.record(tmp_path / name)
        assert record.status is FileStatus.SCANNED, name


def test_var_files_in_order_then_var_flags_win(tmp_path):
    write(
        tmp_path,
        {
            "infra/main.tf": ROLE,
            "infra/variables.tf": VARIABLES,
            "infra/terraform.tfvars": 'a = "tfvars"\nb = "tfvars"\nc = "tfvars"\n',
            "envs/one.tfvars": 'b = "one"\nc = "one"\n',
            "envs/two.tfvars.json": json.dumps({"c": "two", "d": "two"}),
        },
    )
    loaded = load(
        tmp_path / "infra",
        var_files=(str(tmp_path / "envs/one.tfvars"), str(tmp_path / "envs/two.tfvars.json")),
        tf_variables={"d": "flag", "seconds": "43200", "accounts": '["111122223333", "444455556666"]'},
    )
    assert loaded.errors == []
    props = role(loaded)
    assert props["name"] == "tfvars-one-two-flag-default"
    assert props["max_session_duration"] == 43200  # typed by the variable's declaration
    assert props["tags"] == {"accounts": "111122223333,444455556666"}


def test_var_flag_strings_stay_strings(tmp_path):
    write(tmp_path, {"main.tf": 'variable "account" {\n  type = string\n}\nresource "aws_iam_role" "r" {\n  name = var.account\n}\n'})
    props = dict(load(tmp_path, tf_variables={"account": "012345678901"}).resources["aws_iam_role.r"].properties)
    assert props["name"] == "012345678901"  # the leading zero survives


def test_an_unreadable_var_file_or_a_broken_tfvars_is_an_error_with_file_and_line(tmp_path):
    write(tmp_path, {"main.tf": ROLE, "variables.tf": VARIABLES, "terraform.tfvars": 'a = "ok"\nb = = 1\n'})
    loaded = load(tmp_path, var_files=(str(tmp_path / "missing.tfvars"),))
    by_file = {e.file: e for e in loaded.errors}
    assert by_file[str(tmp_path / "terraform.tfvars")].line == 2
    assert "cannot read" in by_file[str(tmp_path / "missing.tfvars")].message
    assert loaded.record(tmp_path / "terraform.tfvars").status is FileStatus.ERROR
    assert role(loaded)["max_session_duration"] == 3600  # the module itself still loads


def test_tfvars_values_are_judged_where_they_are_written(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": 'variable "key" {}\nprovider "aws" {\n  access_key = var.key\n}\n',
            "terraform.tfvars": 'key = "AKIAIOSFODNN7EXAMPLE"\n',
        },
    )
    loaded = load(tmp_path)
    assignments = [r for t in loaded.templates for r in t.resources if r.type == "variable" and "value" in r.properties]
    (assignment,) = assignments
    assert (assignment.id, assignment.location.file, assignment.location.line) == ("var.key", str(tmp_path / "terraform.tfvars"), 1)
    assert assignment.properties["value"] == "AKIAIOSFODNN7EXAMPLE"
    assert loaded.resources["provider.aws"].properties["access_key"] == "AKIAIOSFODNN7EXAMPLE"
    report = run(Config(paths=(str(tmp_path),), fail_on=None))
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps([f.message for f in report.findings])


def test_tfvars_without_tf_files_are_still_scanned(tmp_path):
    write(tmp_path, {"envs/prod.tfvars": 'deploy_key = "AKIAIOSFODNN7EXAMPLE"\n'})
    loaded = load(tmp_path)
    assert loaded.record(tmp_path / "envs/prod.tfvars").status is FileStatus.SCANNED
    assert loaded.resources["var.deploy_key"].properties["value"] == "AKIAIOSFODNN7EXAMPLE"


def test_locals_conditionals_and_functions(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
            variable "env" {
              default = "prod"
            }
            data "aws_caller_identity" "current" {}
            locals {
              long     = var.env == "prod" ? false : true
              accounts = toset(["111122223333", "111122223333", "444455556666"])
              roles    = { for a in local.accounts : a => format("arn:aws:iam::%s:root", a) }
              me       = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"
            }
            resource "aws_iam_role" "r" {
              max_session_duration = local.long ? 43200 : 3600
              tags = merge(
                { env = upper(var.env), n = length(local.accounts) },
                { first = element(split(",", "x,y"), 0), joined = join("/", concat(["a"], tolist(["b"]))) },
                { replaced = replace("a-b", "-", "_"), looked = lookup(local.roles, "444455556666", "none") },
                { flat = length(flatten([["a"], ["b", ["c"]]])), tried = try(local.roles["nope"], "fallback") },
                { coalesced = coalesce("", "z"), lowered = lower("ABC"), me = local.me },
                { decoded = jsondecode("{\\"k\\": 1}")["k"], mapped = tomap({ a = 1 })["a"] },
              )
            }
            """
        },
    )
    props = role(load(tmp_path))
    assert props["max_session_duration"] == 3600
    assert props["tags"] == {
        "env": "PROD",
        "n": 2,
        "first": "x",
        "joined": "a/b",
        "replaced": "a_b",
        "looked": "arn:aws:iam::444455556666:root",
        "flat": 3,
        "tried": "fallback",
        "coalesced": "z",
        "lowered": "abc",
        "me": f"arn:aws:iam::{SELF_ACCOUNT}:root",
        "decoded": 1,
        "mapped": 1,
    }


def test_file_reads_inside_the_scanned_tree_and_refuses_outside(tmp_path):
    outside = tmp_path / "secret-policy.json"
    outside.write_text('{"Statement": []}', "utf-8")
    write(
        tmp_path,
        {
            "repo/infra/trust.json": '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]}',
            "repo/infra/trust.tpl": '{"Statement": [{"Principal": {"AWS": "arn:aws:iam::${account}:root"}}]}',
            "repo/infra/main.tf": """
            resource "aws_iam_role" "r" {
              assume_role_policy = file("${path.module}/trust.json")
              tags = {
                outside  = file("${path.module}/../../secret-policy.json")
                absolute = file("/etc/passwd")
                missing  = file("nope.json")
                exists   = fileexists("${path.module}/trust.json")
              }
              description = templatefile("${path.module}/trust.tpl", { account = "444455556666" })
            }
            """,
        },
    )
    props = role(load(tmp_path / "repo"))
    assert json.loads(props["assume_role_policy"])["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::111122223333:root"
    assert json.loads(props["description"])["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::444455556666:root"
    tags = props["tags"]
    assert is_unknown(tags["outside"]) and "outside the scanned tree" in tags["outside"].reason
    assert is_unknown(tags["absolute"]) and "outside the scanned tree" in tags["absolute"].reason
    assert is_unknown(tags["missing"])
    assert tags["exists"] is True


def test_a_configured_name_is_known_inside_strings_and_a_reference_on_its_own(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
            resource "aws_iam_role" "app" {
              name = "orders-app"
            }
            resource "aws_iam_instance_profile" "app" {
              name = "orders-app"
              role = aws_iam_role.app.name
            }
            resource "aws_instance" "app" {
              ami                  = "ami-0c1a7f89451184c8b"
              iam_instance_profile = aws_iam_instance_profile.app.name
            }
            resource "aws_iam_role" "trusting" {
              assume_role_policy = jsonencode({
                Statement = [{ Principal = { AWS = "arn:aws:iam::111122223333:role/${aws_iam_role.app.name}" } }]
              })
              tags = { arn = aws_iam_role.app.arn, upper = upper(aws_iam_role.app.name) }
            }
            resource "aws_secretsmanager_secret" "db" {
              name = "orders/db"
            }
            resource "aws_secretsmanager_secret_rotation" "db" {
              secret_id = aws_secretsmanager_secret.db.id
            }
            """
        },
    )
    loaded = load(tmp_path)
    resources = loaded.resources
    profile_role = resources["aws_iam_instance_profile.app"].properties["role"]
    assert isinstance(profile_role, Reference) and profile_role.target == "aws_iam_role.app"
    trusting = resources["aws_iam_role.trusting"].properties
    assert json.loads(trusting["assume_role_policy"])["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::111122223333:role/orders-app"
    assert trusting["tags"]["upper"] == "ORDERS-APP"
    arn = trusting["tags"]["arn"]
    assert isinstance(arn, Reference) and (arn.target, arn.attribute) == ("aws_iam_role.app", "arn")
    secret_id = resources["aws_secretsmanager_secret_rotation.db"].properties["secret_id"]
    assert isinstance(secret_id, Reference) and (secret_id.target, secret_id.attribute) == ("aws_secretsmanager_secret.db", "id")
    (template,) = loaded.templates
    assert template.relations["aws_instance.app"] == {"instance_profile": ("aws_iam_instance_profile.app",)}
    assert template.relations["aws_iam_instance_profile.app"] == {"roles": ("aws_iam_role.app",)}
    assert template.relations["aws_secretsmanager_secret.db"] == {"rotation": ("aws_secretsmanager_secret_rotation.db",)}


def test_count_and_for_each_expand_to_addressed_instances(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
            variable "teams" {
              default = { dev = 3600, prod = 43200 }
            }
            variable "unknown" {}
            resource "aws_iam_role" "ci" {
              for_each             = var.teams
              name                 = "ci-${each.key}"
              max_session_duration = each.value
            }
            resource "aws_iam_role" "worker" {
              count = 2
              name  = "worker-${count.index}"
            }
            resource "aws_iam_role" "set" {
              for_each = toset(["a", "b"])
              name     = each.value
            }
            resource "aws_iam_role" "later" {
              for_each             = var.unknown
              name                 = "later-${each.key}"
              max_session_duration = 43200
            }
            resource "aws_iam_role" "maybe" {
              count = length(var.unknown)
              name  = "maybe"
            }
            resource "aws_iam_instance_profile" "ci" {
              for_each = var.teams
              role     = aws_iam_role.ci[each.key].name
            }
            resource "aws_iam_instance_profile" "first" {
              role = aws_iam_role.worker[0].name
            }
            resource "aws_iam_instance_profile" "later" {
              role = aws_iam_role.later["x"].name
            }
            """
        },
    )
    resources = load(tmp_path).resources
    roles = {k: dict(v.properties) for k, v in resources.items() if v.type == "aws_iam_role"}
    assert roles['aws_iam_role.ci["dev"]'] == {"name": "ci-dev", "max_session_duration": 3600}
    assert roles['aws_iam_role.ci["prod"]'] == {"name": "ci-prod", "max_session_duration": 43200}
    assert roles["aws_iam_role.worker[0]"]["name"] == "worker-0" and roles["aws_iam_role.worker[1]"]["name"] == "worker-1"
    assert {roles['aws_iam_role.set["a"]']["name"], roles['aws_iam_role.set["b"]']["name"]} == {"a", "b"}
    # unknown for_each / count: analysed once, with the [*] marker; each.* and count.index unknown
    later = roles["aws_iam_role.later[*]"]
    assert is_unknown(later["name"]) and later["max_session_duration"] == 43200
    assert "aws_iam_role.maybe[*]" in roles
    assert not any(k.startswith(("aws_iam_role.later[", "aws_iam_role.maybe[")) and not k.endswith("[*]") for k in roles)
    targets = {k: v.properties["role"].target for k, v in resources.items() if v.type == "aws_iam_instance_profile"}
    assert targets == {
        'aws_iam_instance_profile.ci["dev"]': 'aws_iam_role.ci["dev"]',
        'aws_iam_instance_profile.ci["prod"]': 'aws_iam_role.ci["prod"]',
        "aws_iam_instance_profile.first": "aws_iam_role.worker[0]",
        "aws_iam_instance_profile.later": "aws_iam_role.later[*]",
    }


def test_the_command_line_takes_var_files_vars_and_a_tf_source(tmp_path):
    from typer.testing import CliRunner

    from validator.cli import app

    write(
        tmp_path,
        {
            "infra/main.tf": 'variable "hours" {\n  type = number\n}\nresource "aws_iam_role" "r" {\n  max_session_duration = var.hours * 3600\n}\n',
            "prod.tfvars": "hours = 12\n",
        },
    )
    runner = CliRunner()
    args = ["scan", str(tmp_path / "infra"), "--format", "json", "--no-color", "--fail-on", "medium"]

    def session_findings(*extra: str) -> tuple[int, int]:
        result = runner.invoke(app, [*args, *extra])
        findings = json.loads(result.stdout)["findings"]
        return result.exit_code, sum(1 for f in findings if f["policy_id"] == "SESSION-001")

    assert session_findings() == (0, 0)  # var.hours has no value: unresolved, not failed
    assert session_findings("--var-file", str(tmp_path / "prod.tfvars")) == (1, 1)
    assert session_findings("--var-file", str(tmp_path / "prod.tfvars"), "--var", "hours=1") == (0, 0)
    bad = runner.invoke(app, [*args, "--var", "no-equals-sign"])
    assert bad.exit_code == 2 and "name=value" in bad.stderr
    missing = runner.invoke(app, [*args, "--tf-source", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such directory" in missing.stderr
