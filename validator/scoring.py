"""One severity-weight table, one documented formula (README "Scoring"), and the gate decision.

score = max(0, 100 - sum over failing policies of min(weight × failing resources, 2 × weight))

Passing resources never raise the score, so one critical or high failure cannot be diluted by
hundreds of compliant resources; the cap keeps one noisy policy from hiding every other signal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from validator.model import Finding, Outcome, Score, Severity

WEIGHTS: dict[Severity, int] = {Severity.CRITICAL: 40, Severity.HIGH: 20, Severity.MEDIUM: 8, Severity.LOW: 2}
CAP_MULTIPLE = 2
GRADES: tuple[tuple[int, str], ...] = ((90, "A"), (80, "B"), (70, "C"), (60, "D"), (0, "F"))
FORMULA = "score = 100 - Σ per failing policy min(weight × resources, 2 × weight); weights critical 40, high 20, medium 8, low 2"


def grade(value: int) -> str:
    return next(letter for floor, letter in GRADES if value >= floor)


def score(findings: Iterable[Finding]) -> Score:
    failing = [f for f in findings if f.outcome is Outcome.FAIL]
    resources: dict[str, set[tuple[str, str]]] = defaultdict(set)
    severity: dict[str, Severity] = {}
    for f in failing:
        resources[f.policy_id].add((f.location.file, f.resource_id))
        severity[f.policy_id] = f.severity
    deduction = sum(
        min(WEIGHTS[severity[p]] * len(r), CAP_MULTIPLE * WEIGHTS[severity[p]]) for p, r in resources.items()
    )
    value = max(0, 100 - deduction)
    counts = Counter(f.severity.value for f in failing)
    return Score(value, grade(value), {s.value: counts.get(s.value, 0) for s in Severity})


def gate(findings: Iterable[Finding], total: Score, fail_on: Severity | None, fail_under: int | None) -> tuple[bool, tuple[str, ...]]:
    """(passed, reasons it failed)."""
    reasons: list[str] = []
    if fail_on is not None:
        hits = [f for f in findings if f.outcome is Outcome.FAIL and f.severity.rank >= fail_on.rank]
        if hits:
            reasons.append(f"{len(hits)} finding(s) at or above {fail_on.value}")
    if fail_under is not None and total.value < fail_under:
        reasons.append(f"score {total.value} is under {fail_under}")
    return not reasons, tuple(reasons)
