"""Operators that look for credentials in values and follow references between resources."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from validator.engine.base import Args, Operator, Violation
from validator.model import Outcome, Path, Reference, Resource, Unknown, path_str
from validator.secrets import find_credentials

CREDENTIAL_NAMES = {
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
    "accesskeyid": "accessKeyId",  # AWS::CloudFormation::Authentication
    "secretkey": "secretKey",
}
_NAME_KEYS = ("Name", "name")
_VALUE_KEYS = ("Value", "value")
# CodeBuild-style variable types whose Value is a reference into a secret store, not the secret.
_REFERENCE_TYPES = {"SECRETS_MANAGER", "PARAMETER_STORE"}
_DYNAMIC_REFERENCE = re.compile(r"^\{\{resolve:(secretsmanager|ssm-secure|ssm):")
_SCRIPT_ASSIGNMENT = re.compile(
    r"\b(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws_access_key_id|aws_secret_access_key|aws_session_token)"
    r"\s*[=:]\s*[\"']?([^\s\"'`;]*)"
)
# `aws configure set [--profile p] [p.]aws_access_key_id VALUE`: the CLI's own way to store a key.
_CONFIGURE_SET = re.compile(
    r"\baws\s+configure\s+set\s+(?:--profile\s+\S+\s+)?(?:[\w-]+\.)?"
    r"(aws_access_key_id|aws_secret_access_key|aws_session_token)\s+[\"']?([^\s\"'`;]*)"
)
_USER_DATA_KEYS = {"userdata", "user_data", "user_data_base64"}
_MAX_DEPTH = 64


def _walk(value: Any, path: Path = (), key: str = "", depth: int = 0) -> Iterator[tuple[Path, str, Any]]:
    """(path, the key it is stored under, value) for every leaf, in document order; JSON strings
    are opened. (A stack, not recursion: every resource's every leaf passes through here.)"""
    stack: list[tuple[Any, Path, str, int]] = [(value, path, key, depth)]
    while stack:
        value, path, key, depth = stack.pop()
        if depth > _MAX_DEPTH:
            continue
        if isinstance(value, Mapping):
            stack.extend((v, (*path, str(k)), str(k), depth + 1) for k, v in reversed(list(value.items())))
        elif isinstance(value, list | tuple):
            stack.extend((v, (*path, i), key, depth + 1) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, str) and value.lstrip()[:1] in ("{", "[") and len(value) < 1_000_000:
            try:
                decoded = json.loads(value)
            except ValueError:
                yield path, key, value
            else:
                stack.append((decoded, path, key, depth + 1))
        else:
            yield path, key, value


def _dump(value: Any, opaque: Any = None) -> str | None:
    """The value as JSON text, encoded in C: the quick first look of the credential walks, which
    most resources pass without being walked in Python. `opaque` sees each non-JSON leaf (Unknown,
    Reference...). None when the value cannot be encoded (then the full walk decides)."""
    try:
        return json.dumps(value, ensure_ascii=False, check_circular=False, default=opaque or _nothing)
    except (TypeError, ValueError, RecursionError):
        return None


def _nothing(_: Any) -> None:
    return None


# Anything `find_credentials` could report holds an access key id (one of these prefixes) or a
# run of 40 secret-key characters. The run is found with bytes.translate (every other byte to a
# space) and split, in C: a regular expression for it tries every position, about twice as slow.
_KEY_ID_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA")
_SECRET_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")
_RUNS_ONLY = bytes(b if b in _SECRET_ALPHABET else 0x20 for b in range(256))


def _may_hold_credentials(value: Any) -> bool:
    """False only when `op_no_hardcoded_credentials` surely finds nothing in `value`. Text the full
    walk opens (JSON strings, user data) is judged raw, unless escapes or base64 could hide a key in
    it: a backslash anywhere, or "user" (user data) anywhere, and the full walk decides."""
    text = _dump(value)
    if text is None or "\\\\" in text or "user" in text.lower() or any(p in text for p in _KEY_ID_PREFIXES):
        return True
    runs = text.encode("utf-8", "surrogatepass").translate(_RUNS_ONLY).split()
    return max(map(len, runs), default=0) >= 40


def _decoded_user_data(key: str, value: str) -> str | None:
    if key.lower() not in _USER_DATA_KEYS or not re.fullmatch(r"[A-Za-z0-9+/=\s]{16,}", value):
        return None
    try:
        return base64.b64decode(value, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _where(args: Args, path: Path) -> str:
    """The field's label followed by the path inside it: Environment.Variables.AWS_ACCESS_KEY_ID."""
    inner = path_str(path)
    if not inner:
        return args.label
    return f"{args.label}{inner}" if inner.startswith("[") else f"{args.label}.{inner}"


def op_no_hardcoded_credentials(value: Any, args: Args) -> list[Violation]:
    """No AWS access key id or secret access key literal anywhere in the value."""
    out: list[Violation] = []
    if not _may_hold_credentials(value):
        return out
    for path, key, leaf in _walk(value):
        if not isinstance(leaf, str):
            continue
        texts = [leaf]
        decoded = _decoded_user_data(key, leaf)
        if decoded:
            texts.append(decoded)
        # The name a value is stored under says what it is: a parameter or variable name counts too.
        context = f"{args.resource.id if args.resource else ''} {key}"
        for text in texts:
            for credential in find_credentials(text, context):
                out.append(Violation(Outcome.FAIL, f"{credential.describe()} is hard-coded in {_where(args, path)}", path))
    return out


def _is_literal(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != "" and not _DYNAMIC_REFERENCE.match(value)


def _named_pairs(value: Any, path: Path = ()) -> Iterator[tuple[Path, str, Any]]:
    """(path, variable name, value) in maps ({NAME: value}) and Name/Value lists, recursively."""
    if isinstance(value, Mapping):
        name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
        if name is not None and any(k in value for k in _VALUE_KEYS):
            kind = value.get("Type", value.get("type"))
            if not (isinstance(kind, str) and kind.upper() in _REFERENCE_TYPES):
                yield path, name, next(value[k] for k in _VALUE_KEYS if k in value)
            return
        for k, v in value.items():
            if isinstance(v, Mapping | list) or (isinstance(v, str) and v.lstrip()[:1] in ("{", "[")):
                yield from _named_pairs(_open(v), (*path, str(k)))
            else:
                yield (*path, str(k)), str(k), v
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _named_pairs(_open(item), (*path, i))


def _open(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def op_no_credentials_in_environment(value: Any, args: Args) -> list[Violation]:
    """AWS credential variables (by name) with literal values, or key-shaped values, in a workload's environment."""
    if isinstance(value, Unknown):
        return []
    out: list[Violation] = []
    if isinstance(value, str) and value.lstrip()[:1] not in ("{", "["):  # a script: user data
        text = _decoded_user_data(args.label.split(".")[-1], value) or value
        for m in (*_SCRIPT_ASSIGNMENT.finditer(text), *_CONFIGURE_SET.finditer(text)):
            if m.group(2) and not m.group(2).startswith("$"):
                out.append(Violation(Outcome.FAIL, f"{m.group(1)} is set to a literal value in {args.label}"))
        return out
    for path, name, item in _named_pairs(_open(value)):
        canonical = CREDENTIAL_NAMES.get(name.lower())
        if canonical and _is_literal(item):
            out.append(Violation(Outcome.FAIL, f"{canonical} is set to a literal value in {_where(args, path)}", path))
        elif not canonical and isinstance(item, str):
            for credential in find_credentials(item, name):
                out.append(Violation(Outcome.FAIL, f"{credential.describe()} is set in {_where(args, path)} ({name})", path))
    return out


def _base_address(resource_id: str) -> str:
    """`aws_x.y["k"]` / `aws_x.y[0]` → `aws_x.y`: a reference names the resource, not an instance."""
    return re.sub(r"\[[^\]]*\]$", "", resource_id)


def _targets(args: Args) -> dict[str, Resource]:
    return {_base_address(r.id): r for r in (args.template.resources if args.template else ())}


def _names(ref: str, address: str, resource: Resource) -> bool:
    """`ref` names the resource: its address, its `Name`/`name`, or an ARN ending in that name
    (`arn:...:secret:orders/db`, with or without the `-AbCdEf` suffix Secrets Manager appends)."""
    names = {n for n in (resource.properties.get("Name"), resource.properties.get("name")) if isinstance(n, str) and n}
    if ref == address or ref in names:
        return True
    return ref.startswith("arn:") and any(re.search(rf":{re.escape(n)}(?:-[A-Za-z0-9]{{6}})?$", ref) for n in names)


def op_referenced_by(value: Any, args: Args) -> list[Violation]:
    """Some resource of the given types refers to this one in the given field (secret ← rotation)."""
    spec = args.value or {}
    if args.resource is None or args.template is None:
        return []
    fmt = "terraform" if args.resource.format.value.startswith("terraform") else "cloudformation"
    relation = spec.get(fmt, spec)
    types, field = set(relation.get("types", [])), str(relation.get("field", ""))
    me = _base_address(args.resource.id)
    unresolved = False
    for other in args.template.resources:
        if other.type not in types:
            continue
        ref = other.properties.get(field)
        if isinstance(ref, Reference) and ref.target in (me, args.resource.id):  # the resource, or this instance of it
            return []
        if isinstance(ref, Unknown) and not isinstance(ref, Reference):
            unresolved = True
        if isinstance(ref, str) and _names(ref, me, args.resource):
            return []
    if unresolved:
        return [Violation(Outcome.SKIP, f"a {'/'.join(sorted(types))} exists whose {field} could not be resolved")]
    return [Violation(Outcome.FAIL, str(relation.get("message", f"no {'/'.join(sorted(types))} refers to {args.resource.id}")))]


def op_no_secret_attribute_reference(value: Any, args: Args) -> list[Violation]:
    """No reference to a secret attribute of a credential resource (AccessKey.SecretAccessKey, .secret)."""
    spec = args.value or {}
    attributes = set(spec.get("attributes", []))
    target_types = set(spec.get("types", []))
    allowed = set(spec.get("allowed_types", []))
    if args.resource is not None and args.resource.type in allowed:
        return []
    # References are never inside JSON strings: the quick look sees every one the full walk would.
    references: list[Any] = []
    if _dump(value, references.append) is not None and not any(
        isinstance(r, Reference) and r.attribute in attributes for r in references
    ):
        return []
    candidates = [(p, leaf) for p, _key, leaf in _walk(value) if isinstance(leaf, Reference) and leaf.attribute in attributes]
    if not candidates:
        return []
    resources = _targets(args)  # built only when needed: this operator runs on every resource
    out: list[Violation] = []
    for path, leaf in candidates:
        target = resources.get(leaf.target)
        if target is None or target.type in target_types:
            out.append(Violation(Outcome.FAIL, f"{_where(args, path)} exposes {leaf.target}.{leaf.attribute}, the secret of a long-term access key", path))
    return out


CREDENTIAL_OPERATORS: dict[str, Operator] = {
    "no_hardcoded_credentials": op_no_hardcoded_credentials,
    "no_credentials_in_environment": op_no_credentials_in_environment,
    "referenced_by": op_referenced_by,
    "no_secret_attribute_reference": op_no_secret_attribute_reference,
}
