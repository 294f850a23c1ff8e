"""What every operator shares: its arguments, its result, and the wording of unresolved values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from validator.model import Outcome, Path, Resource, Template, Unknown


@dataclass(frozen=True)
class Violation:
    outcome: Outcome  # FAIL or SKIP; ERROR for our own failure (a regular expression that ran out of time)
    message: str
    path: Path = ()  # relative to the field's own path


Memo = dict[int, tuple[Any, Any]]  # id(value) → (value, what was derived from it)


@dataclass(frozen=True)
class Args:
    """A check's arguments with params already substituted."""

    label: str  # the field as the user wrote it (MaxSessionDuration / max_session_duration)
    value: Any = None
    unit: str | None = None
    params: Mapping[str, Any] | None = None
    resource: Resource | None = None  # the resource being judged
    template: Template | None = None  # its template, for operators that follow relations
    memo: Memo | None = field(default=None, compare=False)  # see `derived`


Operator = Callable[[Any, Args], list[Violation]]


def derived(args: Args, value: Any, make: Callable[[Any], Any]) -> Any:
    """`make(value)`, made once for every policy judging the same resource (a parsed trust
    policy): `args.memo` is shared by them, keyed by id(value), each entry keeping its value alive."""
    if args.memo is None:
        return make(value)
    known = args.memo.get(id(value))
    if known is None or known[0] is not value:
        known = args.memo[id(value)] = (value, make(value))
    return known[1]


def unresolved(label: str, value: Any) -> list[Violation]:
    reason = value.reason if isinstance(value, Unknown) else "contains unresolved values"
    return [Violation(Outcome.SKIP, f"{label} could not be resolved ({reason})")]


def show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


