"""The assertion vocabulary: one explicit table of pure operators.

Each operator takes the resolved value of a field (never absent: absence is decided by the caller)
and the check's arguments, and returns the violations it found. An empty list is a pass. A
violation with outcome SKIP means the value could not be resolved: never a failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from validator.engine.base import Args, Operator, Violation, show, unresolved
from validator.engine.credential_operators import CREDENTIAL_OPERATORS
from validator.engine.iam_operators import IAM_OPERATORS
from validator.model import Outcome, Reference, Unknown, contains_unknown


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


# Regular expressions come from policy files, values from templates: a catastrophic pattern such as
# `(a+)+$` on a long value would hang the run with the stdlib `re`, which has no timeout. The
# `regex` module stops a search after REGEX_TIMEOUT seconds; the check then is an ERROR finding
# naming the policy, and the run goes on.
REGEX_TIMEOUT = 1.0


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """A policy's regular expression (Python `re` syntax; raises regex.error when invalid)."""
    import regex  # on first use: 20 ms of start-up that a run without a regular expression does not pay

    return regex.compile(pattern)


class RegexTimeout(Exception):  # noqa: N818 - reads as what happened
    def __init__(self, pattern: str, label: str, length: int) -> None:
        super().__init__(
            f"regular expression /{pattern}/ took longer than {REGEX_TIMEOUT:g} s on {label} ({length} characters): not decided"
        )


def search(pattern: str, text: str, label: str) -> bool:
    """`pattern` found in `text`, within REGEX_TIMEOUT; RegexTimeout when the search runs out of time."""
    try:
        return compile_pattern(pattern).search(text, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        raise RegexTimeout(pattern, label, len(text)) from None


def op_matches(value: Any, args: Args) -> list[Violation]:
    if contains_unknown(value):
        return unresolved(args.label, value)
    try:
        if isinstance(value, str) and search(str(args.value), value, args.label):
            return []
    except RegexTimeout as exc:
        return [Violation(Outcome.ERROR, str(exc))]
    return [Violation(Outcome.FAIL, f"{args.label} is {show(value)}, which does not match /{args.value}/")]


_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.I)
# Short forms, Go's time.ParseDuration included (Terraform provider durations: "1h", "2h45m", "1.5h", "300ms"):
# seconds per unit as (numerator, denominator), exact; `fractions` is imported only to parse one.
_SHORT_UNITS: dict[str | None, tuple[int, int]] = {
    None: (1, 1),
    "s": (1, 1),
    "sec": (1, 1),
    "m": (60, 1),
    "min": (60, 1),
    "h": (3600, 1),
    "hr": (3600, 1),
    "d": (86400, 1),
    "ms": (1, 1000),
    "us": (1, 10**6),
    "\u00b5s": (1, 10**6),  # micro sign
    "\u03bcs": (1, 10**6),  # Greek mu
    "ns": (1, 10**9),
}
_SHORT_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z\u00b5\u03bc]*)")


def parse_duration(value: Any) -> int | float | None:
    """Seconds from 3600, "3600", "PT4H", "2h", "90m", "1h30m", "1.5h", "300ms"; None when it is not a duration.

    Whole seconds come back as an int; a fraction of a second ("1500ms") as a float.
    """
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
    from fractions import Fraction

    total, pos = Fraction(0), 0
    for part in _SHORT_PART.finditer(text):
        unit = part.group(2).lower() or None
        if part.start() != pos or unit not in _SHORT_UNITS:
            return None
        total += Fraction(part.group(1)) * Fraction(*_SHORT_UNITS[unit])
        pos = part.end()
    if pos != len(text) or pos == 0:
        return None
    return int(total) if total.denominator == 1 else float(total)


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


def _holds_nothing(value: Any) -> bool:
    if isinstance(value, Unknown):
        return False  # set to something we cannot resolve: still set
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping):
        return all(_holds_nothing(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_holds_nothing(v) for v in value)
    return False


def op_not_empty(value: Any, args: Args) -> list[Violation]:
    """Like `exists`, but looks inside: `""`, `[{}]` and `{"name": ""}` hold nothing (a Terraform block
    whose arguments are all empty, an object whose properties are all blank)."""
    if _holds_nothing(value):
        return [Violation(Outcome.FAIL, f"{args.label} is empty")]
    return []


def op_not_literal(value: Any, args: Args) -> list[Violation]:
    """The value is not written into the template (for secrets: passwords, tokens).

    Passes for a reference to another resource or data source (its value is computed at deploy
    time), and for strings matching one of the regular expressions in `value` (dynamic references
    such as `{{resolve:secretsmanager:...}}`). Any other unresolved value (a parameter or variable
    without a default) is unresolved, never a failure. An empty string holds no secret. The
    message never shows the value.
    """
    if isinstance(value, Reference):
        return []
    if contains_unknown(value):
        return unresolved(args.label, value)
    patterns = args.value if isinstance(args.value, list) else [] if args.value is None else [args.value]
    try:
        if isinstance(value, str) and (not value or any(search(str(p), value, args.label) for p in patterns)):
            return []
    except RegexTimeout as exc:
        return [Violation(Outcome.ERROR, str(exc))]
    return [Violation(Outcome.FAIL, f"{args.label} is a literal value written in the template")]


OPERATORS: dict[str, Operator] = {
    "exists": op_exists,
    "absent": op_absent,
    "equals": op_equals,
    "one_of": op_one_of,
    "matches": op_matches,
    "max": op_max,
    "min": op_min,
    "forbidden": op_forbidden,
    "not_empty": op_not_empty,
    "not_literal": op_not_literal,
    **IAM_OPERATORS,
    **CREDENTIAL_OPERATORS,
}

# What a check concludes when its field is not there at all, unless the policy says otherwise:
# `exists` and `not_empty` fail; every other check has nothing to judge and passes.
ABSENT_DEFAULT: dict[str, Outcome] = {"exists": Outcome.FAIL, "not_empty": Outcome.FAIL}
