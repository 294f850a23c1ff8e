"""Write a deterministic corpus of realistic CloudFormation and Terraform for benchmarking.

    python benchmarks/generate_corpus.py --files 1000 --seed 1 --out /tmp/iacv-corpus-1000
    python benchmarks/generate_corpus.py --files 200 --seed 7 --self-check

The corpus mixes CloudFormation YAML (short-form intrinsics: !Ref, !Sub, !GetAtt, !If, !Join,
!Select, !GetAZs, !Base64), CloudFormation JSON (long-form intrinsics) and Terraform module
directories (main.tf and variables.tf, often iam.tf, outputs.tf and versions.tf, with locals,
variables with and without defaults, jsonencode(...) and heredoc trust policies, count, for_each,
dynamic blocks and data.aws_iam_policy_document). Every template or module has 5-200 resources:
IAM roles (service principals, SAML federation, cross-account with and without sts:ExternalId),
instance profiles, EC2 instances (with and without IamInstanceProfile, or from a launch template),
launch templates, Lambda functions, ECS task definitions, S3 buckets and bucket policies, security
groups, VPCs and subnets, SQS, SNS, DynamoDB, KMS and CloudWatch Logs.

About a quarter of the templates contain violations of the built-in policies (EC2 instance without
an instance profile, cross-account trust without sts:ExternalId, MaxSessionDuration above 3600 s);
the rest are clean. The expected counts are written to --manifest (JSON) and printed.

Output is a pure function of --files and --seed: the same arguments give byte-identical files
(--self-check generates twice into temporary directories and compares every byte).
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TEAMS = ("platform", "payments", "data", "identity", "search", "mobile", "ml", "edge")
APPS = (
    "orders", "billing", "catalog", "checkout", "ingest", "reports", "auth", "profile", "notify",
    "ledger", "analytics", "gateway", "inventory", "pricing", "shipping", "media", "search-index",
    "audit", "feature-store", "scheduler",
)
SERVICES = ("ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com")
PARTNER_ACCOUNTS = ("111122223333", "210987654321", "444455556666", "777788889999", "123456789012")
MANAGED_POLICIES = (
    "AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy", "AmazonS3ReadOnlyAccess",
    "AWSXRayDaemonWriteAccess", "AmazonDynamoDBReadOnlyAccess",
)
INSTANCE_TYPES = ("t3.micro", "t3.small", "t3.medium", "m6i.large", "c6i.xlarge", "r6i.large")
RUNTIMES = ("python3.12", "python3.11", "nodejs20.x", "java21", "provided.al2023")
POLICIES = ("WORKLOAD-001", "TRUST-001", "SESSION-001")


# --------------------------------------------------------------------------- counting


@dataclass
class Counts:
    """Ground truth for one unit (template or module), summed into the manifest."""

    resources: int = 0
    fail: dict[str, int] = field(default_factory=lambda: dict.fromkeys(POLICIES, 0))
    by_type: dict[str, int] = field(default_factory=dict)

    def add(self, rtype: str) -> None:
        self.resources += 1
        self.by_type[rtype] = self.by_type.get(rtype, 0) + 1


# --------------------------------------------------------------------------- CloudFormation


class Fn:
    """A CloudFormation intrinsic: rendered short-form in YAML, long-form in JSON."""

    def __init__(self, name: str, arg: Any) -> None:
        self.name = name  # "Ref", "Sub", "GetAtt", "Join", "If", "Select", "GetAZs", "Base64", ...
        self.arg = arg

    def long_form(self) -> dict[str, Any]:
        if self.name == "Ref":
            return {"Ref": self.arg}
        if self.name == "GetAtt" and isinstance(self.arg, str):
            return {"Fn::GetAtt": self.arg.split(".", 1)}
        if self.name == "If":
            return {"Fn::If": self.arg}
        return {f"Fn::{self.name}": self.arg}


def Ref(name: str) -> Fn:  # noqa: N802 - reads like the intrinsic
    return Fn("Ref", name)


def Sub(text: str) -> Fn:  # noqa: N802
    return Fn("Sub", text)


def GetAtt(target: str) -> Fn:  # noqa: N802
    return Fn("GetAtt", target)


def to_json_value(value: Any) -> Any:
    if isinstance(value, Fn):
        return {k: to_json_value(v) for k, v in value.long_form().items()}
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    return value


_YAML_PLAIN_BAD_START = tuple("!&*{}[]|>'\"%@`,?:#-") + (" ",)
_YAML_SPECIAL = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
                 "yes", "Yes", "no", "No", "on", "On", "off", "Off", "y", "n", "Y", "N"}


def yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    needs_quotes = (
        text in _YAML_SPECIAL
        or text.startswith(_YAML_PLAIN_BAD_START)
        or text.endswith((" ", ":"))
        or ": " in text
        or " #" in text
        or "\n" in text
        or "\t" in text
        or _looks_numeric(text)
    )
    return json.dumps(text) if needs_quotes else text


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.startswith(("0x", "0o")) or (text[:4].isdigit() and text[4:5] == "-")  # dates
    return True


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list | Fn)


def _flow_ok(value: Any) -> bool:
    """Short mappings/lists of scalars may be written in flow style, as people do."""
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return False
    return 0 < len(items) <= 3 and all(_is_scalar(v) and "\n" not in str(v) for v in items) and (
        len(json.dumps(value)) < 70
    )


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_scalar(k)}: {yaml_scalar(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(yaml_scalar(v) for v in value) + "]"


def yaml_inline(value: Any, flow: bool) -> str | None:
    """The text after `key: ` when the value fits on that line, else None."""
    if isinstance(value, Fn):
        arg = value.arg
        if isinstance(arg, str) and "\n" not in arg:
            return f"!{value.name} {yaml_scalar(arg)}"
        if isinstance(arg, list) and all(_is_scalar(a) for a in arg) and len(json.dumps(arg)) < 70:
            return f"!{value.name} {_flow(arg)}"
        return None
    if _is_scalar(value):
        return yaml_scalar(value) if "\n" not in str(value) else None
    if flow and _flow_ok(value):
        return _flow(value)
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    return None


def yaml_block(value: Any, indent: int, flow: bool) -> list[str]:
    """Lines for a value that does not fit after its key (mapping, list, block scalar, intrinsic)."""
    pad = " " * indent
    if isinstance(value, Fn):
        if isinstance(value.arg, Fn):  # YAML allows one tag per node: the outer function goes long-form
            return yaml_block({f"Fn::{value.name}": value.arg}, indent, flow)
        if isinstance(value.arg, str):  # multi-line !Sub / !Base64
            return [f"!{value.name} |"] + [f"{pad}{line}" if line else "" for line in value.arg.rstrip("\n").split("\n")]
        inner = yaml_block(value.arg, indent, flow)
        return [f"!{value.name}"] + inner[1:] if inner and inner[0] == "" else [f"!{value.name}", *inner]
    if isinstance(value, str):
        return ["|"] + [f"{pad}{line}" if line else "" for line in value.rstrip("\n").split("\n")]
    lines: list[str] = [""]  # marker: the value starts on the next line
    if isinstance(value, dict):
        for key, item in value.items():
            lines.extend(_yaml_entry(pad, yaml_scalar(key) + ":", item, indent, flow))
    else:
        for item in value:
            if isinstance(item, dict) and item:
                first = True
                for key, sub in item.items():
                    prefix = f"{pad}- " if first else f"{pad}  "
                    lines.extend(_yaml_entry(prefix, yaml_scalar(key) + ":", sub, indent + 2, flow))
                    first = False
            else:
                lines.extend(_yaml_entry(f"{pad}-", "", item, indent + 2, flow))
    return lines


def _yaml_entry(prefix: str, key: str, value: Any, indent: int, flow: bool) -> list[str]:
    head = f"{prefix}{key}" if key else prefix.rstrip()
    inline = yaml_inline(value, flow)
    if inline is not None:
        return [f"{head} {inline}"]
    block = yaml_block(value, indent + 2, flow)
    if block[0] == "":
        return [head, *block[1:]]
    return [f"{head} {block[0]}", *block[1:]]


def render_cfn_yaml(template: dict[str, Any], flow: bool, comment: str) -> str:
    out = [f"# {comment}"]
    for section, body in template.items():
        if section in ("Resources", "Outputs", "Parameters") and isinstance(body, dict):
            out.append("")
            out.append(f"{section}:")
            for i, (name, item) in enumerate(body.items()):
                if section == "Resources" and i:
                    out.append("")
                out.extend(_yaml_entry("  ", f"{name}:", item, 2, flow))
        else:
            if section in ("Mappings", "Conditions"):
                out.append("")
            out.extend(_yaml_entry("", f"{section}:", body, 0, flow))
    return "\n".join(out) + "\n"


def render_cfn_json(template: dict[str, Any], indent: int) -> str:
    return json.dumps(to_json_value(template), indent=indent) + "\n"


# --------------------------------------------------------------------------- Terraform (HCL)


class Raw(str):
    """An HCL expression written as-is (var.x, aws_iam_role.app.arn, jsonencode(...))."""


@dataclass
class Heredoc:
    text: str
    tag: str = "EOT"


@dataclass
class Block:
    kind: str
    labels: tuple[str, ...]
    body: list[Any]  # (name, value) tuples, nested Blocks, "" for a blank line, "# comment" strings


_IDENT_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def hcl_key(key: str) -> str:
    return key if key and set(key) <= _IDENT_OK and not key[0].isdigit() else json.dumps(key)


def hcl_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def hcl_value(value: Any, indent: int) -> str:
    pad = " " * indent
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Heredoc):
        body = "\n".join(f"{pad}  {line}" if line else "" for line in value.text.rstrip("\n").split("\n"))
        return f"<<-{value.tag}\n{body}\n{pad}{value.tag}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list):
        if not value:
            return "[]"
        parts = [hcl_value(v, indent + 2) for v in value]
        if all("\n" not in p for p in parts) and sum(len(p) for p in parts) < 80:
            return "[" + ", ".join(parts) + "]"
        return "[\n" + "".join(f"{pad}  {p},\n" for p in parts) + f"{pad}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{\n" + "\n".join(_hcl_attrs([(hcl_key(k), v) for k, v in value.items()], indent + 2)) + f"\n{pad}}}"
    raise TypeError(type(value))


def _hcl_attrs(items: list[tuple[str, Any]], indent: int) -> list[str]:
    """`name = value` lines with the `=` aligned over runs of single-line values, as terraform fmt does."""
    pad = " " * indent
    rendered = [(k, hcl_value(v, indent)) for k, v in items]
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for key, text in rendered:
        if "\n" in text:
            flush()
            lines.append(f"{pad}{key} = {text}")
        else:
            run.append((key, text))
    flush()
    return lines


def render_block(block: Block, indent: int = 0) -> str:
    pad = " " * indent
    head = " ".join([block.kind, *(json.dumps(label) for label in block.labels)])
    if not block.body:
        return f"{pad}{head} {{}}"
    lines = [f"{pad}{head} {{"]
    attrs: list[tuple[str, Any]] = []

    def flush() -> None:
        lines.extend(_hcl_attrs(attrs, indent + 2))
        attrs.clear()

    for item in block.body:
        if isinstance(item, tuple):
            attrs.append((hcl_key(item[0]), item[1]))
            continue
        flush()
        if isinstance(item, Block):
            if lines[-1] != f"{pad}{head} {{":
                lines.append("")
            lines.append(render_block(item, indent + 2))
        elif item == "":
            lines.append("")
        else:
            lines.append(f"{pad}  {item}")
    flush()
    lines.append(f"{pad}}}")
    return "\n".join(lines)


def render_tf(blocks: Iterable[Block | str]) -> str:
    parts = [b if isinstance(b, str) else render_block(b) for b in blocks]
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- one unit


class Unit:
    """One CloudFormation template or one Terraform module being generated."""

    def __init__(self, rng: random.Random, fmt: str, app: str, team: str) -> None:
        self.rng = rng
        self.fmt = fmt  # "cfn" or "tf"
        self.app = app
        self.team = team
        self.counts = Counts()
        self.names: dict[str, int] = {}
        # CloudFormation
        self.parameters: dict[str, Any] = {}
        self.conditions: dict[str, Any] = {}
        self.resources: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        # Terraform
        self.variables: dict[str, Block] = {}
        self.main: list[Block] = []
        self.iam: list[Block] = []
        self.tf_outputs: list[Block] = []
        self.data: dict[str, Block] = {}
        self.has_iam_file = rng.random() < 0.5

    # names ------------------------------------------------------------------
    def name(self, base: str) -> str:
        """A unique logical id (CamelCase) or Terraform name (snake_case) built from `base`."""
        n = self.names.get(base, 0)
        self.names[base] = n + 1
        if self.fmt == "cfn":
            camel = "".join(p[:1].upper() + p[1:] for p in base.replace("-", "_").split("_"))
            return camel if n == 0 else f"{camel}{n + 1}"
        snake = base.replace("-", "_")
        return snake if n == 0 else f"{snake}_{n + 1}"

    # CloudFormation helpers -------------------------------------------------
    def param(self, name: str, spec: dict[str, Any]) -> Fn:
        self.parameters.setdefault(name, spec)
        return Ref(name)

    def env(self) -> Fn:
        return self.param("Environment", {"Type": "String", "AllowedValues": ["dev", "staging", "production"],
                                          "Default": "production"})

    def cfn(self, logical_id: str, rtype: str, props: dict[str, Any], **extra: Any) -> None:
        body: dict[str, Any] = {"Type": rtype}
        body.update(extra)
        body["Properties"] = props
        self.resources[logical_id] = body
        self.counts.add(rtype)

    def tags(self, component: str) -> list[dict[str, Any]]:
        tags: list[dict[str, Any]] = [
            {"Key": "Name", "Value": Sub(f"{self.app}-{component}-${{Environment}}")},
            {"Key": "team", "Value": self.team},
        ]
        self.env()
        if self.rng.random() < 0.3:
            tags.append({"Key": "cost-center", "Value": f"cc-{self.rng.randint(1000, 9999)}"})
        return tags

    # Terraform helpers ------------------------------------------------------
    def var(self, name: str, vtype: str, default: Any = None, description: str | None = None) -> Raw:
        if name not in self.variables:
            body: list[Any] = [("type", Raw(vtype))]
            if description:
                body.insert(0, ("description", description))
            if default is not None:
                body.append(("default", default))
            self.variables[name] = Block("variable", (name,), body)
        return Raw(f"var.{name}")

    def tf(self, rtype: str, name: str, body: list[Any], iam: bool = False) -> Block:
        block = Block("resource", (rtype, name), body)
        (self.iam if iam and self.has_iam_file else self.main).append(block)
        self.counts.add(rtype)
        return block

    def tf_tags(self, component: str) -> Raw:
        self.var("environment", "string", "production", "Deployment environment.")
        if self.rng.random() < 0.5:
            return Raw(f'merge(local.common_tags, {{ Name = "{self.app}-{component}-${{var.environment}}" }})')
        return Raw("local.common_tags")

    def caller_identity(self) -> None:
        self.data.setdefault("caller", Block("data", ("aws_caller_identity", "current"), []))


# --------------------------------------------------------------------------- trust policies


def trust_statement(kind: str, unit: Unit, account: str | None = None, external: bool = False) -> dict[str, Any]:
    rng = unit.rng
    if kind == "service":
        principal: dict[str, Any] = {"Service": account or rng.choice(SERVICES)}
        return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if kind == "saml":
        if unit.fmt == "cfn":
            arn: Any = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:saml-provider/okta")
        else:
            unit.caller_identity()
            arn = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:saml-provider/okta"
        return {"Effect": "Allow", "Principal": {"Federated": arn}, "Action": "sts:AssumeRoleWithSAML",
                "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}
    # cross-account
    assert account is not None
    style = rng.random()
    if unit.fmt == "cfn":
        if style < 0.4:
            who: Any = f"arn:aws:iam::{account}:root"
        elif style < 0.7:
            unit.param("PartnerAccountId", {"Type": "String", "Default": account,
                                            "Description": "Account of the partner that assumes the role."})
            who = Sub("arn:aws:iam::${PartnerAccountId}:root")
        else:
            who = [f"arn:aws:iam::{account}:role/{unit.app}-reader", f"arn:aws:iam::{account}:role/{unit.app}-auditor"]
    else:
        if style < 0.5:
            who = f"arn:aws:iam::{account}:root"
        else:
            unit.var("partner_account_id", "string", account, "Account of the partner that assumes the role.")
            who = "arn:aws:iam::${var.partner_account_id}:root"
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": who}, "Action": "sts:AssumeRole"}
    if external:
        if unit.fmt == "cfn":
            ext: Any = unit.param("ExternalId", {"Type": "String", "NoEcho": True, "MinLength": 8,
                                                 "Description": "External id agreed with the partner."})
        else:
            ext = "${var.external_id}"
            unit.var("external_id", "string", f"ext-{unit.rng.randint(10**7, 10**8 - 1)}", "External id agreed with the partner.")
        stmt["Condition"] = {"StringEquals": {"sts:ExternalId": ext}}
    return stmt


def policy_doc(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def tf_policy_value(unit: Unit, doc: dict[str, Any], allow_data: bool) -> tuple[Any, bool]:
    """A policy document as Terraform writes it: jsonencode, heredoc or a data source. Returns (value, resolvable)."""
    r = unit.rng.random()
    if allow_data and r < 0.15:
        name = unit.name("assume")
        stmts: list[Any] = []
        for s in doc["Statement"]:
            (ptype, ids), = s["Principal"].items()
            body: list[Any] = [("actions", [s["Action"]])]
            body.append(Block("principals", (), [("type", ptype), ("identifiers", ids if isinstance(ids, list) else [ids])]))
            stmts.append(Block("statement", (), body))
        unit.data[name] = Block("data", ("aws_iam_policy_document", name), stmts)
        return Raw(f"data.aws_iam_policy_document.{name}.json"), False
    if r < 0.75:
        return Raw("jsonencode(" + hcl_value(_hcl_doc(doc), 2) + ")"), True
    return Heredoc(json.dumps(doc, indent=2)), True


def _hcl_doc(value: Any) -> Any:
    """A JSON document for jsonencode({...}): ${...} strings keep their interpolation, var refs stay raw."""
    if isinstance(value, dict):
        return {k: _hcl_doc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hcl_doc(v) for v in value]
    if isinstance(value, str) and value.startswith("${") and value.endswith("}") and value.count("${") == 1:
        return Raw(value[2:-1])
    return value


# --------------------------------------------------------------------------- components
# Each component adds 1..4 resources to a unit and returns how many it added.


def c_service_role(unit: Unit, service: str | None = None, session: int | None = None) -> tuple[str, int]:
    rng = unit.rng
    svc = service or rng.choice(SERVICES)
    base = {"ec2.amazonaws.com": "instance_role", "lambda.amazonaws.com": "function_role",
            "ecs-tasks.amazonaws.com": "task_role"}[svc]
    name = unit.name(base)
    doc = policy_doc([trust_statement("service", unit, svc)])
    policies = rng.sample(MANAGED_POLICIES, rng.randint(0, 2))
    if unit.fmt == "cfn":
        props: dict[str, Any] = {"AssumeRolePolicyDocument": doc}
        if rng.random() < 0.5:
            props["RoleName"] = Sub(f"{unit.app}-{base.replace('_', '-')}-${{Environment}}")
            unit.env()
        if session is not None:
            props["MaxSessionDuration"] = session
        elif rng.random() < 0.3:
            props["MaxSessionDuration"] = 3600
        if policies:
            props["ManagedPolicyArns"] = [Sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{p}") for p in policies]
        if rng.random() < 0.4:
            props["Policies"] = [{"PolicyName": "app-access", "PolicyDocument": policy_doc([{
                "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": Sub(f"arn:${{AWS::Partition}}:s3:::{unit.app}-data-${{AWS::AccountId}}/*")}])}]
        if rng.random() < 0.5:
            props["Tags"] = unit.tags(base)
        unit.cfn(name, "AWS::IAM::Role", props)
        return name, 1
    value, _ = tf_policy_value(unit, doc, allow_data=True)
    unit.var("environment", "string", "production", "Deployment environment.")
    body: list[Any] = [("name", f"{unit.app}-{base.replace('_', '-')}-${{var.environment}}"), ("assume_role_policy", value)]
    if session is not None:
        body.insert(1, ("max_session_duration", session))
    elif rng.random() < 0.3:
        body.insert(1, ("max_session_duration", 3600))
    if rng.random() < 0.5:
        body.append(("tags", unit.tf_tags(base)))
    unit.tf("aws_iam_role", name, body, iam=True)
    count = 1
    for p in policies:
        unit.tf("aws_iam_role_policy_attachment", unit.name(f"{name}_{p.lower()[:12]}"), [
            ("role", Raw(f"aws_iam_role.{name}.name")),
            ("policy_arn", f"arn:aws:iam::aws:policy/{p}"),
        ], iam=True)
        count += 1
    return name, count


def c_cross_account_role(unit: Unit, violate: bool) -> int:
    rng = unit.rng
    name = unit.name("partner_access")
    account = rng.choice(PARTNER_ACCOUNTS)
    doc = policy_doc([trust_statement("cross", unit, account, external=not violate)])
    if violate:
        unit.counts.fail["TRUST-001"] += 1
    if unit.fmt == "cfn":
        props: dict[str, Any] = {"AssumeRolePolicyDocument": doc, "MaxSessionDuration": 3600,
                                 "ManagedPolicyArns": [Sub("arn:${AWS::Partition}:iam::aws:policy/SecurityAudit")]}
        unit.cfn(name, "AWS::IAM::Role", props)
        return 1
    value, _ = tf_policy_value(unit, doc, allow_data=False)
    unit.tf("aws_iam_role", name, [
        ("name", f"{unit.app}-partner-access"),
        ("max_session_duration", 3600),
        ("assume_role_policy", value),
    ], iam=True)
    return 1


def c_long_session_role(unit: Unit) -> int:
    seconds = unit.rng.choice((14400, 28800, 43200))
    unit.counts.fail["SESSION-001"] += 1
    _, n = c_service_role(unit, "lambda.amazonaws.com", session=seconds)
    return n


def c_saml_role(unit: Unit) -> int:
    name = unit.name("console_admin")
    doc = policy_doc([trust_statement("saml", unit)])
    if unit.fmt == "cfn":
        unit.cfn(name, "AWS::IAM::Role", {"AssumeRolePolicyDocument": doc, "MaxSessionDuration": 3600,
                                          "ManagedPolicyArns": [Sub("arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess")]})
        return 1
    value, _ = tf_policy_value(unit, doc, allow_data=False)
    unit.tf("aws_iam_role", name, [("name", f"{unit.app}-console-readonly"), ("max_session_duration", 3600),
                                   ("assume_role_policy", value)], iam=True)
    return 1


def c_ec2(unit: Unit, violate: bool) -> int:
    """EC2 instance: with role + profile (3 resources), or bare (1, a WORKLOAD-001 violation)."""
    rng = unit.rng
    added = 0
    profile: str | None = None
    if not violate:
        role, added = c_service_role(unit, "ec2.amazonaws.com")
        profile = unit.name("instance_profile")
        if unit.fmt == "cfn":
            unit.cfn(profile, "AWS::IAM::InstanceProfile", {"Roles": [Ref(role)]})
        else:
            unit.tf("aws_iam_instance_profile", profile, [("name", f"{unit.app}-{profile.replace('_', '-')}"),
                                                          ("role", Raw(f"aws_iam_role.{role}.name"))], iam=True)
        added += 1
    else:
        unit.counts.fail["WORKLOAD-001"] += 1
    name = unit.name(rng.choice(("web_server", "worker", "bastion", "app_server", "batch_host")))
    itype = rng.choice(INSTANCE_TYPES)
    user_data = (f"#!/bin/bash\nset -euo pipefail\ndnf install -y amazon-cloudwatch-agent\n"
                 f"echo \"{unit.app} ${{Environment}}\" > /etc/motd\n"
                 f"/opt/aws/bin/cfn-signal -e $? --stack ${{AWS::StackName}} --resource {name} --region ${{AWS::Region}}\n")
    if unit.fmt == "cfn":
        ami = unit.param("LatestAmiId", {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                                         "Default": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"})
        props: dict[str, Any] = {"ImageId": ami, "InstanceType": itype}
        if profile:
            props["IamInstanceProfile"] = Ref(profile)
        subnet = unit.param("SubnetId", {"Type": "AWS::EC2::Subnet::Id", "Description": "Subnet for the instances."})
        props["SubnetId"] = subnet
        if rng.random() < 0.5:
            props["Monitoring"] = True
        if rng.random() < 0.5:
            unit.env()
            props["UserData"] = Fn("Base64", Sub(user_data))
        if rng.random() < 0.4:
            props["BlockDeviceMappings"] = [{"DeviceName": "/dev/xvda", "Ebs": {
                "VolumeSize": rng.choice((20, 50, 100)), "VolumeType": "gp3", "Encrypted": True}}]
        props["Tags"] = unit.tags(name)
        unit.cfn(name, "AWS::EC2::Instance", props)
        return added + 1
    unit.var("subnet_id", "string", None, "Subnet for the instances (no default: set per environment).")
    body: list[Any] = [("ami", Raw("data.aws_ami.al2023.id")), ("instance_type", itype), ("subnet_id", Raw("var.subnet_id"))]
    unit.data.setdefault("ami", Block("data", ("aws_ami", "al2023"), [
        ("most_recent", True), ("owners", ["amazon"]),
        Block("filter", (), [("name", "name"), ("values", ["al2023-ami-*-x86_64"])])]))
    if profile:
        body.append(("iam_instance_profile", Raw(f"aws_iam_instance_profile.{profile}.name")))
    if rng.random() < 0.5:
        body.append(("monitoring", True))
    if rng.random() < 0.4:
        body.append(("user_data", Heredoc(user_data.replace("${Environment}", "${var.environment}")
                                          .replace("${AWS::StackName}", "stack").replace("${AWS::Region}", "region")
                                          .replace("$?", "0"))))
    body.append(Block("metadata_options", (), [("http_tokens", "required"), ("http_endpoint", "enabled")]))
    if rng.random() < 0.4:
        body.append(Block("root_block_device", (), [("volume_size", rng.choice((20, 50, 100))), ("volume_type", "gp3"),
                                                     ("encrypted", True)]))
    body.append(("tags", unit.tf_tags(name)))
    unit.tf("aws_instance", name, body)
    return added + 1


def c_launch_template(unit: Unit) -> int:
    """Role + profile + launch template + an instance launched from it (4 resources)."""
    role, added = c_service_role(unit, "ec2.amazonaws.com")
    profile = unit.name("fleet_profile")
    lt = unit.name("fleet_template")
    inst = unit.name("fleet_node")
    if unit.fmt == "cfn":
        unit.cfn(profile, "AWS::IAM::InstanceProfile", {"Roles": [Ref(role)]})
        unit.cfn(lt, "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {
            "ImageId": unit.param("LatestAmiId", {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                                                  "Default": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}),
            "InstanceType": unit.rng.choice(INSTANCE_TYPES),
            "IamInstanceProfile": {"Arn": GetAtt(f"{profile}.Arn")},
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
        }})
        unit.cfn(inst, "AWS::EC2::Instance", {"LaunchTemplate": {
            "LaunchTemplateId": Ref(lt), "Version": GetAtt(f"{lt}.LatestVersionNumber")}})
        return added + 3
    unit.tf("aws_iam_instance_profile", profile, [("role", Raw(f"aws_iam_role.{role}.name"))], iam=True)
    unit.tf("aws_launch_template", lt, [
        ("name_prefix", f"{unit.app}-"),
        ("image_id", Raw("data.aws_ami.al2023.id")),
        ("instance_type", unit.rng.choice(INSTANCE_TYPES)),
        Block("iam_instance_profile", (), [("arn", Raw(f"aws_iam_instance_profile.{profile}.arn"))]),
        Block("metadata_options", (), [("http_tokens", "required"), ("http_put_response_hop_limit", 1)]),
    ])
    unit.data.setdefault("ami", Block("data", ("aws_ami", "al2023"), [
        ("most_recent", True), ("owners", ["amazon"]),
        Block("filter", (), [("name", "name"), ("values", ["al2023-ami-*-x86_64"])])]))
    unit.tf("aws_instance", inst, [
        Block("launch_template", (), [("id", Raw(f"aws_launch_template.{lt}.id")), ("version", "$Latest")]),
        ("subnet_id", unit.var("subnet_id", "string", None, "Subnet for the instances (no default: set per environment).")),
    ])
    return added + 3


def c_lambda(unit: Unit) -> int:
    role, added = c_service_role(unit, "lambda.amazonaws.com")
    rng = unit.rng
    name = unit.name(rng.choice(("handler", "processor", "api_function", "consumer", "cron_job")))
    runtime = rng.choice(RUNTIMES)
    if unit.fmt == "cfn":
        props: dict[str, Any] = {"Runtime": runtime, "Handler": "index.handler", "Role": GetAtt(f"{role}.Arn"),
                                 "Timeout": rng.choice((3, 30, 60, 300)), "MemorySize": rng.choice((128, 256, 512, 1024))}
        if rng.random() < 0.3:
            props["Code"] = {"ZipFile": "import json\n\n\ndef handler(event, context):\n    return {\"statusCode\": 200, \"body\": json.dumps(event)}\n"}
        else:
            props["Code"] = {"S3Bucket": Sub(f"{unit.app}-artifacts-${{AWS::AccountId}}"), "S3Key": f"{name}.zip"}
        props["Environment"] = {"Variables": {"STAGE": unit.env(), "LOG_LEVEL": "INFO"}}
        unit.cfn(name, "AWS::Lambda::Function", props)
        return added + 1
    unit.tf("aws_lambda_function", name, [
        ("function_name", f"{unit.app}-{name.replace('_', '-')}-${{var.environment}}"),
        ("runtime", runtime), ("handler", "index.handler"),
        ("role", Raw(f"aws_iam_role.{role}.arn")),
        ("filename", f"${{path.module}}/build/{name}.zip"),
        ("timeout", rng.choice((3, 30, 60, 300))),
        Block("environment", (), [("variables", {"STAGE": Raw("var.environment"), "LOG_LEVEL": "INFO"})]),
    ])
    return added + 1


def c_ecs_task(unit: Unit) -> int:
    role, added = c_service_role(unit, "ecs-tasks.amazonaws.com")
    rng = unit.rng
    name = unit.name("task_definition")
    containers = [{"Name": unit.app, "Image": f"public.ecr.aws/docker/library/nginx:1.{rng.randint(20, 27)}",
                   "Essential": True, "PortMappings": [{"ContainerPort": 8080, "Protocol": "tcp"}],
                   "Environment": [{"Name": "STAGE", "Value": "production"}]}]
    if unit.fmt == "cfn":
        unit.cfn(name, "AWS::ECS::TaskDefinition", {
            "Family": Sub(f"{unit.app}-${{Environment}}"), "Cpu": "512", "Memory": "1024", "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"], "TaskRoleArn": GetAtt(f"{role}.Arn"),
            "ExecutionRoleArn": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ecsTaskExecutionRole"),
            "ContainerDefinitions": containers})
        unit.env()
        return added + 1
    lower = [{k[0].lower() + k[1:]: v for k, v in c.items()} for c in containers]
    unit.tf("aws_ecs_task_definition", name, [
        ("family", f"{unit.app}-${{var.environment}}"), ("cpu", "512"), ("memory", "1024"),
        ("network_mode", "awsvpc"), ("requires_compatibilities", ["FARGATE"]),
        ("task_role_arn", Raw(f"aws_iam_role.{role}.arn")),
        ("container_definitions", Raw("jsonencode(" + hcl_value(lower, 2) + ")")),
    ])
    return added + 1


def c_bucket(unit: Unit) -> int:
    rng = unit.rng
    name = unit.name(rng.choice(("data_bucket", "logs_bucket", "artifacts", "uploads")))
    with_policy = rng.random() < 0.3
    if unit.fmt == "cfn":
        unit.cfn(name, "AWS::S3::Bucket", {
            "BucketName": Sub(f"{unit.app}-{name.lower()}-${{AWS::AccountId}}-${{AWS::Region}}"),
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        }, DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
        if with_policy:
            unit.cfn(unit.name(f"{name}_policy"), "AWS::S3::BucketPolicy", {"Bucket": Ref(name), "PolicyDocument": policy_doc([{
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [GetAtt(f"{name}.Arn"), Sub(f"${{{name}.Arn}}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}])})
            return 2
        return 1
    unit.caller_identity()
    unit.tf("aws_s3_bucket", name, [("bucket", f"{unit.app}-{name.replace('_', '-')}-${{data.aws_caller_identity.current.account_id}}"),
                                     ("tags", unit.tf_tags(name))])
    unit.tf("aws_s3_bucket_public_access_block", name, [("bucket", Raw(f"aws_s3_bucket.{name}.id")),
                                                        ("block_public_acls", True), ("block_public_policy", True),
                                                        ("ignore_public_acls", True), ("restrict_public_buckets", True)])
    n = 2
    if with_policy:
        unit.tf("aws_s3_bucket_policy", name, [("bucket", Raw(f"aws_s3_bucket.{name}.id")), ("policy", Raw("jsonencode(" + hcl_value({
            "Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                                                     "Action": "s3:*", "Resource": [Raw(f"aws_s3_bucket.{name}.arn"),
                                                                                     f"${{aws_s3_bucket.{name}.arn}}/*"],
                                                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}, 2) + ")"))])
        n += 1
    return n


def c_security_group(unit: Unit) -> int:
    rng = unit.rng
    name = unit.name(rng.choice(("web_sg", "app_sg", "db_sg", "lb_sg")))
    ports = rng.sample((22, 80, 443, 5432, 6379, 8080, 9090), rng.randint(1, 3))
    if unit.fmt == "cfn":
        vpc = unit.param("VpcId", {"Type": "AWS::EC2::VPC::Id"})
        unit.cfn(name, "AWS::EC2::SecurityGroup", {
            "GroupDescription": f"{unit.app} {name}", "VpcId": vpc,
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "CidrIp": "10.0.0.0/8"} for p in ports],
            "Tags": unit.tags(name)})
        return 1
    vpc_var = unit.var("vpc_id", "string", None, "VPC to deploy into.")
    if rng.random() < 0.4:
        unit.var("ingress_ports", "list(number)", ports, "Ports open to the VPC.")
        unit.tf("aws_security_group", name, [("name_prefix", f"{unit.app}-{name.replace('_', '-')}-"), ("vpc_id", vpc_var),
                                             Block("dynamic", ("ingress",), [("for_each", Raw("var.ingress_ports")), Block("content", (), [
                                                 ("from_port", Raw("ingress.value")), ("to_port", Raw("ingress.value")),
                                                 ("protocol", "tcp"), ("cidr_blocks", ["10.0.0.0/8"])])])])
        return 1
    body: list[Any] = [("name_prefix", f"{unit.app}-{name.replace('_', '-')}-"), ("vpc_id", vpc_var)]
    for p in ports:
        body.append(Block("ingress", (), [("from_port", p), ("to_port", p), ("protocol", "tcp"), ("cidr_blocks", ["10.0.0.0/8"])]))
    body.append(Block("egress", (), [("from_port", 0), ("to_port", 0), ("protocol", "-1"), ("cidr_blocks", ["0.0.0.0/0"])]))
    unit.tf("aws_security_group", name, body)
    return 1


def c_network(unit: Unit) -> int:
    """VPC and 1-3 subnets."""
    rng = unit.rng
    vpc = unit.name("vpc")
    n = rng.randint(1, 3)
    base = rng.randint(0, 200)
    if unit.fmt == "cfn":
        unit.cfn(vpc, "AWS::EC2::VPC", {"CidrBlock": f"10.{base}.0.0/16", "EnableDnsSupport": True,
                                         "EnableDnsHostnames": True, "Tags": unit.tags("vpc")})
        for i in range(n):
            unit.cfn(unit.name("subnet"), "AWS::EC2::Subnet", {
                "VpcId": Ref(vpc), "CidrBlock": f"10.{base}.{i * 16}.0/20",
                "AvailabilityZone": Fn("Select", [i, Fn("GetAZs", "")])})
        return n + 1
    unit.tf("aws_vpc", vpc, [("cidr_block", f"10.{base}.0.0/16"), ("enable_dns_hostnames", True), ("tags", unit.tf_tags("vpc"))])
    unit.tf("aws_subnet", unit.name("private"), [("count", n), ("vpc_id", Raw(f"aws_vpc.{vpc}.id")),
                                                 ("cidr_block", Raw(f"cidrsubnet(aws_vpc.{vpc}.cidr_block, 4, count.index)"))])
    return 2


def c_simple(unit: Unit) -> int:
    """One of the single-resource services: SQS, SNS, DynamoDB, KMS, log group."""
    rng = unit.rng
    kind = rng.choice(("queue", "topic", "table", "key", "logs"))
    name = unit.name(kind)
    if unit.fmt == "cfn":
        if kind == "queue":
            unit.cfn(name, "AWS::SQS::Queue", {"QueueName": Sub(f"{unit.app}-{name.lower()}-${{Environment}}"),
                                               "VisibilityTimeout": 60, "SqsManagedSseEnabled": True})
            unit.env()
        elif kind == "topic":
            unit.cfn(name, "AWS::SNS::Topic", {"TopicName": f"{unit.app}-{name.lower()}", "KmsMasterKeyId": "alias/aws/sns"})
        elif kind == "table":
            unit.cfn(name, "AWS::DynamoDB::Table", {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "SSESpecification": {"SSEEnabled": True}})
        elif kind == "key":
            unit.cfn(name, "AWS::KMS::Key", {"EnableKeyRotation": True, "KeyPolicy": policy_doc([{
                "Sid": "AccountAdmin", "Effect": "Allow",
                "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                "Action": "kms:*", "Resource": "*"}])})
        else:
            unit.cfn(name, "AWS::Logs::LogGroup", {"LogGroupName": Sub(f"/{unit.team}/{unit.app}/${{Environment}}"),
                                                   "RetentionInDays": rng.choice((7, 30, 90, 365))})
            unit.env()
        return 1
    if kind == "queue":
        unit.tf("aws_sqs_queue", name, [("name", f"{unit.app}-{name}-${{var.environment}}"), ("visibility_timeout_seconds", 60),
                                        ("sqs_managed_sse_enabled", True)])
    elif kind == "topic":
        unit.tf("aws_sns_topic", name, [("name", f"{unit.app}-{name}"), ("kms_master_key_id", "alias/aws/sns")])
    elif kind == "table":
        unit.tf("aws_dynamodb_table", name, [
            ("name", f"{unit.app}-{name}"), ("billing_mode", "PAY_PER_REQUEST"), ("hash_key", "pk"), ("range_key", "sk"),
            Block("attribute", (), [("name", "pk"), ("type", "S")]), Block("attribute", (), [("name", "sk"), ("type", "S")]),
            Block("point_in_time_recovery", (), [("enabled", True)])])
    elif kind == "key":
        unit.caller_identity()
        unit.tf("aws_kms_key", name, [("enable_key_rotation", True), ("deletion_window_in_days", 30), ("policy", Raw("jsonencode(" + hcl_value({
            "Version": "2012-10-17", "Statement": [{"Sid": "AccountAdmin", "Effect": "Allow",
                                                     "Principal": {"AWS": "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"},
                                                     "Action": "kms:*", "Resource": "*"}]}, 2) + ")"))])
    else:
        unit.tf("aws_cloudwatch_log_group", name, [("name", f"/{unit.team}/{unit.app}/${{var.environment}}"),
                                                   ("retention_in_days", rng.choice((7, 30, 90, 365)))])
    return 1


# (weight, max resources it can add, builder) for clean units
Component = Callable[[Unit], int]
CLEAN: list[tuple[float, int, Component]] = [
    (3.0, 3, lambda u: c_service_role(u)[1]),
    (1.0, 1, lambda u: c_cross_account_role(u, violate=False)),
    (0.5, 1, c_saml_role),
    (2.0, 6, lambda u: c_ec2(u, violate=False)),
    (0.8, 7, c_launch_template),
    (2.0, 4, c_lambda),
    (1.0, 4, c_ecs_task),
    (2.0, 3, c_bucket),
    (2.0, 1, c_security_group),
    (0.6, 4, c_network),
    (4.0, 1, c_simple),
]
VIOLATIONS: list[Component] = [
    lambda u: c_ec2(u, violate=True),
    lambda u: c_cross_account_role(u, violate=True),
    c_long_session_role,
]


def fill(unit: Unit, target: int, dirty: bool) -> None:
    rng = unit.rng
    if dirty:
        for _ in range(rng.randint(1, 3)):
            if unit.counts.resources + 3 <= target:
                rng.choice(VIOLATIONS)(unit)
    while unit.counts.resources < target:
        room = target - unit.counts.resources
        fitting = [(w, c) for w, m, c in CLEAN if m <= room]
        builder = rng.choices([c for _, c in fitting], [w for w, _ in fitting])[0] if fitting else c_simple
        builder(unit)


# --------------------------------------------------------------------------- writing units


def cfn_template(unit: Unit) -> dict[str, Any]:
    t: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09",
                         "Description": f"{unit.team}/{unit.app}: {unit.counts.resources} resources."}
    if unit.parameters:
        t["Parameters"] = dict(sorted(unit.parameters.items()))
    if "Environment" in unit.parameters and unit.rng.random() < 0.4:
        t["Conditions"] = {"IsProduction": Fn("Equals", [Ref("Environment"), "production"])}
    t["Resources"] = unit.resources
    outputs: dict[str, Any] = {}
    for logical_id, body in list(unit.resources.items())[:5]:
        if body["Type"] in ("AWS::IAM::Role", "AWS::S3::Bucket", "AWS::Lambda::Function"):
            outputs[f"{logical_id}Arn"] = {"Value": GetAtt(f"{logical_id}.Arn"),
                                           "Export": {"Name": Sub(f"${{AWS::StackName}}-{logical_id}Arn")}}
    if outputs:
        t["Outputs"] = outputs
    return t


def tf_files(unit: Unit) -> dict[str, str]:
    rng = unit.rng
    files: dict[str, str] = {}
    header = f"# {unit.team}/{unit.app}: {unit.counts.resources} resources."
    locals_body: list[Any] = [("common_tags", Raw("{\n    team        = \"" + unit.team + "\"\n    service     = \""
                                                   + unit.app + "\"\n    environment = var.environment\n  }"))]
    unit.var("environment", "string", "production", "Deployment environment.")
    if rng.random() < 0.5:
        unit.variables["environment"].body.append(Block("validation", (), [
            ("condition", Raw('contains(["dev", "staging", "production"], var.environment)')),
            ("error_message", "environment must be dev, staging or production.")]))
    if rng.random() < 0.5:
        locals_body.append(("name_prefix", f"{unit.app}-${{var.environment}}"))
        locals_body.append(("upper_tags", Raw("{ for k, v in local.common_tags : upper(k) => v }")))
    main: list[Block | str] = [header, Block("locals", (), locals_body)]
    main.extend(unit.data[k] for k in sorted(unit.data))
    main.extend(unit.main)
    versions = Block("terraform", (), [("required_version", ">= 1.6"), Block("required_providers", (), [
        ("aws", {"source": "hashicorp/aws", "version": "~> 5.40"})])])
    provider = Block("provider", ("aws",), [("region", Raw("var.region")), Block("default_tags", (), [("tags", Raw("local.common_tags"))])])
    unit.var("region", "string", "eu-west-1", "AWS region.")
    if rng.random() < 0.3:
        files["versions.tf"] = render_tf([versions, provider])
    else:
        main[2:2] = [versions, provider]
    files["main.tf"] = render_tf(main)
    if unit.iam:
        files["iam.tf"] = render_tf(["# IAM roles, policies and instance profiles.", *unit.iam])
    files["variables.tf"] = render_tf([unit.variables[k] for k in sorted(unit.variables)])
    outs = [Block("output", (b.labels[1] + "_arn",), [("value", Raw(f"{b.labels[0]}.{b.labels[1]}.arn"))])
            for b in (unit.main + unit.iam)[:4] if b.labels[0] in ("aws_iam_role", "aws_s3_bucket", "aws_lambda_function")]
    if outs and rng.random() < 0.7:
        files["outputs.tf"] = render_tf(outs)
    return files


@dataclass
class Manifest:
    files: int = 0
    bytes: int = 0
    units: dict[str, int] = field(default_factory=lambda: {"cfn-yaml": 0, "cfn-json": 0, "terraform-module": 0})
    file_kinds: dict[str, int] = field(default_factory=lambda: {"cfn-yaml": 0, "cfn-json": 0, "tf": 0})
    resources: dict[str, int] = field(default_factory=lambda: {"cloudformation": 0, "terraform": 0})
    terraform_providers: int = 0
    expected_fail: dict[str, int] = field(default_factory=lambda: dict.fromkeys(POLICIES, 0))
    dirty_units: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def resource_target(rng: random.Random) -> int:
    """5..200 resources, skewed small (median ~25, mean ~37), like real repositories."""
    return 5 + int(195 * rng.betavariate(1.1, 5.0))


def generate(files: int, seed: int, out: str) -> Manifest:
    rng = random.Random(seed)
    manifest = Manifest()
    os.makedirs(out, exist_ok=True)
    index = 0
    while manifest.files < files:
        remaining = files - manifest.files
        team = TEAMS[index % len(TEAMS)] if index < len(TEAMS) else rng.choice(TEAMS)
        app = rng.choice(APPS)
        roll = rng.random()
        kind = "cfn-yaml" if roll < 0.45 else "cfn-json" if roll < 0.65 else "terraform-module"
        if kind == "terraform-module" and remaining < 2:
            kind = "cfn-yaml"
        unit = Unit(random.Random(rng.getrandbits(64)), "tf" if kind == "terraform-module" else "cfn", app, team)
        dirty = unit.rng.random() < 0.25
        fill(unit, resource_target(unit.rng), dirty)
        stem = f"{app}-{index:05d}"
        written: dict[str, str] = {}
        if kind == "cfn-yaml":
            text = render_cfn_yaml(cfn_template(unit), flow=unit.rng.random() < 0.5, comment=f"{team}/{app} stack")
            written[os.path.join(team, "cloudformation", stem + unit.rng.choice((".yaml", ".yaml", ".yml", ".template")))] = text
            manifest.file_kinds["cfn-yaml"] += 1
        elif kind == "cfn-json":
            written[os.path.join(team, "cloudformation", stem + ".json")] = render_cfn_json(cfn_template(unit), unit.rng.choice((2, 4)))
            manifest.file_kinds["cfn-json"] += 1
        else:
            tf = tf_files(unit)
            if len(tf) > remaining:  # the last module gets only the files that still fit: fold into main.tf
                tf.pop("outputs.tf", None)
                extra = [tf.pop(n) for n in ("versions.tf", "iam.tf") if n in tf and len(tf) > remaining]
                tf["main.tf"] = "\n".join([tf["main.tf"], *extra])
            names = sorted(tf)
            for name in names:
                written[os.path.join(team, "terraform", stem, name)] = tf[name]
            manifest.file_kinds["tf"] += len(names)
            manifest.terraform_providers += 1
        for rel, text in written.items():
            path = os.path.join(out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            data = text.encode("utf-8")
            with open(path, "wb") as fh:
                fh.write(data)
            manifest.bytes += len(data)
        manifest.files += len(written)
        manifest.units[kind] += 1
        manifest.resources["terraform" if kind == "terraform-module" else "cloudformation"] += unit.counts.resources
        manifest.dirty_units += int(any(unit.counts.fail.values()))
        for pid in POLICIES:
            manifest.expected_fail[pid] += unit.counts.fail[pid]
        for rtype, n in unit.counts.by_type.items():
            manifest.by_type[rtype] = manifest.by_type.get(rtype, 0) + n
        index += 1
    manifest.by_type = dict(sorted(manifest.by_type.items()))
    return manifest


def manifest_dict(m: Manifest, files: int, seed: int) -> dict[str, Any]:
    return {
        "generator": "benchmarks/generate_corpus.py", "files_requested": files, "seed": seed,
        "files": m.files, "bytes": m.bytes, "units": m.units, "file_kinds": m.file_kinds,
        "resources": {**m.resources, "total": sum(m.resources.values())},
        "terraform_providers": m.terraform_providers, "dirty_units": m.dirty_units,
        "expected_fail": m.expected_fail, "resource_types": m.by_type,
    }


def tree_digest(root: str) -> str:
    digest = hashlib.sha256()
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(directory, name)
            digest.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as fh:
                digest.update(fh.read())
    return digest.hexdigest()


def self_check(files: int, seed: int) -> int:
    """Generate twice, compare byte for byte, and parse every file with the plain parsers."""
    import yaml

    with tempfile.TemporaryDirectory(prefix="iacv-corpus-check-") as tmp:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        ma, mb = generate(files, seed, a), generate(files, seed, b)
        cmp = filecmp.dircmp(a, b)
        same = tree_digest(a) == tree_digest(b) and manifest_dict(ma, files, seed) == manifest_dict(mb, files, seed)
        print(f"determinism: {'identical' if same else 'DIFFERENT'} ({ma.files} files, sha256 {tree_digest(a)[:16]})")
        if cmp.diff_files:
            print(f"  differing files: {cmp.diff_files[:5]}")
        other = os.path.join(tmp, "c")
        generate(files, seed + 1, other)
        differs = tree_digest(a) != tree_digest(other)
        print(f"another seed gives another corpus: {differs}")

        class Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
            pass

        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        import hcl2

        bad = 0
        count = 0
        for directory, _, names in os.walk(a):
            for name in names:
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
                try:
                    if name.endswith(".json"):
                        json.loads(text)
                    elif name.endswith(".tf"):
                        hcl2.loads(text)
                    else:
                        yaml.load(text, Loader=Loader)  # noqa: S506 - safe loader subclass
                except Exception as exc:  # report every unparsable file
                    bad += 1
                    print(f"  parse error: {os.path.relpath(path, a)}: {str(exc).splitlines()[0][:200]}")
                count += 1
        print(f"parse check: {count - bad}/{count} files parse")
        shutil.rmtree(a, ignore_errors=True)
        return 0 if same and differs and bad == 0 and ma.files == files else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, required=True, help="number of files to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="output directory (created; must be empty or absent)")
    parser.add_argument("--manifest", help="write the expected counts (JSON) to this file")
    parser.add_argument("--self-check", action="store_true", help="generate twice, compare bytes, parse every file")
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    if args.self_check:
        return self_check(args.files, args.seed)
    if not args.out:
        parser.error("--out is required (or use --self-check)")
    if os.path.isdir(args.out) and os.listdir(args.out):
        parser.error(f"{args.out} is not empty: remove it first (the corpus must be exactly what the seed makes)")
    manifest = manifest_dict(generate(args.files, args.seed, args.out), args.files, args.seed)
    text = json.dumps(manifest, indent=2) + "\n"
    if args.manifest:
        with open(args.manifest, "w", encoding="utf-8") as fh:
            fh.write(text)
    summary = {k: manifest[k] for k in ("files", "bytes", "units", "resources", "expected_fail")}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
