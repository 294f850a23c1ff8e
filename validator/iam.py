"""IAM policy documents: statements, principals, accounts and conditions (ARNs parsed by policyuniverse)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from validator.model import SELF_ACCOUNT, Path, Unknown

_ACCOUNT_ID = re.compile(r"^\d{12}$")
# Symbolic pseudo values that may stand inside an ARN; they never name another account.
_SYMBOLIC = {"${AWS::Partition}": "aws", "${AWS::Region}": "us-east-1", "${AWS::URLSuffix}": "amazonaws.com"}


@dataclass(frozen=True)
class Statement:
    index: int
    body: Mapping[str, Any]
    path: Path  # path of the statement inside the resource's properties

    @property
    def effect(self) -> str:
        effect = self.body.get("Effect")
        return effect if isinstance(effect, str) else ""

    def principals(self, kind: str) -> list[Any]:
        """Values of Principal[kind]; `"Principal": "*"` counts as `{"AWS": "*"}`."""
        principal = self.body.get("Principal")
        if principal == "*" and kind == "AWS":
            return ["*"]
        if isinstance(principal, Unknown):
            return [principal]
        if not isinstance(principal, Mapping):
            return []
        value = principal.get(kind)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def allows_action(self, action: str) -> bool | None:
        """True/False, or None when the action list cannot be resolved."""
        if self.effect != "Allow":
            return False
        if "NotAction" in self.body:
            excluded = _as_list(self.body["NotAction"])
            if any(isinstance(a, Unknown) for a in excluded):
                return None
            return not any(_action_matches(str(a), action) for a in excluded)
        actions = _as_list(self.body.get("Action"))
        if any(isinstance(a, Unknown) for a in actions) and not any(
            _action_matches(str(a), action) for a in actions if isinstance(a, str)
        ):
            return None
        return any(_action_matches(a, action) for a in actions if isinstance(a, str))

    def condition_entries(self) -> Iterator[tuple[str, str, Any]]:
        """(operator, key, values) for each condition, keys lower-cased."""
        condition = self.body.get("Condition")
        if not isinstance(condition, Mapping):
            return
        for operator, block in condition.items():
            if not isinstance(block, Mapping):
                continue
            for key, values in block.items():
                yield str(operator), str(key).lower(), values


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatchcase(action.lower(), pattern.lower())


def parse_document(value: Any) -> Mapping[str, Any] | Unknown | None:
    """A policy document from a mapping or a JSON string; None when it is not a document at all."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, Mapping) else None


def statements(document: Mapping[str, Any], base: Path) -> list[Statement]:
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        return [Statement(0, raw, (*base, "Statement"))]
    if isinstance(raw, list):
        return [Statement(i, s, (*base, "Statement", i)) for i, s in enumerate(raw) if isinstance(s, Mapping)]
    return []


@dataclass(frozen=True)
class Account:
    """Which account a principal belongs to: `self`, an account id, or None (service, `*`, not an ARN)."""

    id: str | None
    is_self: bool = False


def principal_account(principal: str) -> Account:
    from policyuniverse.arn import ARN

    if SELF_ACCOUNT in principal:
        return Account(None, is_self=True)
    if _ACCOUNT_ID.match(principal):
        return Account(principal)
    text = principal
    for token, stand_in in _SYMBOLIC.items():
        text = text.replace(token, stand_in)
    arn = ARN(text)
    if arn.error or arn.service or not arn.account_number:
        return Account(None)
    return Account(str(arn.account_number))


# Condition operators that *require* a key to match. `...IfExists` and `ForAllValues:` pass when the key
# is absent, and negated operators admit everything else, so none of them narrows who may assume the role.
_REQUIRING = re.compile(r"^(ForAnyValue:)?(StringEquals|StringLike|StringEqualsIgnoreCase)$", re.I)


def requiring_values(stmt: Statement, key: str) -> list[Any] | None:
    """Values a condition requires for `key`, or None when no requiring condition names it."""
    found: list[Any] | None = None
    for operator, k, values in stmt.condition_entries():
        if k == key.lower() and _REQUIRING.match(operator):
            found = (found or []) + _as_list(values)
    return found


def is_wildcard_only(values: list[Any]) -> bool:
    return bool(values) and all(isinstance(v, str) and v.strip("*?") == "" for v in values)
