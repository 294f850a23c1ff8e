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


@dataclass(frozen=True)
class Args:
    """A check's arguments with params already substituted."""

    label: str  # the field as the user wrote it (MaxSessionDuration / max_session_duration)
    value: Any = None
    unit: str | None = None
    params: Mapping[str, Any] | None = None
    resource: Resource | None = None  # the resource being judged
    template: Template | None = None  # its template, for operators that follow relations
    # Shared by every policy judging the same resource: what operators derive from one value
    # (a parsed trust policy) is derived once. Keyed by id(value); an entry keeps its value alive.
    memo: dict[int, tuple[Any, Any]] | None = field(default=None, compare=False)


Operator = Callable[[Any, Args], list[Violation]]


def unresolved(label: str, value: Any) -> list[Violation]:
    reason = value.reason if isinstance(value, Unknown) else "contains unresolved values"
    return [Violation(Outcome.SKIP, f"{label} could not be resolved ({reason})")]


def show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


