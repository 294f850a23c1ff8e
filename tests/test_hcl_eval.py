"""Terraform expression evaluation, through the module loader as a user's .tf files reach it."""

from __future__ import annotations

import json
import textwrap

import pytest

from validator.loaders.terraform import load_module
from validator.model import SELF_ACCOUNT, Format, Reference, Resource, Unknown, is_pseudo, is_unknown


def load(source: str, name: str = "m/main.tf") -> dict[str, Resource]:
    template, errors = load_module("m", [(name, textwrap.dedent(source))])
    assert errors == []
    assert template is not None
    return {r.id: r for r in template.resources}


def props(source: str, address: str = "aws_iam_role.r") -> dict:
    return dict(load(source)[address].properties)


def test_jsonencode_trust_policy_is_a_json_string_of_the_document():
    p = props(
        """
        resource "aws_iam_role" "r" {
          assume_role_policy = jsonencode({
            Version = "2012-10-17"
            Statement = [{
              Effect    = "Allow"
              Principal = { AWS = "arn:aws:iam::111122223333:root" }
              Action    = "sts:AssumeRole"
              Condition = { StringEquals = { "sts:ExternalId" = "abc" } }
            }]
          })
        }
        """
    )
    policy = p["assume_role_policy"]
    assert isinstance(policy, str)
    assert json.loads(policy) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "abc"}},
            }
        ],
    }


def test_jsonencode_of_partly_unknown_document_keeps_the_known_structure():
    p = props(
        """
        resource "aws_iam_role" "r" {
          assume_role_policy = jsonencode({
            Statement = [{ Principal = { AWS = aws_iam_role.other.arn }, Action = "sts:AssumeRole" }]
          })
        }
        """
    )
    statement = p["assume_role_policy"]["Statement"][0]
    assert statement["Action"] == "sts:AssumeRole"
    assert is_unknown(statement["Principal"]["AWS"])


def test_heredoc_json():
    p = props(
        """
        resource "aws_iam_role" "r" {
          assume_role_policy = <<EOF
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
        EOF
        }
        """
    )
    assert json.loads(p["assume_role_policy"]) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}],
    }


def test_indented_heredoc_strips_the_common_indentation_and_interpolates():
    p = props(
        """
        variable "vendor" {
          default = "111122223333"
        }
        resource "aws_iam_role" "r" {
          assume_role_policy = <<-EOT
            {
              "Statement": [{
                "Principal": {"AWS": "arn:aws:iam::${var.vendor}:root"},
                "Literal": "$${aws:username}"
              }]
            }
          EOT
        }
        """
    )
    text = p["assume_role_policy"]
    assert text.startswith('{\n  "Statement"')  # the common indentation is gone, the relative kept
    document = json.loads(text)
    assert document["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::111122223333:root"
    assert document["Statement"][0]["Literal"] == "${aws:username}"


def test_heredoc_json_keeps_unresolved_interpolations_as_unknown_leaves_and_a_directive_is_unknown():
    p = props(
        """
        variable "names" {
          default = ["a", "b"]
        }
        resource "aws_iam_role" "r" {
          ref = <<EOF
        {"AWS": "${aws_iam_role.other.arn}"}
        EOF
          directive = <<EOF
        %{ for n in var.names }${n}%{ endfor }
        EOF
        }
        """
    )
    assert set(p["ref"]) == {"AWS"} and is_unknown(p["ref"]["AWS"])
    assert is_unknown(p["directive"])


def test_interpolation_with_variable_defaults_and_locals_referring_to_locals():
    p = props(
        """
        variable "env" {
          default = "prod"
        }
        variable "app" {
          type    = string
          default = "orders"
        }
        locals {
          prefix = "${var.app}-${var.env}"
        }
        locals {
          role_name = "${local.prefix}-role"
          tags      = { Name = local.role_name, Env = var.env }
        }
        resource "aws_iam_role" "r" {
          name = local.role_name
          path = "/${var.env}/"
          tags = local.tags
          escaped = "$${not.interpolated}"
          quoted  = "a\\"b\\n"
        }
        """
    )
    assert p["name"] == "orders-prod-role"
    assert p["path"] == "/prod/"
    assert p["tags"] == {"Name": "orders-prod-role", "Env": "prod"}
    assert p["escaped"] == "${not.interpolated}"
    assert p["quoted"] == 'a"b\n'


def test_a_lone_interpolation_keeps_the_type_of_its_value():
    p = props(
        """
        variable "seconds" {
          default = 43200
        }
        variable "principals" {
          default = ["arn:aws:iam::111122223333:root"]
        }
        resource "aws_iam_role" "r" {
          max_session_duration = "${var.seconds}"
          principals           = "${var.principals}"
          text                 = "${var.seconds}s"
        }
        """
    )
    assert p["max_session_duration"] == 43200
    assert p["principals"] == ["arn:aws:iam::111122223333:root"]
    assert p["text"] == "43200s"


def test_variable_without_default_and_undefined_names_are_unknown():
    p = props(
        """
        variable "external_id" {}
        locals {
          a = local.b
          b = local.a
        }
        resource "aws_iam_role" "r" {
          no_default = var.external_id
          in_string  = "id-${var.external_id}"
          undeclared = var.nope
          undefined  = local.nope
          cycle      = local.a
        }
        """
    )
    for key in ("no_default", "in_string", "undeclared", "undefined", "cycle"):
        assert is_unknown(p[key]), key


def test_caller_identity_account_id_is_the_self_account_token():
    p = props(
        """
        data "aws_caller_identity" "current" {}
        resource "aws_iam_role" "r" {
          arn     = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"
          account = data.aws_caller_identity.current.account_id
        }
        """
    )
    assert p["arn"] == f"arn:aws:iam::{SELF_ACCOUNT}:root"
    assert p["account"] == SELF_ACCOUNT


def test_conditional_with_known_and_unknown_condition():
    p = props(
        """
        variable "long_sessions" {
          default = true
        }
        variable "unset" {}
        resource "aws_iam_role" "r" {
          known    = var.long_sessions ? 43200 : 3600
          negated  = !var.long_sessions ? 43200 : 3600
          compared = var.long_sessions == false ? "a" : "b"
          unknown  = var.unset == "x" ? 43200 : 3600
        }
        """
    )
    assert p["known"] == 43200
    assert p["negated"] == 3600
    assert p["compared"] == "b"
    assert is_unknown(p["unknown"])


def test_functions():
    p = props(
        """
        variable "tags" {
          default = { Team = "core" }
        }
        resource "aws_iam_role" "r" {
          merged    = merge(var.tags, { Env = "prod" }, { Team = "platform" })
          concat    = concat(["a"], ["b", "c"])
          format    = format("arn:aws:iam::%s:role/%s", "111122223333", "x")
          format_d  = format("%d-%%", 7)
          join      = join(",", ["a", "b"])
          lookup    = lookup({ a = 1 }, "a", 2)
          lookup_d  = lookup({ a = 1 }, "b", 2)
          try_miss  = try(var.tags.Missing, "fallback")
          try_hit   = try(var.tags.Team, "fallback")
          try_error = try(jsondecode("not json"), "fallback")
          coalesce  = coalesce("", null, "z")
          length    = length(["a", "b", "c"])
          lower     = lower("ReadOnly")
          arith     = 60 * 60 * 12
          mixed     = "10" + 5
        }
        """
    )
    assert p["merged"] == {"Team": "platform", "Env": "prod"}
    assert p["concat"] == ["a", "b", "c"]
    assert p["format"] == "arn:aws:iam::111122223333:role/x"
    assert p["format_d"] == "7-%"
    assert p["join"] == "a,b"
    assert p["lookup"] == 1
    assert p["lookup_d"] == 2
    assert p["try_miss"] == "fallback"
    assert p["try_hit"] == "core"
    assert p["try_error"] == "fallback"
    assert p["coalesce"] == "z"
    assert p["length"] == 3
    assert p["lower"] == "readonly"
    assert p["arith"] == 43200
    assert p["mixed"] == 15


def test_functions_of_unknown_values_are_unknown():
    p = props(
        """
        resource "aws_iam_role" "r" {
          merged   = merge({ a = 1 }, aws_iam_role.other.tags)
          lower    = lower(aws_iam_role.other.name)
          try_ref  = try(aws_iam_role.other.arn, "fallback")
          coalesce = coalesce(aws_iam_role.other.arn, "z")
        }
        """
    )
    # try() does not swallow a value that is only known after apply: it is not an error
    for key in ("merged", "lower", "try_ref", "coalesce"):
        assert is_unknown(p[key]), key


def test_for_expressions():
    p = props(
        """
        variable "accounts" {
          default = ["111122223333", "444455556666"]
        }
        locals {
          arns = [for a in var.accounts : "arn:aws:iam::${a}:root"]
        }
        resource "aws_iam_role" "r" {
          arns     = local.arns
          filtered = [for i, a in var.accounts : a if i > 0]
          by_id    = { for a in var.accounts : a => upper("x${a}") }
          over_ref = [for a in aws_iam_role.other.list : a]
        }
        """
    )
    assert p["arns"] == ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    assert p["filtered"] == ["444455556666"]
    assert p["by_id"] == {"111122223333": "X111122223333", "444455556666": "X444455556666"}
    assert is_unknown(p["over_ref"])


def test_references_to_resources_splats_and_unknown_functions_are_unknown():
    p = props(
        """
        resource "aws_iam_role" "r" {
          ref       = aws_iam_role.other.arn
          data_ref  = data.aws_iam_policy_document.trust.json
          splat     = aws_iam_role.other[*].arn
          module    = module.vpc.id
          unknown   = some_new_function("x")
          in_list   = ["a", aws_iam_role.other.arn]
        }
        """
    )
    for key in ("ref", "data_ref", "splat", "module", "unknown"):
        assert isinstance(p[key], Unknown), key
    assert p["in_list"][0] == "a" and is_unknown(p["in_list"][1])


def test_nested_blocks_become_lists_of_objects():
    resources = load(
        """
        resource "aws_instance" "web" {
          ami = "ami-123"
          metadata_options {
            http_tokens   = "required"
            http_endpoint = "enabled"
          }
          ebs_block_device {
            device_name = "/dev/sdb"
          }
          ebs_block_device {
            device_name = "/dev/sdc"
          }
        }
        """
    )
    p = resources["aws_instance.web"].properties
    assert p["metadata_options"] == [{"http_tokens": "required", "http_endpoint": "enabled"}]
    assert p["ebs_block_device"] == [{"device_name": "/dev/sdb"}, {"device_name": "/dev/sdc"}]


def test_dynamic_blocks_are_unknown():
    p = props(
        """
        resource "aws_iam_role" "r" {
          dynamic "inline_policy" {
            for_each = var.policies
            content {
              name = inline_policy.key
            }
          }
        }
        """
    )
    assert is_unknown(p["inline_policy"])
    assert "dynamic" not in p


def test_meta_arguments_are_not_properties():
    p = props(
        """
        resource "aws_iam_role" "r" {
          count      = 2
          for_each   = toset(["a"])
          depends_on = [aws_iam_policy.p]
          provider   = aws.west
          lifecycle {
            prevent_destroy = true
          }
          name = "kept"
        }
        """,
        "aws_iam_role.r[0]",
    )
    assert p == {"name": "kept"}


def test_line_numbers_of_attributes_and_blocks():
    source = (
        "# a comment\n"  # 1
        "\n"  # 2
        'resource "aws_iam_role" "r" {\n'  # 3
        '  name = "analyst"\n'  # 4
        "\n"  # 5
        "  max_session_duration = 43200\n"  # 6
        "  metadata_options {\n"  # 7
        '    http_tokens = "optional"\n'  # 8
        "  }\n"  # 9
        "}\n"
    )
    template, errors = load_module("m", [("m/main.tf", source)])
    assert errors == [] and template is not None
    (resource,) = [r for r in template.resources if not is_pseudo(r.type)]
    assert resource.location.file == "m/main.tf"
    assert resource.location.line == 3
    assert resource.lines[("name",)] == 4
    assert resource.lines[("max_session_duration",)] == 6
    assert resource.line_of(("metadata_options", 0, "http_tokens")) == 8
    assert resource.line_of(("not_there",)) == 3


def test_syntax_error_in_one_file_is_a_load_error_and_the_other_file_still_loads():
    good = 'resource "aws_iam_role" "good" {\n  name = "good"\n}\n'
    bad = 'resource "aws_iam_role" "bad" {\n  name = "bad"\n  max_session_duration = = 3\n}\n'
    template, errors = load_module("m", [("m/good.tf", good), ("m/bad.tf", bad)])
    assert len(errors) == 1
    assert errors[0].file == "m/bad.tf"
    assert errors[0].line == 3
    assert "invalid HCL" in errors[0].message
    assert template is not None
    assert [r.id for r in template.resources] == ["aws_iam_role.good"]
    assert template.files == ("m/good.tf",)


def test_a_module_whose_only_file_is_broken_gives_no_template():
    template, errors = load_module("m", [("m/bad.tf", 'resource "x" "y" {\n  a = "unterminated\n}\n')])
    assert template is None
    assert [e.file for e in errors] == ["m/bad.tf"]
    assert errors[0].line is not None


def test_variables_and_locals_are_shared_across_the_files_of_a_module():
    variables = 'variable "seconds" {\n  default = 7200\n}\nlocals {\n  limit = var.seconds * 2\n}\n'
    main = 'resource "aws_iam_role" "r" {\n  max_session_duration = local.limit\n}\n'
    template, errors = load_module("m", [("m/main.tf", main), ("m/variables.tf", variables)])
    assert errors == [] and template is not None
    (resource,) = [r for r in template.resources if not is_pseudo(r.type)]
    assert resource.properties["max_session_duration"] == 14400
    assert resource.location.file == "m/main.tf"


def test_provider_blocks_become_provider_resources_with_the_alias_in_the_address():
    resources = load(
        """
        provider "aws" {
          region = "us-east-1"
        }
        provider "aws" {
          alias  = "west"
          region = "us-west-2"
        }
        resource "aws_iam_role" "r" {}
        data "aws_iam_policy_document" "d" {}
        module "m" {
          source = "./m"
        }
        """
    )
    assert sorted(resources) == ["aws_iam_role.r", "data.aws_iam_policy_document.d", "provider.aws", "provider.aws.west"]
    default, west = resources["provider.aws"], resources["provider.aws.west"]
    assert default.type == west.type == "provider.aws"
    assert default.format is Format.TERRAFORM
    assert default.properties["region"] == "us-east-1"
    assert west.properties["region"] == "us-west-2"


@pytest.mark.parametrize(
    "expression",
    [
        "1 / 0",
        '"a" * 2',
        "[1, 2][7]",
        '{ a = 1 }["b"]',
        'element([], 0)',
        'jsondecode("{")',
        'format("%d", "x")',
        "local.a.b.c.d",
        "var.x[0]",
        '"x${[1]}"',
        "abs(-1)",
    ],
)
def test_bad_or_unsupported_expressions_are_unknown_never_an_exception(expression):
    p = props(
        f"""
        variable "x" {{}}
        locals {{
          a = 1
        }}
        resource "aws_iam_role" "r" {{
          v = {expression}
        }}
        """
    )
    assert is_unknown(p["v"])


def test_references_variables_outputs_and_never_created_resources():
    main = textwrap.dedent(
        """\
        variable "deploy_key" {
          default = "AKIAIOSFODNN7EXAMPLE"
        }
        variable "legacy_enabled" {
          default = false
        }
        resource "aws_iam_user" "ci" {
          name = "ci"
        }
        resource "aws_iam_access_key" "ci" {
          user = aws_iam_user.ci.name
        }
        resource "aws_iam_access_key" "legacy" {
          count = var.legacy_enabled ? 1 : 0
          user  = "legacy"
        }
        output "ci_secret" {
          value     = aws_iam_access_key.ci.secret
          sensitive = true
        }
        resource "aws_iam_role" "r" {
          assume_role_policy = <<EOF
        {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
          "Principal": {"AWS": "arn:${data.aws_partition.current.partition}:iam::111122223333:root"},
          "Condition": {"StringEquals": {"aws:SourceVpce": "${var.vpce}"}}}]}
        EOF
        }
        variable "vpce" {}
        """
    )
    template, errors = load_module("m", [("m/main.tf", main)])
    assert errors == [] and template is not None
    by_id = {r.id: r for r in template.resources}
    assert "aws_iam_access_key.legacy" not in by_id  # count = 0
    user = by_id["aws_iam_access_key.ci"].properties["user"]
    assert isinstance(user, Reference) and (user.target, user.attribute) == ("aws_iam_user.ci", "name")
    secret = by_id["output.ci_secret"].properties["value"]
    assert isinstance(secret, Reference) and (secret.target, secret.attribute) == ("aws_iam_access_key.ci", "secret")
    assert by_id["var.deploy_key"].type == "variable" and by_id["var.deploy_key"].properties["default"] == "AKIAIOSFODNN7EXAMPLE"
    # a heredoc with one unresolved value keeps its known parts; the partition stays symbolic
    document = by_id["aws_iam_role.r"].properties["assume_role_policy"]
    statement = document["Statement"][0]
    assert statement["Principal"]["AWS"] == "arn:${AWS::Partition}:iam::111122223333:root"
    assert is_unknown(statement["Condition"]["StringEquals"]["aws:SourceVpce"])


def test_splats_over_known_lists_and_more_functions():
    p = props(
        """
        variable "users" {
          default = [{ name = "ana", arn = "arn:aws:iam::111122223333:user/ana" }, { name = "bo", arn = "arn:aws:iam::111122223333:user/bo" }]
        }
        resource "aws_iam_role" "r" {
          names     = var.users[*].name
          legacy    = var.users.*.arn
          one       = one(["only"])
          prefixed  = trimprefix("arn:aws:iam::1:root", "arn:")
          starts    = startswith("repo:acme/app", "repo:")
          zipped    = zipmap(["a", "b"], [1, 2])
          listed    = formatlist("arn:aws:iam::%s:root", ["111122223333", "444455556666"])
          ranged    = range(3)
          union     = setunion(["a"], ["a", "b"])
          sub       = substr("sts:AssumeRole", 0, 3)
          ref_splat = aws_iam_role.other[*].arn
        }
        """
    )
    assert p["names"] == ["ana", "bo"]
    assert p["legacy"] == ["arn:aws:iam::111122223333:user/ana", "arn:aws:iam::111122223333:user/bo"]
    assert p["one"] == "only"
    assert p["prefixed"] == "aws:iam::1:root"
    assert p["starts"] is True
    assert p["zipped"] == {"a": 1, "b": 2}
    assert p["listed"] == ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    assert p["ranged"] == [0, 1, 2]
    assert p["union"] == ["a", "b"]
    assert p["sub"] == "sts"
    assert is_unknown(p["ref_splat"])


def test_a_known_reference_is_its_value_in_expressions_and_a_reference_alone():
    resources = load(
        """
        resource "aws_iam_role" "app" {
          name = "app"
        }
        resource "aws_iam_role" "r" {
          alone    = aws_iam_role.app.name
          in_list  = [aws_iam_role.app.name]
          compared = aws_iam_role.app.name == "app" ? "yes" : "no"
          formatted = format("role/%s", aws_iam_role.app.name)
          encoded  = jsonencode({ Role = aws_iam_role.app.name })
          max      = aws_iam_role.app.max_session_duration
        }
        """
    )
    p = resources["aws_iam_role.r"].properties
    assert isinstance(p["alone"], Reference) and p["alone"].target == "aws_iam_role.app"
    assert isinstance(p["in_list"][0], Reference)
    assert p["compared"] == "yes"
    assert p["formatted"] == "role/app"
    assert json.loads(p["encoded"]) == {"Role": "app"}
    assert isinstance(p["max"], Reference) and p["max"].attribute == "max_session_duration"


def test_heredoc_json_with_a_computed_object_key_makes_that_object_unknown():
    main = textwrap.dedent(
        """\
        variable "issuer" {}
        resource "aws_iam_role" "r" {
          assume_role_policy = <<EOF
        {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
          "Condition": {"StringEquals": {"${var.issuer}:sub": "repo:acme/app:*"}}}]}
        EOF
        }
        """
    )
    template, errors = load_module("m", [("m/main.tf", main)])
    assert errors == [] and template is not None
    (role,) = [r for r in template.resources if r.type == "aws_iam_role"]
    statement = role.properties["assume_role_policy"]["Statement"][0]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert is_unknown(statement["Condition"]["StringEquals"])


def test_optional_attributes_left_out_of_a_typed_object_are_null_not_unknown():
    main = textwrap.dedent(
        """\
        variable "permissions" {
          type = map(object({
            actions     = optional(list(string))
            not_actions = optional(list(string))
            principals  = optional(list(string))
          }))
          default = { Read = { actions = ["s3:GetObject"] } }
        }
        resource "aws_iam_user_policy" "p" {
          dynamic "statement" {
            for_each = var.permissions
            content {
              sid         = try(coalesce(statement.value.sid, statement.key))
              actions     = statement.value.actions
              not_actions = statement.value.not_actions
              principals  = statement.value.principals != null ? statement.value.principals : []
            }
          }
        }
        """
    )
    template, errors = load_module("m", [("m/main.tf", main)])
    assert errors == [] and template is not None
    (policy,) = [r for r in template.resources if r.type == "aws_iam_user_policy"]
    assert policy.properties["statement"] == [{"sid": "Read", "actions": ["s3:GetObject"], "principals": []}]


def test_base64encode_user_data_stays_readable_to_the_credential_policies():
    main = 'resource "aws_launch_template" "web" {\n  user_data = base64encode("export AWS_ACCESS_KEY_ID=AKIAJQCG7LDR4O4KVR5Q\\n")\n}\n'
    template, errors = load_module("m", [("m/main.tf", main)])
    assert errors == [] and template is not None
    (lt,) = [r for r in template.resources if r.type == "aws_launch_template"]
    assert lt.properties["user_data"] == "ZXhwb3J0IEFXU19BQ0NFU1NfS0VZX0lEPUFLSUFKUUNHN0xEUjRPNEtWUjVRCg=="


def test_base64decode_round_trip():
    p = props('resource "aws_iam_role" "r" {\n  v = base64decode(base64encode("trust me"))\n}\n')
    assert p["v"] == "trust me"
