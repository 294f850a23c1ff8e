"""Property-based and fuzz tests (issue 8): random and mutated YAML, JSON, HCL and plan JSON never
produce a traceback, only a Template or LoadError values, and loading is deterministic; the HCL
expression evaluator and the policy engine never raise on any value.

Kept fast and reproducible for CI (derandomized, a modest number of examples, no example database).
`IAC_VALIDATOR_FUZZ=1 python -m pytest tests/test_fuzz.py` fuzzes for real: random, 20× the examples.
"""

from __future__ import annotations

import json
import os
import textwrap
from functools import cache
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator import limits
from validator.engine.evaluate import evaluate
from validator.engine.policies import builtin_policy_dir, load_policies
from validator.loaders import cloudformation, plan, terraform
from validator.loaders.hcl_eval import FUNCTIONS, Scope, subtrees
from validator.loaders.hcl_eval import evaluate as hcl_evaluate
from validator.model import Format, LoadError, Location, Reference, Resource, Template, Unknown

ROOT = Path(__file__).parents[1]
FUZZ = os.environ.get("IAC_VALIDATOR_FUZZ") == "1"


def budget(examples: int) -> settings:
    return settings(
        max_examples=examples * (20 if FUZZ else 1),
        deadline=None,
        database=None,
        derandomize=not FUZZ,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


# --- seeds and mutations ------------------------------------------------------------------------

CFN_SEEDS = [
    """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Hours: {Type: Number, Default: 12, AllowedValues: [1, 12]}
Conditions:
  Long: !Equals [!Ref Hours, 12]
Resources:
  Role:
    Type: AWS::IAM::Role
    Metadata: {iac-validator: {waivers: [{id: SESSION-001, reason: x, expires: 2030-01-01}]}}
    Properties:
      MaxSessionDuration: !If [Long, 43200, 3600]
      Description: !Sub "${AWS::StackName}-role"
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
            Action: sts:AssumeRole
            Condition: {StringEquals: {"sts:ExternalId": !Ref AWS::NoValue}}
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties: {Roles: [!Ref Role]}
  Server:
    Type: AWS::EC2::Instance
    Properties:
      IamInstanceProfile: !Ref Profile
      UserData: !Base64 {"Fn::Join": ["", ["#!/bin/bash\\n", "echo hi"]]}
Outputs:
  Arn: {Value: !GetAtt Role.Arn}
""",
    json.dumps(
        {
            "Resources": {
                "User": {"Type": "AWS::IAM::User", "Properties": {"LoginProfile": {"Password": "Hunter2-Hunter2"}}},
                "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}},
                "Db": {"Type": "AWS::RDS::DBCluster", "Properties": {"MasterUserPassword": {"Fn::Join": ["-", ["a", "b"]]}}},
                "Stack": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "./child.yaml"}},
            }
        },
        indent=2,
    ),
    "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
    "    Properties: {Handler: index.handler, Runtime: python3.12, CodeUri: ., Policies: [AmazonS3ReadOnlyAccess]}\n",
]
TF_SEEDS = [
    textwrap.dedent(
        """\
        variable "hours" {
          type    = number
          default = 12
        }
        locals {
          names = toset(["a", "b"])
          doc   = { Version = "2012-10-17", Statement = [for n in local.names : { Effect = "Allow", Action = "s3:*", Resource = "arn:aws:s3:::${n}/*" }] }
        }
        data "aws_iam_policy_document" "trust" {
          statement {
            actions = ["sts:AssumeRole"]
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::111122223333:root"]
            }
          }
        }
        resource "aws_iam_role" "r" {
          for_each             = local.names
          name                 = "role-${each.key}"
          max_session_duration = var.hours * 3600
          assume_role_policy   = data.aws_iam_policy_document.trust.json
          inline_policy {
            policy = jsonencode(local.doc)
          }
          dynamic "tag" {
            for_each = { a = 1 }
            content {
              key = tag.key
            }
          }
        }
        resource "aws_instance" "i" {
          count                = var.hours > 1 ? 2 : 0
          iam_instance_profile = aws_iam_instance_profile.p.name
          user_data            = <<-EOT
            #!/bin/bash
            echo ${var.hours} ${count.index}
          EOT
        }
        module "m" {
          source = "./child"
          x      = try(lookup({ a = 1 }, "b"), coalesce("", "c"))
        }
        output "o" {
          value = [for k, v in { a = 1 } : "${k}=${v}" if v > 0]
        }
        """
    ),
    'provider "aws" {\n  access_key = "AKIAZ7QF3WLXNC4PJR2M"\n  assume_role {\n    duration = "2h"\n  }\n}\n',
]
SPECIAL = list("{}[]:,-?!&*|>'\"#%@`\\\t\n\r ${}<<()=.~") + ["!Ref ", "&a ", "*a", "<<EOF\n", "${", "%{", "\ufeff", "\x00", "EOF\n"]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    """A seed with a few random edits: characters that matter to the syntax inserted, parts deleted,
    duplicated or swapped."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "replace", "truncate", "swap"]))
        if action == "insert":
            piece = draw(st.one_of(st.sampled_from(SPECIAL), st.text(max_size=8)))
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif action == "duplicate":
            end = min(len(text), at + draw(st.integers(1, 200)))
            text = text[:end] + text[at:end] + text[end:]
        elif action == "replace" and at < len(text):
            text = text[:at] + draw(st.sampled_from(SPECIAL)) + text[at + 1 :]
        elif action == "truncate":
            text = text[:at]
        else:
            lines = text.splitlines(keepends=True)
            if len(lines) > 1:
                i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
                text = "".join(lines)
    return text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)
KEYS = [
    "Statement", "Effect", "Principal", "AWS", "Action", "Condition", "StringEquals", "sts:ExternalId", "Service",
    "Federated", "MaxSessionDuration", "AssumeRolePolicyDocument", "Environment", "Variables", "Roles", "Name", "Value",
    "MetadataOptions", "HttpTokens", "max_session_duration", "assume_role_policy", "access_key", "secret_key",
    "LaunchTemplateData", "IamInstanceProfile", "ContainerDefinitions", "MasterUserPassword", "password", "Resource",
]  # fmt: skip
# Values as loaders produce them: plain data with Unknowns and References inside.
model_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["*", "arn:aws:iam::111122223333:root", "PT12H", "43200", "true", "{{resolve:ssm:x}}", "AKIAZ7QF3WLXNC4PJR2M", '{"Statement": []}'])
    | st.builds(Unknown, st.text(max_size=10))
    | st.builds(Reference, st.just("ref"), st.sampled_from(["Role", "aws_iam_role.r", "Profile"]), st.sampled_from([None, "Arn", "name"])),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12) | st.sampled_from(KEYS), children, max_size=5),
    max_leaves=30,
)


def _cfn_outcome(text: str) -> tuple[Template | None, list[LoadError]]:
    result = cloudformation.load("fuzz.yaml", text)
    template, errors = result
    assert template is None or isinstance(template, Template)
    assert all(isinstance(e, LoadError) and isinstance(e.message, str) for e in errors)
    assert template is not None or errors  # None always comes with a reason
    return result


# --- CloudFormation -----------------------------------------------------------------------------


@budget(120)
@given(mutated(CFN_SEEDS))
def test_mutated_cloudformation_loads_to_a_template_or_errors_deterministically(text):
    assert _cfn_outcome(text) == _cfn_outcome(text)


@budget(60)
@given(st.text(max_size=300))
def test_random_text_is_never_a_traceback(text):
    _cfn_outcome("Resources:\n" + text)
    _cfn_outcome(text)


@budget(60)
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=5), st.sampled_from(["json", "yaml"]))
def test_random_documents_as_resources(properties, kind):
    doc = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": properties}, "S": {"Type": "AWS::EC2::Instance", "Properties": properties}}}
    text = json.dumps(doc) if kind == "json" else yaml.safe_dump(doc)
    assert _cfn_outcome(text) == _cfn_outcome(text)


@budget(60)
@given(st.lists(st.sampled_from(list("[]{}-:&*ab \n,!'\"") + ["- ", ": ", "&a ", "*a ", "\n  "]), max_size=300).map("".join))
def test_structure_checks_never_raise(text):
    problem = limits.structure_problem(text)
    assert problem is None or isinstance(problem.message, str)


@budget(200)
@given(
    st.lists(st.sampled_from(["- ", "-", ": ", ":", "? ", "a", "b: ", "[", "]", "{", "}", ", ", "\n", "\n  ", "\n    ", "\n- ", "'", '"', "$", "${", "x${", " ${"]), max_size=60).map("".join),
    st.integers(1, 8),
)
def test_the_cheap_depth_bound_is_sound(text, depth):
    """When the cheap bound says a document is shallow, the parser agrees (it is only a shortcut)."""
    if limits._surely_shallow(text, depth):
        problem = limits._yaml_events(text, depth, 10**9)
        assert problem is None or "nesting" not in problem.message, (text, problem)


# --- Terraform ----------------------------------------------------------------------------------


def _tf_outcome(text: str) -> tuple[Template | None, list[LoadError]]:
    template, errors = terraform.load_module("fuzz", [("fuzz/main.tf", text)])
    assert template is None or isinstance(template, Template)
    assert all(isinstance(e, LoadError) for e in errors)
    return template, errors


@budget(50)
@given(mutated(TF_SEEDS))
def test_mutated_terraform_loads_to_a_template_or_errors_deterministically(text):
    assert _tf_outcome(text) == _tf_outcome(text)


@budget(40)
@given(st.text(max_size=200))
def test_random_text_as_terraform_is_never_a_traceback(text):
    _tf_outcome(text)
    _tf_outcome('resource "aws_iam_role" "r" {\n  name = ' + text + "\n}\n")


@budget(30)
@given(json_values)
def test_random_json_as_a_plan_or_tfvars(value):
    doc = {"format_version": "1.2", "planned_values": value, "resource_changes": value, "configuration": value}
    for text in (json.dumps(doc), json.dumps(value)):
        parsed, error = plan.parse("plan.json", text)
        if parsed is not None:
            template, errors = plan.load_plan("plan.json", text, parsed)
            assert template is None or isinstance(template, Template)
        else:
            assert isinstance(error, LoadError)
        assignments, problem = terraform.read_tfvars("x.tfvars.json", text)
        assert problem is None or isinstance(problem, LoadError)


# --- the HCL expression evaluator ---------------------------------------------------------------

_ATOMS = ['"a"', '"${var.x}"', "1", "-2.5", "true", "null", "var.x", "var.m", "local.l", "[1, 2]", '{ a = 1, "b" = [true] }',
          "aws_iam_role.r.arn", "data.aws_caller_identity.c.account_id", "each.key", "count.index", "path.module", '"%{ if true }x%{ endif }"']  # fmt: skip
_FUNCTIONS = sorted(FUNCTIONS) + ["file", "templatefile", "fileexists", "try", "can", "nope"]


@st.composite
def hcl_expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(_ATOMS))
    sub = [draw(hcl_expressions(depth + 1)) for _ in range(draw(st.integers(1, 3)))]
    shape = draw(st.sampled_from(["call", "binary", "cond", "for", "index", "list", "object", "template", "unary", "splat"]))
    if shape == "call":
        return f"{draw(st.sampled_from(_FUNCTIONS))}({', '.join(sub)}{draw(st.sampled_from(['', '...']))})"
    if shape == "binary":
        return f"({sub[0]} {draw(st.sampled_from(['+', '-', '*', '/', '%', '==', '!=', '<', '>=', '&&', '||']))} {sub[-1]})"
    if shape == "cond":
        return f"({sub[0]} ? {sub[-1]} : {sub[0]})"
    if shape == "for":
        return draw(st.sampled_from([f"[for v in {sub[0]} : {sub[-1]}]", f"{{for k, v in {sub[0]} : k => {sub[-1]}...}}", f"[for v in {sub[0]} : v if {sub[-1]}]"]))
    if shape == "index":
        return f"{sub[0]}[{sub[-1]}]"
    if shape == "list":
        return f"[{', '.join(sub)}]"
    if shape == "object":
        return "{ " + ", ".join(f"k{i} = {s}" for i, s in enumerate(sub)) + " }"
    if shape == "template":
        return '"pre-${' + sub[0] + '}-post"'
    if shape == "splat":
        return f"{sub[0]}[*].a"
    return f"!{sub[0]}" if draw(st.booleans()) else f"-{sub[0]}"


@cache
def _parse(source: str) -> object:
    from hcl2 import parses_to_tree

    try:
        tree = parses_to_tree(f"x = {source}\n")
    except Exception:  # noqa: BLE001 - a generated expression HCL rejects: nothing to evaluate
        return None
    attribute = next(tree.find_data("attribute"), None)
    return subtrees(attribute)[-1] if attribute is not None else None


@budget(150)
@given(hcl_expressions())
def test_the_expression_evaluator_never_raises_and_is_deterministic(source):
    tree = _parse(source)
    if tree is None:
        return
    variables = {"x": "v", "m": {"a": [1, 2]}}

    def scope() -> Scope:
        from lark import Tree

        return Scope(variables, {"l": Tree("literal_value", [])})

    first = hcl_evaluate(tree, scope())
    assert repr(first) == repr(hcl_evaluate(tree, scope()))


# --- the policy engine --------------------------------------------------------------------------


@cache
def _policies() -> tuple:
    policies, errors = load_policies([builtin_policy_dir()])
    assert errors == []
    return policies


_TYPES = {
    Format.CLOUDFORMATION: ["AWS::IAM::Role", "AWS::EC2::Instance", "AWS::EC2::LaunchTemplate", "AWS::IAM::User", "AWS::ECS::TaskDefinition",
                            "AWS::RDS::DBCluster", "AWS::Lambda::Function", "AWS::CloudFormation::Parameter", "AWS::SecretsManager::Secret"],
    Format.TERRAFORM: ["aws_iam_role", "aws_instance", "aws_launch_template", "aws_iam_user", "provider.aws", "variable",
                       "aws_db_instance", "aws_ecs_task_definition", "data.aws_iam_policy_document"],
}  # fmt: skip


@budget(120)
@given(
    st.sampled_from([Format.CLOUDFORMATION, Format.TERRAFORM, Format.TERRAFORM_PLAN]),
    st.data(),
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), model_values, max_size=6),
)
def test_the_engine_judges_any_value_without_raising(fmt, data, properties):
    rtype = data.draw(st.sampled_from(_TYPES[Format.TERRAFORM if fmt is Format.TERRAFORM_PLAN else fmt]))
    resource = Resource(fmt, rtype, "R", properties, Location("fuzz", 1), metadata=data.draw(st.dictionaries(st.text(max_size=5), model_values, max_size=2)))
    template = Template(fmt, "fuzz", (resource,), ("fuzz",), relations={"R": {"roles": ("Role",)}})
    findings = evaluate(_policies(), [template])
    assert findings == evaluate(_policies(), [template])
    # A built-in policy that raised would be an ERROR finding: none may, whatever the value.
    assert [f for f in findings if f.outcome.value == "error"] == []
