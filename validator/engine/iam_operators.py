"""IAM-document operators: trust policies and identity policies, judged statement by statement."""

from __future__ import annotations

from typing import Any

from validator import iam
from validator.engine.base import Args, Operator, Violation, unresolved
from validator.model import Outcome, Unknown


def op_iam_cross_account_external_id(value: Any, args: Args) -> list[Violation]:
    """Trust to a principal in another account must require sts:ExternalId."""
    document = iam.parse_document(value)
    if isinstance(document, Unknown):
        return unresolved(args.label, document)
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



IAM_OPERATORS: dict[str, Operator] = {
    "iam_cross_account_external_id": op_iam_cross_account_external_id,
}
