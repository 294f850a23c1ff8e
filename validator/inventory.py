"""The credential inventory (SEC02-BP02 "identify and inventory long-term credentials").

Every long-term credential a template creates or embeds, and every way in to a role: who may
assume it, from which account, with or without an external id, for how long. Pure: templates and
the findings already computed → entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from validator import iam
from validator.engine.evaluate import resolve_field
from validator.model import Finding, InventoryEntry, Location, Outcome, Resource, Template, Unknown

ROLE_TYPES = {"AWS::IAM::Role": ("AssumeRolePolicyDocument", "MaxSessionDuration"), "aws_iam_role": ("assume_role_policy", "max_session_duration")}
_CREDENTIAL_TYPES = {
    "AWS::IAM::User": "iam-user",
    "aws_iam_user": "iam-user",
    "AWS::IAM::AccessKey": "access-key",
    "aws_iam_access_key": "access-key",
    "aws_iam_user_login_profile": "login-profile",
}
# Findings that are themselves credentials to inventory.
_FINDING_KINDS = {"KEYS-004": "hard-coded-key", "SECRETS-002": "db-password-literal", "SECRETS-001": "secret-without-rotation"}
DEFAULT_SESSION = 3600


def build(templates: Iterable[Template], findings: Iterable[Finding]) -> list[InventoryEntry]:
    entries: list[InventoryEntry] = []
    for template in templates:
        for resource in template.resources:
            entries.extend(_credentials(resource))
            if resource.type in ROLE_TYPES:
                entries.extend(_role_ways_in(resource))
    for f in findings:
        kind = _FINDING_KINDS.get(f.policy_id)
        if kind and f.outcome is Outcome.FAIL:
            entries.append(InventoryEntry(kind, f.resource_id, f.resource_type, f.location, f.message))
    return sorted(set(entries), key=lambda e: e.sort_key)


def _credentials(resource: Resource) -> list[InventoryEntry]:
    out: list[InventoryEntry] = []
    kind = _CREDENTIAL_TYPES.get(resource.type)
    if kind:
        out.append(InventoryEntry(kind, resource.id, resource.type, resource.location, _credential_detail(kind, resource)))
    if resource.type == "AWS::IAM::User" and resource.properties.get("LoginProfile") is not None:
        out.append(InventoryEntry("login-profile", resource.id, resource.type, Location(resource.location.file, resource.line_of(("LoginProfile",))), "console password"))
    if resource.type.startswith("provider.aws"):
        keys = [k for k in ("access_key", "secret_key", "token") if resource.properties.get(k) is not None]
        if keys:
            out.append(InventoryEntry("static-provider-key", resource.id, resource.type, resource.location, f"static {', '.join(keys)} in the provider block"))
    return out


def _credential_detail(kind: str, resource: Resource) -> str:
    if kind == "access-key":
        user = resource.properties.get("UserName", resource.properties.get("user"))
        return f"access key for user {_show(user)}"
    if kind == "login-profile":
        return f"console password for user {_show(resource.properties.get('user'))}"
    name = resource.properties.get("UserName", resource.properties.get("name"))
    return f"IAM user {_show(name)}" if name is not None else "IAM user"


def _show(value: Any) -> str:
    if isinstance(value, Unknown):
        target = getattr(value, "target", "")
        return target or "(unresolved)"
    return str(value)


def _role_ways_in(resource: Resource) -> list[InventoryEntry]:
    trust_field, session_field = ROLE_TYPES[resource.type]
    found = resolve_field(resource.properties, trust_field)
    session_values = resolve_field(resource.properties, session_field)
    session = session_values[0][1] if session_values else DEFAULT_SESSION
    max_session = session if isinstance(session, int) else None
    document = iam.parse_document(found[0][1]) if found else None
    location = Location(resource.location.file, resource.line_of((trust_field,)))
    if document is None or isinstance(document, Unknown):
        return [InventoryEntry("role-trust", resource.id, resource.type, location, "trust policy could not be resolved", {"max_session": max_session})]
    out: list[InventoryEntry] = []
    for stmt in iam.statements(document, ()):
        if stmt.effect != "Allow":
            continue
        external_id = iam.requiring_values(stmt, "sts:ExternalId") is not None
        for kind in ("AWS", "Service", "Federated"):
            for principal in stmt.principals(kind):
                who, account = _principal_kind(kind, principal, stmt)
                attrs = {"principal_kind": who, "principal": _show(principal), "account": account, "external_id": external_id, "max_session": max_session}
                detail = f"{who} {_show(principal)}" + (f" (account {account})" if account and account != "self" else "")
                if external_id:
                    detail += ", external id required"
                detail += f", sessions up to {max_session} s" if max_session else ""
                out.append(InventoryEntry("role-trust", resource.id, resource.type, location, detail, attrs))
    return out


def _principal_kind(kind: str, principal: Any, stmt: iam.Statement) -> tuple[str, str | None]:
    if kind == "Service":
        return "service", None
    if not isinstance(principal, str):
        return "unresolved", None
    if kind == "Federated":
        if "cognito-identity" in principal:
            return "cognito", None
        if ":saml-provider/" in principal:
            return "saml", None
        return "oidc", None
    if principal == "*":
        return "any principal", None
    account = iam.principal_account(principal)
    if account.is_self:
        return "same account", "self"
    return "other account", account.id

