"""The assertion vocabulary: one explicit table of pure operators.

Each operator takes the resolved value of a field (never absent: absence is decided by the caller)
and the check's arguments, and returns the violations it found. An empty list is a pass. A
violation with outcome SKIP means the value could not be resolved: never a failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from validator.engine.base import Args, Operator, Violation, show, unresolved
from validator.engine.iam_operators import IAM_OPERATORS
from validator.model import Outcome, Unknown, contains_unknown


def op_exists(value: Any, args: Args) -> list[Violation]:
    # A property set to an expression we cannot resolve is still set.
    if value is None or value == "" or value == [] or value == {}:
        return [Violation(Outcome.FAIL, f"{args.label} is empty")]
    return []


def op_absent(value: Any, args: Args) -> list[Violation]:
    if isinstance(value, Unknown):
        return unresolved(args.label, value)
    if value is None:
        return []
    return [Violation(Outcome.FAIL, f"{args.label} is set")]


def op_equals(value: Any, args: Args) -> list[Violation]:
    if contains_unknown(value):
        return unresolved(args.label, value)
    if _same(value, args.value):
        return []
    return [Violation(Outcome.FAIL, f"{args.label} is {show(value)}, expected {show(args.value)}")]


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
        return unresolved(args.label, value)
    allowed = list(args.value or [])
    if any(_same(value, a) for a in allowed):
        return []
    return [Violation(Outcome.FAIL, f"{args.label} is {show(value)}, expected one of {', '.join(map(show, allowed))}")]


def op_matches(value: Any, args: Args) -> list[Violation]:
    if contains_unknown(value):
        return unresolved(args.label, value)
    if isinstance(value, str) and re.search(str(args.value), value):
        return []
    return [Violation(Outcome.FAIL, f"{args.label} is {show(value)}, which does not match /{args.value}/")]


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
        return unresolved(args.label, value)
    amount, limit = _measure(value, args.unit), _measure(args.value, args.unit)
    if limit is None:
        raise ValueError(f"limit {args.value!r} is not a valid {args.unit or 'number'}")
    if amount is None:
        return [Violation(Outcome.SKIP, f"{args.label} is {show(value)}, which is not a {args.unit or 'number'}")]
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
    **IAM_OPERATORS,
}

# What a check concludes when its field is not there at all, unless the policy says otherwise:
# `exists` fails; every other check has nothing to judge and passes.
ABSENT_DEFAULT: dict[str, Outcome] = {"exists": Outcome.FAIL}
