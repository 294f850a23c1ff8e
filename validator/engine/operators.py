"""The assertion vocabulary: one explicit table of pure operators.

Each operator takes the resolved value of a field (never absent: absence is decided by the caller)
and the check's arguments, and returns the violations it found. An empty list is a pass. A
violation with outcome SKIP means the value could not be resolved: never a failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from validator import iam
from validator.model import Outcome, Path, Resource, Template, Unknown, contains_unknown


@dataclass(frozen=True)
class Violation:
    outcome: Outcome  # FAIL or SKIP
    message: str
    path: Path = ()  # relative to the field's own path


@dataclass(frozen=True)
class Args:
    """A check's arguments with params already substituted."""

    label: str  # the field as the user wrote it (MaxSessionDuration / max_session_duration)
    value: Any = None
    unit: str | None = None
    params: Mapping[str, Any] | None = None
    resource: Resource | None = None  # the resource being judged
    template: Template | None = None  # its template, for operators that follow relations


Operator = Callable[[Any, Args], list[Violation]]


def _unresolved(label: str, value: Any) -> list[Violation]:
    reason = value.reason if isinstance(value, Unknown) else "contains unresolved values"
    return [Violation(Outcome.SKIP, f"{label} could not be resolved ({reason})")]


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def op_exists(value: Any, args: Args) -> list[Violation]:
    # A property set to an expression we cannot resolve is still set.
    if value is None or value == "" or value == [] or value == {}:
        return [Violation(Outcome.FAIL, f"{args.label} is empty")]
    return []


def op_absent(value: Any, args: Args) -> list[Violation]:
    if isinstance(value, Unknown):
        return _unresolved(args.label, value)
    if value is None:
        return []
    return [Violation(Outcome.FAIL, f"{args.label} is set")]


def op_equals(value: Any, args: Args) -> list[Violation]:
    if contains_unknown(value):
        return _unresolved(args.label, value)
    if _same(value, args.value):
        return []
    return [Violation(Outcome.FAIL, f"{args.label} is {_show(value)}, expected {_show(args.value)}")]


def _same(a: Any, b: Any) -> bool:
    """Equality across the representations templates use for one value: 'true' vs true, '3600' vs 3600."""
    if isinstance(a, bool) or isinstance(b, bool):
        return _as_bool(a) is not None and _as_bool(a) == _as_bool(b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def _as_bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None


def op_one_of(value: Any, args: Args) -> list[Violation]:
    if contains_unknown(value):
        return _unresolved(args.label, value)
    allowed = list(args.value or [])
    if any(_same(value, a) for a in allowed):
        return []
    return [Violation(Outcome.FAIL, f"{args.label} is {_show(value)}, expected one of {', '.join(map(_show, allowed))}")]


def op_matches(value: Any, args: Args) -> list[Violation]:
    if contains_unknown(value):
        return _unresolved(args.label, value)
    if isinstance(value, str) and re.search(str(args.value), value):
        return []
    return [Violation(Outcome.FAIL, f"{args.label} is {_show(value)}, which does not match /{args.value}/")]


_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.I)
_SHORT_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_duration(value: Any) -> int | None:
    """Seconds from 3600, "3600", "PT4H", "2h", "90m", "1h30m"; None when it is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    m = _ISO.match(text)
    if m and text.upper() not in ("P", "PT"):
        d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return d * 86400 + h * 3600 + mi * 60 + s
    total, pos = 0, 0
    for part in re.finditer(r"(\d+)\s*([a-zA-Z]*)", text):
        unit = part.group(2).lower() or None
        if part.start() != pos or unit not in _SHORT_UNITS:
            return None
        total += int(part.group(1)) * _SHORT_UNITS[unit]
        pos = part.end()
    return total if pos == len(text) and pos > 0 else None


def _measure(value: Any, unit: str | None) -> float | None:
    if unit == "duration":
        return parse_duration(value)
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _fmt(amount: float, unit: str | None) -> str:
    number = f"{amount:g}"
    return f"{number} s" if unit == "duration" else number


def _bound(value: Any, args: Args, worse: Callable[[float, float], bool], word: str) -> list[Violation]:
    if contains_unknown(value):
        return _unresolved(args.label, value)
    amount, limit = _measure(value, args.unit), _measure(args.value, args.unit)
    if limit is None:
        raise ValueError(f"limit {args.value!r} is not a valid {args.unit or 'number'}")
    if amount is None:
        return [Violation(Outcome.SKIP, f"{args.label} is {_show(value)}, which is not a {args.unit or 'number'}")]
    if worse(amount, limit):
        shown = _fmt(amount, args.unit)
        if args.unit == "duration" and not isinstance(value, int | float):
            shown = f"{value} ({shown})"
        return [Violation(Outcome.FAIL, f"{args.label} is {shown}, {word} {_fmt(limit, args.unit)}")]
    return []


def op_max(value: Any, args: Args) -> list[Violation]:
    return _bound(value, args, lambda a, b: a > b, "limit")


def op_min(value: Any, args: Args) -> list[Violation]:
    return _bound(value, args, lambda a, b: a < b, "minimum")


def op_iam_cross_account_external_id(value: Any, args: Args) -> list[Violation]:
    """Trust to a principal in another account must require sts:ExternalId."""
    document = iam.parse_document(value)
    if isinstance(document, Unknown):
        return _unresolved(args.label, document)
    if document is None:
        return [Violation(Outcome.SKIP, f"{args.label} is not a policy document")]
    trusted = {str(a) for a in (args.params or {}).get("trusted_accounts", [])}
    raw = document.get("Statement")
    if isinstance(raw, Unknown):  # e.g. Fn::If or a Terraform local: not a pass
        return [Violation(Outcome.SKIP, f"Statement could not be resolved ({raw.reason})", ("Statement",))]
    out: list[Violation] = [
        Violation(Outcome.SKIP, f"Statement {i} could not be resolved ({item.reason})", ("Statement", i))
        for i, item in enumerate(raw if isinstance(raw, list) else [])
        if isinstance(item, Unknown)
    ]
    for stmt in iam.statements(document, ()):
        allowed = stmt.allows_action("sts:AssumeRole")
        if allowed is False:
            continue
        for principal in stmt.principals("AWS"):
            if isinstance(principal, Unknown):
                out.append(Violation(Outcome.SKIP, f"Statement {stmt.index} principal could not be resolved ({principal.reason})", stmt.path))
                continue
            if isinstance(principal, int) and not isinstance(principal, bool):
                principal = f"{principal:012d}"  # an unquoted account id: YAML and JSON read it as a number
            if not isinstance(principal, str):
                continue
            account = iam.principal_account(principal)
            if account.is_self or account.id is None or account.id in trusted:
                continue
            if allowed is None:
                out.append(Violation(Outcome.SKIP, f"Statement {stmt.index} actions could not be resolved", stmt.path))
                continue
            external = iam.requiring_values(stmt, "sts:ExternalId")
            who = f"account {account.id}" + ("" if principal == account.id else f" ({principal})")
            if external is None:
                out.append(Violation(Outcome.FAIL, f"Statement {stmt.index} lets {who} assume the role without an sts:ExternalId condition", (*stmt.path, "Principal")))
            elif iam.is_wildcard_only(external):
                out.append(Violation(Outcome.FAIL, f"Statement {stmt.index} lets {who} assume the role with an sts:ExternalId condition that matches any value", (*stmt.path, "Condition")))
    return out


def op_forbidden(value: Any, args: Args) -> list[Violation]:
    """The matched resource should not exist at all (IAM access keys, console passwords)."""
    return [Violation(Outcome.FAIL, f"{args.resource.type if args.resource else 'this resource'} is not allowed")]


OPERATORS: dict[str, Operator] = {
    "exists": op_exists,
    "absent": op_absent,
    "equals": op_equals,
    "one_of": op_one_of,
    "matches": op_matches,
    "max": op_max,
    "min": op_min,
    "forbidden": op_forbidden,
    "iam_cross_account_external_id": op_iam_cross_account_external_id,
}

# What a check concludes when its field is not there at all, unless the policy says otherwise:
# `exists` fails; every other check has nothing to judge and passes.
ABSENT_DEFAULT: dict[str, Outcome] = {"exists": Outcome.FAIL}
