"""`data "aws_iam_policy_document"` rendered the way the AWS provider renders `.json`."""

from __future__ import annotations

import json
import textwrap

from validator.loaders.terraform import load_module
from validator.model import Reference, is_unknown


def documents(source: str) -> dict[str, object]:
    """assume_role_policy of every aws_iam_role, parsed when it is a JSON string."""
    template, errors = load_module("m", [("m/main.tf", textwrap.dedent(source))])
    assert errors == [] and template is not None
    out: dict[str, object] = {}
    for r in template.resources:
        if r.type == "aws_iam_role":
            value = r.properties.get("assume_role_policy")
            out[r.id] = json.loads(value) if isinstance(value, str) else value
    return out


def test_statements_principals_and_conditions_are_rendered_like_the_provider():
    docs = documents(
        """
        data "aws_caller_identity" "current" {}

        data "aws_iam_policy_document" "trust" {
          policy_id = "vendor-trust"
          statement {
            sid     = "Vendor"
            actions = ["sts:AssumeRole", "sts:TagSession", "sts:AssumeRole"]
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::111122223333:root"]
            }
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::444455556666:role/ci", "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
            }
            principals {
              type        = "Service"
              identifiers = ["ec2.amazonaws.com"]
            }
            condition {
              test     = "StringEquals"
              variable = "sts:ExternalId"
              values   = ["abc"]
            }
            condition {
              test     = "StringEquals"
              variable = "sts:ExternalId"
              values   = ["def"]
            }
            condition {
              test     = "Bool"
              variable = "aws:MultiFactorAuthPresent"
              values   = ["true"]
            }
          }
          statement {
            effect        = "Deny"
            not_actions   = ["sts:AssumeRole"]
            resources     = ["*"]
            not_principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::111122223333:root"]
            }
          }
        }

        data "aws_iam_policy_document" "anyone" {
          statement {
            actions = ["sts:AssumeRole"]
            principals {
              type        = "*"
              identifiers = ["*"]
            }
          }
        }

        resource "aws_iam_role" "vendor" {
          assume_role_policy = data.aws_iam_policy_document.trust.json
        }

        resource "aws_iam_role" "anyone" {
          assume_role_policy = data.aws_iam_policy_document.anyone.minified_json
        }
        """
    )
    assert docs["aws_iam_role.vendor"] == {
        "Version": "2012-10-17",
        "Id": "vendor-trust",
        "Statement": [
            {
                "Sid": "Vendor",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Principal": {
                    "AWS": [
                        "arn:aws:iam::111122223333:root",
                        "arn:aws:iam::444455556666:role/ci",
                        "arn:aws:iam::${AWS::AccountId}:root",
                    ],
                    "Service": "ec2.amazonaws.com",
                },
                "Condition": {
                    "StringEquals": {"sts:ExternalId": ["abc", "def"]},
                    "Bool": {"aws:MultiFactorAuthPresent": "true"},
                },
            },
            {
                "Effect": "Deny",
                "NotAction": "sts:AssumeRole",
                "Resource": "*",
                "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
            },
        ],
    }
    assert docs["aws_iam_role.anyone"]["Statement"][0]["Principal"] == "*"


def test_source_and_override_documents_merge_by_sid():
    docs = documents(
        """
        data "aws_iam_policy_document" "base" {
          statement {
            sid     = "Keep"
            actions = ["sts:AssumeRole"]
            principals {
              type        = "Service"
              identifiers = ["ec2.amazonaws.com"]
            }
          }
          statement {
            sid     = "Replaced"
            actions = ["sts:AssumeRole"]
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::111122223333:root"]
            }
          }
        }

        data "aws_iam_policy_document" "override" {
          statement {
            sid     = "Overridden"
            actions = ["sts:AssumeRole"]
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::999999999999:root"]
            }
          }
        }

        data "aws_iam_policy_document" "combined" {
          source_policy_documents   = [data.aws_iam_policy_document.base.json]
          override_policy_documents = [data.aws_iam_policy_document.override.json]
          statement {
            sid     = "Replaced"
            actions = ["sts:AssumeRole"]
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::444455556666:root"]
            }
          }
          statement {
            sid     = "Overridden"
            actions = ["sts:AssumeRole"]
          }
        }

        data "aws_iam_policy_document" "unknown_source" {
          source_policy_documents = [var.undeclared]
          statement {
            actions = ["sts:AssumeRole"]
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::111122223333:root"]
            }
          }
        }

        data "aws_iam_policy_document" "unknown_override" {
          override_policy_documents = [aws_iam_policy.x.policy]
          statement {
            actions = ["sts:AssumeRole"]
          }
        }

        resource "aws_iam_role" "combined" {
          assume_role_policy = data.aws_iam_policy_document.combined.json
        }
        resource "aws_iam_role" "unknown_source" {
          assume_role_policy = data.aws_iam_policy_document.unknown_source.json
        }
        resource "aws_iam_role" "unknown_override" {
          assume_role_policy = data.aws_iam_policy_document.unknown_override.json
        }
        """
    )
    statements = {s["Sid"]: s for s in docs["aws_iam_role.combined"]["Statement"]}
    assert list(statements) == ["Keep", "Replaced", "Overridden"]
    assert statements["Replaced"]["Principal"] == {"AWS": "arn:aws:iam::444455556666:root"}
    assert statements["Overridden"]["Principal"] == {"AWS": "arn:aws:iam::999999999999:root"}
    # an unresolved source keeps the known statements (judged) and an unknown one (unresolved)
    unknown_source = docs["aws_iam_role.unknown_source"]
    assert is_unknown(unknown_source["Statement"][0])
    assert unknown_source["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    # an unresolved override may replace anything: the document is unknown
    assert is_unknown(docs["aws_iam_role.unknown_override"])


def test_dynamic_statement_and_condition_blocks():
    docs = documents(
        """
        variable "trusted" {
          default = {
            vendor  = { account = "111122223333", external_id = null }
            partner = { account = "444455556666", external_id = "contract-7" }
          }
        }
        data "aws_iam_policy_document" "trust" {
          dynamic "statement" {
            for_each = var.trusted
            content {
              sid     = statement.key
              actions = ["sts:AssumeRole"]
              principals {
                type        = "AWS"
                identifiers = ["arn:aws:iam::${statement.value.account}:root"]
              }
              dynamic "condition" {
                for_each = statement.value.external_id == null ? [] : [statement.value.external_id]
                iterator = id
                content {
                  test     = "StringEquals"
                  variable = "sts:ExternalId"
                  values   = [id.value]
                }
              }
            }
          }
        }
        data "aws_iam_policy_document" "unknown" {
          statement {
            sid     = "Static"
            actions = ["sts:AssumeRole"]
            principals {
              type        = "Service"
              identifiers = ["ec2.amazonaws.com"]
            }
          }
          dynamic "statement" {
            for_each = var.undeclared
            content {
              actions = ["sts:AssumeRole"]
            }
          }
        }
        resource "aws_iam_role" "trust" {
          assume_role_policy = data.aws_iam_policy_document.trust.json
        }
        resource "aws_iam_role" "unknown" {
          assume_role_policy = data.aws_iam_policy_document.unknown.json
        }
        """
    )
    vendor, partner = docs["aws_iam_role.trust"]["Statement"]
    assert (vendor["Sid"], "Condition" in vendor) == ("vendor", False)
    assert partner["Condition"] == {"StringEquals": {"sts:ExternalId": "contract-7"}}
    static, dynamic = docs["aws_iam_role.unknown"]["Statement"]
    assert static["Sid"] == "Static" and is_unknown(dynamic)


def test_counted_and_keyed_documents_and_unknown_parts():
    docs = documents(
        """
        variable "envs" {
          default = { dev = "repo:acme/app:*", prod = "repo:acme/app:ref:refs/heads/main" }
        }
        data "aws_iam_policy_document" "counted" {
          count = 1
          statement {
            actions = ["sts:AssumeRole"]
            principals {
              type        = "AWS"
              identifiers = [aws_iam_role.other.arn, "arn:aws:iam::111122223333:root"]
            }
          }
        }
        data "aws_iam_policy_document" "keyed" {
          for_each = var.envs
          statement {
            actions = ["sts:AssumeRoleWithWebIdentity"]
            condition {
              test     = "StringLike"
              variable = "token.actions.githubusercontent.com:sub"
              values   = [each.value]
            }
          }
        }
        resource "aws_iam_role" "counted" {
          assume_role_policy = data.aws_iam_policy_document.counted[0].json
        }
        resource "aws_iam_role" "keyed" {
          for_each           = var.envs
          assume_role_policy = data.aws_iam_policy_document.keyed[each.key].json
        }
        resource "aws_iam_role" "whole" {
          assume_role_policy = data.aws_iam_policy_document.keyed.json
        }
        """
    )
    counted = docs["aws_iam_role.counted"]["Statement"][0]["Principal"]["AWS"]
    assert isinstance(counted[0], Reference) and counted[0].target == "aws_iam_role.other"
    assert counted[1] == "arn:aws:iam::111122223333:root"
    for env, subject in (("dev", "repo:acme/app:*"), ("prod", "repo:acme/app:ref:refs/heads/main")):
        condition = docs[f'aws_iam_role.keyed["{env}"]']["Statement"][0]["Condition"]
        assert condition == {"StringLike": {"token.actions.githubusercontent.com:sub": subject}}
    assert is_unknown(docs["aws_iam_role.whole"])  # several instances, no index: unknown


def test_documents_that_refer_to_each_other_in_a_cycle_are_unknown_not_a_crash():
    docs = documents(
        """
        data "aws_iam_policy_document" "a" {
          source_policy_documents = [data.aws_iam_policy_document.b.json]
        }
        data "aws_iam_policy_document" "b" {
          source_policy_documents = [data.aws_iam_policy_document.a.json]
        }
        resource "aws_iam_role" "r" {
          assume_role_policy = data.aws_iam_policy_document.a.json
        }
        """
    )
    document = docs["aws_iam_role.r"]
    assert is_unknown(document) or any(is_unknown(s) for s in document["Statement"])
