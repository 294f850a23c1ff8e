"""`data "aws_iam_policy_document"` → the IAM JSON document the AWS provider renders as `.json`.

Input is the data source's arguments as the loaders see them: nested blocks are lists of objects
(`statement`, `principals`, `condition`), from the HCL evaluator or from plan JSON values alike.
Output is the document as a compact JSON string when fully known, or a mapping with Unknown leaves
when only part of it is known, so IAM checks still judge the known statements (as jsonencode does).

Rendering follows the provider: `Effect` defaults to Allow; a one-element `Action`/`Resource`/
principal/condition value list becomes a string; principals of one type are merged
(`{"AWS": [...], "Service": [...], "Federated": [...]}`), `type = "*"` with `identifiers = ["*"]` is
`"Principal": "*"`; conditions become `{test: {variable: values}}`. `source_policy_documents` come
first, this document's statements replace source statements with the same Sid, and
`override_policy_documents` replace statements with the same Sid (or are appended).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from validator.model import Unknown, contains_unknown

_LISTS = (
    ("actions", "Action"),
    ("not_actions", "NotAction"),
    ("resources", "Resource"),
    ("not_resources", "NotResource"),
)


def render(arguments: Mapping[str, Any]) -> Any:
    """The policy document (JSON string, or mapping with Unknown leaves), or Unknown."""
    if isinstance(arguments, Unknown):
        return arguments
    own = arguments.get("statement")
    if isinstance(own, Unknown):
        return Unknown(f"statements of the policy document are not known ({own.reason})")
    statements: list[Any] = []
    for source in _documents(arguments, "source_policy_documents", "source_json"):
        if isinstance(source, Unknown):
            statements.append(source)  # its statements may be replaced by Sid, but stay unknown
        else:
            _merge(statements, source)
    _merge(statements, [_statement(s) for s in own or []])
    for override in _documents(arguments, "override_policy_documents", "override_json"):
        if isinstance(override, Unknown):
            return Unknown(f"an override policy document is not known ({override.reason})")
        _merge(statements, override)
    document: dict[str, Any] = {"Version": _scalar(arguments.get("version")) or "2012-10-17"}
    policy_id = arguments.get("policy_id")
    if policy_id not in (None, ""):
        document["Id"] = policy_id
    document["Statement"] = statements
    if contains_unknown(document):
        return document
    return json.dumps(document, separators=(",", ":"))


def _scalar(value: Any) -> Any:
    return value if not isinstance(value, list) else None


def _documents(arguments: Mapping[str, Any], plural: str, legacy: str) -> list[Any]:
    """Statements of each source/override document (a list), or Unknown per unresolved document."""
    raw: list[Any] = []
    value = arguments.get(plural)
    if isinstance(value, Unknown):
        raw.append(value)
    elif isinstance(value, list):
        raw.extend(value)
    if arguments.get(legacy) not in (None, ""):
        raw.append(arguments[legacy])
    out: list[Any] = []
    for doc in raw:
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except ValueError:
                out.append(Unknown("a source policy document is not valid JSON"))
                continue
        if isinstance(doc, Unknown):
            out.append(doc)
        elif isinstance(doc, Mapping):
            stmts = doc.get("Statement", [])
            if isinstance(stmts, Unknown):
                out.append(stmts)
            else:
                out.append(list(stmts) if isinstance(stmts, list) else [stmts])
        else:
            out.append(Unknown("a source policy document is not a document"))
    return out


def _merge(statements: list[Any], new: list[Any]) -> None:
    for stmt in new:
        sid = stmt.get("Sid") if isinstance(stmt, Mapping) else None
        if isinstance(sid, str) and sid:
            for i, old in enumerate(statements):
                if isinstance(old, Mapping) and old.get("Sid") == sid:
                    statements[i] = stmt
                    break
            else:
                statements.append(stmt)
        else:
            statements.append(stmt)


def _statement(block: Any) -> Any:
    if not isinstance(block, Mapping):
        return block if isinstance(block, Unknown) else Unknown("statement block")
    out: dict[str, Any] = {}
    sid = block.get("sid")
    if sid not in (None, ""):
        out["Sid"] = sid
    effect = block.get("effect")
    out["Effect"] = "Allow" if effect in (None, "") else effect
    for name, key in _LISTS:
        value = _values(block.get(name))
        if value is not None:
            out[key] = value
    for name, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        value = _principals(block.get(name))
        if value is not None:
            out[key] = value
    condition = _conditions(block.get("condition"))
    if condition is not None:
        out["Condition"] = condition
    return out


def _values(value: Any) -> Any:
    """A set of strings as the provider writes it: None when empty, a string when one, else a list."""
    if value is None or isinstance(value, Unknown):
        return value
    items = value if isinstance(value, list) else [value]
    unique: list[Any] = []
    for item in items:
        if item not in unique:
            unique.append(item)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else unique


def _principals(blocks: Any) -> Any:
    if blocks is None:
        return None
    if isinstance(blocks, Unknown):
        return blocks
    merged: dict[str, list[Any]] = {}
    for block in blocks if isinstance(blocks, list) else [blocks]:
        if not isinstance(block, Mapping):
            return block if isinstance(block, Unknown) else Unknown("principals block")
        kind, identifiers = block.get("type"), block.get("identifiers")
        if isinstance(kind, Unknown):
            return kind
        if isinstance(identifiers, Unknown):
            return identifiers
        ids = identifiers if isinstance(identifiers, list) else [identifiers]
        bucket = merged.setdefault(str(kind), [])
        bucket.extend(i for i in ids if i not in bucket)
    if not merged:
        return None
    if list(merged) == ["*"] and merged["*"] == ["*"]:
        return "*"
    return {k: (v[0] if len(v) == 1 else v) for k, v in merged.items()}


def _conditions(blocks: Any) -> Any:
    if blocks is None:
        return None
    if isinstance(blocks, Unknown):
        return blocks
    merged: dict[str, dict[str, list[Any]]] = {}
    for block in blocks if isinstance(blocks, list) else [blocks]:
        if not isinstance(block, Mapping):
            return block if isinstance(block, Unknown) else Unknown("condition block")
        test, variable, values = block.get("test"), block.get("variable"), block.get("values")
        for part in (test, variable):
            if isinstance(part, Unknown):
                return part
        by_variable: dict[str, Any] = merged.setdefault(str(test), {})
        if isinstance(values, Unknown):
            by_variable[str(variable)] = values
            continue
        if isinstance(by_variable.get(str(variable)), Unknown):
            continue
        bucket = by_variable.setdefault(str(variable), [])
        bucket.extend(v for v in (values if isinstance(values, list) else [values]) if v not in bucket)
    if not merged:
        return None
    return {
        test: {var: (vals[0] if isinstance(vals, list) and len(vals) == 1 else vals) for var, vals in variables.items()}
        for test, variables in merged.items()
    }
