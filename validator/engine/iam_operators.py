"""IAM-document operators: trust policies and identity policies, judged statement by statement.

Each operator reads a policy document (inline mapping, JSON string, Terraform jsonencode or heredoc)
through `validator.iam`, which models principal × action × condition. A value that cannot be
resolved never fails: it yields a SKIP violation saying what was unresolved. Messages name the
statement (index and Sid), the principal, and the condition that is missing or too loose; violation
paths point at the principal (missing condition) or at the condition key (too loose).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from validator import iam
from validator.engine.base import Args, Operator, Violation, derived, unresolved
from validator.model import Outcome, Path, Reference, Resource, Template, Unknown

# --- shared -----------------------------------------------------------------------------------------


def _load(value: Any, args: Args) -> tuple[iam.Document | None, list[Violation]]:
    # Every trust policy (TRUST-*, GUARD-*) reads the same document of a role: parsed once.
    document = derived(args, value, iam.load_document)
    if isinstance(document, Unknown):
        return None, unresolved(args.label, document)
    if document is None:
        return None, [Violation(Outcome.SKIP, f"{args.label} is not a policy document")]
    return document, [
        Violation(Outcome.SKIP, f"{what} could not be resolved ({why.reason})", path) for what, path, why in document.unresolved
    ]


def _params(args: Args) -> Mapping[str, Any]:
    return args.params or {}


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")


def _accounts(values: Any) -> set[str]:
    return {str(iam.text_value(v)) for v in (values or [])}


def _skip(message: str, path: Path) -> Violation:
    return Violation(Outcome.SKIP, message, path)


def _fail(message: str, path: Path) -> Violation:
    return Violation(Outcome.FAIL, message, path)


def _actions_unresolved(grant: iam.Grant) -> Violation:
    return _skip(f"{grant.statement.label} actions could not be resolved", grant.statement.path)


@dataclass(frozen=True)
class _Verdict:
    """How a requirement on one key holds up: ok, missing, loose, unresolved."""

    state: str
    constraint: iam.Constraint | None = None
    value: Any = None  # the offending value, when one is to blame
    reason: str = ""


# A judge says why one constraint is too loose: (offending value, reason), None when it is tight,
# or an Unknown when an unresolved value decides.
Judge = Callable[[iam.Constraint], "tuple[Any, str] | Unknown | None"]


def _assess(requirements: Iterable[iam.Requirement], judge: Judge) -> _Verdict:
    """Constraints are ANDed: one tight constraint (on any of the alternative keys) is enough."""
    loose: _Verdict | None = None
    undecided: Unknown | None = None
    for req in requirements:
        undecided = undecided or req.unresolved
        for constraint in req.constraints:
            result = judge(constraint)
            if result is None:
                return _Verdict("ok")
            if isinstance(result, Unknown):
                undecided = undecided or result
            elif loose is None:
                loose = _Verdict("loose", constraint, result[0], result[1])
    if undecided is not None:  # what we cannot read might be the tight condition
        return _Verdict("unresolved", reason=undecided.reason)
    return loose or _Verdict("missing")


def _values_judge(too_broad: Callable[[str], str | None], presence: str) -> Judge:
    """Judge wildcard patterns value by value; literal values (StringEquals) are exact and never too broad."""

    def judge(constraint: iam.Constraint) -> tuple[Any, str] | Unknown | None:
        if constraint.presence_only:
            return (None, presence)
        if not constraint.operator.wildcards:
            return None
        for value in constraint.literal_values():
            reason = too_broad(value) if iam.has_wildcard(value) else None
            if reason:
                return (value, reason)
        return constraint.unresolved

    return judge


def _any_value(value: str) -> str | None:
    return "which matches any value" if value.strip("*?") == "" else None


def _who_account(principal: iam.Principal, account: iam.Account) -> str:
    return f"account {account.id}" + ("" if principal.text == account.id else f" ({principal.text})")


# --- TRUST-001 --------------------------------------------------------------------------------------


def op_iam_cross_account_external_id(value: Any, args: Args) -> list[Violation]:
    """Trust to a principal in another account must require sts:ExternalId (or, for IAM users and
    account roots, MFA: `Bool aws:MultiFactorAuthPresent true`, unless `accept_mfa` is false)."""
    document, out = _load(value, args)
    if document is None:
        return out
    trusted = _accounts(_params(args).get("trusted_accounts"))
    accept_mfa = _flag(_params(args).get("accept_mfa", True))
    for grant in iam.grants(document, ("sts:AssumeRole",), kinds=("AWS",)):
        stmt, principal = grant.statement, grant.principal
        if principal.unresolved is not None and not principal.is_reference:
            out.append(_skip(f"{stmt.label} principal could not be resolved ({principal.unresolved.reason})", stmt.path))
            continue
        if principal.is_any:
            continue  # TRUST-002's concern
        account = principal.account
        if account.is_self or account.id is None or account.id in trusted:
            continue
        if not grant.actions:
            out.append(_actions_unresolved(grant))
            continue
        if accept_mfa and principal.is_human and iam.requires_mfa(document, grant):
            continue
        who = _who_account(principal, account)
        verdict = _assess([iam.requirement(document, grant, "sts:ExternalId")], _values_judge(_any_value, "which matches any value"))
        if verdict.state == "missing":
            note = iam.unrequired_mentions(stmt, ["sts:ExternalId"])
            out.append(_fail(f"{stmt.label} lets {who} assume the role without an sts:ExternalId condition{note}", (*stmt.path, "Principal")))
        elif verdict.state == "loose":
            out.append(_fail(f"{stmt.label} lets {who} assume the role with an sts:ExternalId condition that matches any value", (*stmt.path, "Condition")))
        elif verdict.state == "unresolved":
            out.append(_skip(f"{stmt.label} sts:ExternalId condition could not be resolved ({verdict.reason})", (*stmt.path, "Condition")))
    return out


# --- TRUST-002 --------------------------------------------------------------------------------------


def op_iam_trust_any_principal(value: Any, args: Args) -> list[Violation]:
    """A trust policy admitting any principal must pin the organization, account or ARN in a condition."""
    document, out = _load(value, args)
    if document is None:
        return out
    for grant in iam.grants(document, iam.ASSUME_ACTIONS):
        stmt, principal = grant.statement, grant.principal
        if principal.unresolved is not None:
            # "*" is written as `"Principal": "*"` or `{"AWS": "*"}`; a resource of the template is never "*"
            if principal.kind in ("AWS", "?") and not principal.is_reference:
                out.append(_skip(f"{stmt.label} principal could not be resolved ({principal.unresolved.reason})", principal.path))
            continue
        if not principal.is_any:
            continue
        if not grant.actions:
            out.append(_actions_unresolved(grant))
            continue
        pin = iam.pinning(document, grant)
        if pin.pinned:
            continue
        who = principal.describe()
        actions = ", ".join(grant.actions)
        if pin.unresolved is not None and not pin.loose:
            out.append(_skip(f"{stmt.label} lets {who} call {actions}; the condition that may pin the caller could not be resolved ({pin.unresolved.reason})", (*stmt.path, "Condition")))
            continue
        fix = "require aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceAccount, aws:SourceArn or aws:PrincipalArn with exact values"
        if pin.loose:
            loose = pin.loose[0]
            out.append(_fail(f"{stmt.label} lets {who} call {actions}: the condition {loose.describe()} does not pin one organization, account or ARN; {fix}", loose.path))
        else:
            note = iam.unrequired_mentions(stmt, iam.PINNING_KEYS)
            out.append(_fail(f"{stmt.label} lets {who} call {actions} with no condition pinning the caller's organization or account{note}: {fix}", principal.path))
    return out


# --- TRUST-003 --------------------------------------------------------------------------------------

_OIDC_PROVIDER_TYPES = {"AWS::IAM::OIDCProvider": "Url", "aws_iam_openid_connect_provider": "url"}
_SAML_PROVIDER_TYPES = {"AWS::IAM::SAMLProvider", "aws_iam_saml_provider"}


def _target(value: Any, template: Template | None) -> Resource | None:
    if not isinstance(value, Reference) or template is None:
        return None
    return next((r for r in template.resources if r.id == value.target), None)


def _issuer(principal: iam.Principal, stmt: iam.Statement, template: Template | None) -> tuple[str | None, Unknown | None]:
    """The OIDC issuer a Federated principal stands for; (None, None) when it is not an OIDC provider,
    (None, why) when it cannot be told. An unresolved provider is recognised by the issuer its condition
    keys name, since only that issuer's tokens carry them."""
    if isinstance(principal.value, str):
        return iam.provider_host(principal.value), None
    provider = _target(principal.value, template)
    if provider is not None:
        if provider.type in _SAML_PROVIDER_TYPES:
            return None, None
        url = provider.properties.get(_OIDC_PROVIDER_TYPES.get(provider.type, ""))
        url = getattr(url, "value", url)  # a reference whose value the loader knows
        if isinstance(url, str):
            return iam.provider_host(url), None
    named = iam.issuers_in_conditions(stmt)
    if len(named) == 1:
        return named[0], None
    return None, principal.unresolved or Unknown("federated principal")


def _subject_judge(issuer: iam.Issuer) -> Judge:
    return _values_judge(issuer.subject_too_broad, issuer.subject_too_broad("*") or "which admits any subject")


def op_iam_trust_web_identity(value: Any, args: Args) -> list[Violation]:
    """sts:AssumeRoleWithWebIdentity from an OIDC provider must require `<issuer>:aud` and a narrow `<issuer>:sub`."""
    document, out = _load(value, args)
    if document is None:
        return out
    for grant in iam.grants(document, ("sts:AssumeRoleWithWebIdentity",), kinds=("Federated",)):
        stmt, principal = grant.statement, grant.principal
        if principal.is_any:
            continue  # TRUST-002's concern
        host, why = _issuer(principal, stmt, args.template)
        if why is not None:
            out.append(_skip(f"{stmt.label} federated principal could not be resolved ({why.reason})", principal.path))
            continue
        if host is None or iam.cognito_issuer(host):
            continue  # SAML (TRUST-004), Cognito (TRUST-006)
        if not grant.actions:
            out.append(_actions_unresolved(grant))
            continue
        issuer = iam.oidc_issuer(host)
        out.extend(_judge_audience(document, grant, issuer))
        out.extend(_judge_subject(document, grant, issuer))
    return out


def _judge_audience(document: iam.Document, grant: iam.Grant, issuer: iam.Issuer) -> list[Violation]:
    stmt, key = grant.statement, issuer.audience_key
    verdict = _assess([iam.requirement(document, grant, key, always_present=True)], _values_judge(_any_value, "which admits any audience"))
    lets = f"{stmt.label} lets {issuer.host} assume the role"
    fix = f"require {key} to be {issuer.audience_hint}"
    if verdict.state == "missing":
        return [_fail(f"{lets} without a condition on {key}{iam.unrequired_mentions(stmt, [key])}: {fix}", grant.principal.path)]
    if verdict.state == "loose":
        shown = f"for audience {verdict.value!r}" if verdict.value is not None else "for any audience"
        return [_fail(f"{lets} {shown}, {verdict.reason.replace('any value', 'any audience')}: {fix}", verdict.constraint.path)]
    if verdict.state == "unresolved":
        return [_skip(f"{stmt.label} {key} could not be resolved ({verdict.reason})", (*stmt.path, "Condition"))]
    return []


def _judge_subject(document: iam.Document, grant: iam.Grant, issuer: iam.Issuer) -> list[Violation]:
    stmt, key = grant.statement, issuer.subject_key
    verdict = _assess([iam.requirement(document, grant, key, always_present=True)], _subject_judge(issuer))
    lets = f"{stmt.label} lets {issuer.host} assume the role"
    fix = f"pin {key} to {issuer.subject_hint}"
    if verdict.state == "missing":
        broad = issuer.subject_too_broad("*") or "which admits any subject"
        return [_fail(f"{lets} without a condition on {key}{iam.unrequired_mentions(stmt, [key])}, {broad}: {fix}", grant.principal.path)]
    if verdict.state == "loose":
        shown = f"for subject {verdict.value!r}" if verdict.value is not None else f"for any subject ({verdict.constraint.describe()} only requires the claim)"
        return [_fail(f"{lets} {shown}, {verdict.reason}: {fix}", verdict.constraint.path)]
    if verdict.state == "unresolved":
        return [_skip(f"{stmt.label} {key} could not be resolved ({verdict.reason})", (*stmt.path, "Condition"))]
    return []


# --- TRUST-004 --------------------------------------------------------------------------------------

SAML_ENDPOINT = re.compile(
    r"^https://([a-z0-9-]+\.)?signin\.(aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)/saml(/acs/[A-Za-z0-9_-]+)?/?$"
)


def _saml_audience_problem(value: str, wildcards: bool) -> str | None:
    if wildcards and iam.has_wildcard(value):
        if not iam.literal_prefix(value):
            return "which admits any audience"
        value = re.sub(r"[*?]+", "us-east-1", value)
    return None if SAML_ENDPOINT.match(value) else "which is not an AWS sign-in SAML endpoint"


def _saml_judge(constraint: iam.Constraint) -> tuple[Any, str] | Unknown | None:
    if constraint.presence_only:
        return (None, "which admits any audience")
    for value in constraint.literal_values():
        problem = _saml_audience_problem(value, constraint.operator.wildcards)
        if problem:
            return (value, problem)
    if constraint.operator.wildcards and constraint.unresolved is not None:
        return constraint.unresolved
    return None


def _is_saml(principal: iam.Principal, stmt: iam.Statement, template: Template | None) -> bool | Unknown:
    if isinstance(principal.value, str):
        return principal.category == "saml-provider"
    provider = _target(principal.value, template)
    if provider is not None:
        return provider.type in _SAML_PROVIDER_TYPES
    # Unresolved provider: a statement naming only SAML federation is about a SAML provider.
    if stmt.matches_action("sts:AssumeRoleWithWebIdentity") is False:
        return True
    return principal.unresolved or Unknown("federated principal")


def op_iam_trust_saml_audience(value: Any, args: Args) -> list[Violation]:
    """sts:AssumeRoleWithSAML from a SAML provider must require SAML:aud, the AWS sign-in SAML endpoint."""
    document, out = _load(value, args)
    if document is None:
        return out
    for grant in iam.grants(document, ("sts:AssumeRoleWithSAML",), kinds=("Federated",)):
        stmt, principal = grant.statement, grant.principal
        if principal.is_any:
            continue
        saml = _is_saml(principal, stmt, args.template)
        if isinstance(saml, Unknown):
            out.append(_skip(f"{stmt.label} federated principal could not be resolved ({saml.reason})", principal.path))
            continue
        if not saml:
            continue
        if not grant.actions:
            out.append(_actions_unresolved(grant))
            continue
        name = principal.text if isinstance(principal.value, str) else getattr(principal.value, "target", "") or "(unresolved)"
        name = name.rsplit(":saml-provider/", 1)[-1]
        lets = f"{stmt.label} lets SAML provider {name} assume the role"
        fix = "require SAML:aud to be https://signin.aws.amazon.com/saml (or your Region's sign-in endpoint)"
        verdict = _assess([iam.requirement(document, grant, "SAML:aud")], _saml_judge)
        if verdict.state == "missing":
            note = iam.unrequired_mentions(stmt, ["SAML:aud"])
            out.append(_fail(f"{lets} without a condition on SAML:aud{note}, so assertions meant for other service providers are accepted: {fix}", principal.path))
        elif verdict.state == "loose":
            shown = f"for SAML:aud {verdict.value!r}" if verdict.value is not None else "for any SAML:aud"
            out.append(_fail(f"{lets} {shown}, {verdict.reason}: {fix}", verdict.constraint.path))
        elif verdict.state == "unresolved":
            out.append(_skip(f"{stmt.label} SAML:aud could not be resolved ({verdict.reason})", (*stmt.path, "Condition")))
    return out


# --- TRUST-005 --------------------------------------------------------------------------------------

NETWORK_KEYS = ("aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce")


def _network_judge(constraint: iam.Constraint) -> tuple[Any, str] | Unknown | None:
    if constraint.presence_only:
        return (None, "which admits any network")
    if constraint.key.lower() == "aws:sourceip":
        for value in constraint.literal_values():
            if re.search(r"/0+$", value.strip()):
                return (value, "which admits every address")
        return constraint.unresolved
    for value in constraint.literal_values():
        if constraint.operator.wildcards and value.strip("*?") == "":
            return (value, "which admits any network")
    return constraint.unresolved if constraint.operator.wildcards else None


def op_iam_trust_user_source_network(value: Any, args: Args) -> list[Violation]:
    """Trust to IAM users of other accounts must restrict the source network."""
    document, out = _load(value, args)
    if document is None:
        return out
    trusted = _accounts(_params(args).get("trusted_accounts"))
    for grant in iam.grants(document, ("sts:AssumeRole",), kinds=("AWS",)):
        stmt, principal = grant.statement, grant.principal
        if principal.unresolved is not None and not principal.is_reference:
            out.append(_skip(f"{stmt.label} principal could not be resolved ({principal.unresolved.reason})", principal.path))
            continue
        if principal.category != "user":
            continue
        account = principal.account
        if account.is_self or account.id is None or account.id in trusted:
            continue
        if not grant.actions:
            out.append(_actions_unresolved(grant))
            continue
        lets = f"{stmt.label} lets IAM user {principal.text} of account {account.id} assume the role"
        fix = "require aws:SourceIp (IpAddress), aws:SourceVpc or aws:SourceVpce"
        verdict = _assess([iam.requirement(document, grant, k) for k in NETWORK_KEYS], _network_judge)
        if verdict.state == "missing":
            out.append(_fail(f"{lets} from any network{iam.unrequired_mentions(stmt, NETWORK_KEYS)}: {fix}", principal.path))
        elif verdict.state == "loose":
            out.append(_fail(f"{lets} from any network ({verdict.constraint.describe()}, {verdict.reason}): {fix}", verdict.constraint.path))
        elif verdict.state == "unresolved":
            out.append(_skip(f"{stmt.label} source network condition could not be resolved ({verdict.reason})", (*stmt.path, "Condition")))
    return out


# --- TRUST-006 --------------------------------------------------------------------------------------

def _pool_judge(constraint: iam.Constraint) -> tuple[Any, str] | Unknown | None:
    if constraint.presence_only:
        return (None, "which admits every identity pool")
    if not constraint.operator.wildcards:
        return None
    for value in constraint.literal_values():
        if iam.has_wildcard(value) and re.fullmatch(r"[^:]*:?", iam.literal_prefix(value)):
            return (value, "which admits every identity pool" + (" of the Region" if iam.literal_prefix(value) else ""))
    return constraint.unresolved


def _amr_judge(constraint: iam.Constraint) -> tuple[Any, str] | Unknown | None:
    if constraint.presence_only:
        return (None, "which admits unauthenticated identities too")
    guests = constraint.admits("unauthenticated")
    if guests is None:
        return constraint.unresolved
    if guests and constraint.admits("authenticated"):
        shown = next((v for v in constraint.literal_values() if iam.wildcard_match(v, "unauthenticated")), None)
        return (shown, "which admits unauthenticated identities too")
    return None


def _cognito_host(principal: iam.Principal, stmt: iam.Statement) -> str | None:
    """The Cognito condition-key prefix when the principal is Cognito identity pools, else None."""
    if isinstance(principal.value, str):
        return iam.cognito_issuer(principal.value)
    if principal.is_reference:
        return None  # a provider resource of the template: OIDC or SAML, not Cognito
    # An unresolved provider is Cognito only if the condition keys say so: the Cognito principal is a
    # fixed service name that templates write literally, so an unresolved one is an OIDC provider
    # (TRUST-003 reports it).
    return next((iam.cognito_issuer(h) for h in iam.issuers_in_conditions(stmt) if iam.cognito_issuer(h)), None)


def _guest_role(role: Resource | None, template: Template | None) -> bool:
    """Whether an identity pool role attachment of the template uses `role` as its unauthenticated role."""
    if role is None or template is None:
        return False
    for r in template.resources:
        if r.type in ("AWS::Cognito::IdentityPoolRoleAttachment", "aws_cognito_identity_pool_roles_attachment"):
            roles = r.properties.get("Roles" if r.type.startswith("AWS::") else "roles")
            if isinstance(roles, Mapping) and _refers(roles.get("unauthenticated"), role):
                return True
    return False


def op_iam_trust_cognito(value: Any, args: Args) -> list[Violation]:
    """Roles for Cognito identity pools require the pool id (aud) and authenticated identities (amr)."""
    document, out = _load(value, args)
    if document is None:
        return out
    for grant in iam.grants(document, ("sts:AssumeRoleWithWebIdentity",), kinds=("Federated",)):
        stmt, principal = grant.statement, grant.principal
        if principal.is_any:
            continue
        host = _cognito_host(principal, stmt)
        if host is None:
            continue
        if not grant.actions:
            out.append(_actions_unresolved(grant))
            continue
        aud_key, amr_key = f"{host}:aud", f"{host}:amr"
        lets = f"{stmt.label} lets {principal.text if isinstance(principal.value, str) else host} assume the role"
        aud = _assess([iam.requirement(document, grant, aud_key, always_present=True)], _pool_judge)
        fix_aud = f"require StringEquals {aud_key} to be your identity pool id"
        out += _claim_violations(
            aud, aud_key, stmt, lets, fix_aud, principal.path,
            f"{lets} for identities of any identity pool (no condition on {aud_key}<note>), including pools in other accounts: {fix_aud}",
        )
        if _guest_role(args.resource, args.template):
            continue  # the pool's unauthenticated role: amr narrows nothing a guest role needs
        amr = _assess([iam.requirement(document, grant, amr_key, always_present=True)], _amr_judge)
        fix_amr = f'require ForAnyValue:StringLike {amr_key} "authenticated"'
        out += _claim_violations(
            amr, amr_key, stmt, lets, fix_amr, principal.path,
            f"{lets} without a condition on {amr_key}<note>, so unauthenticated (guest) identities can assume it too: {fix_amr}",
        )
    return out


def _claim_violations(
    assessed: Any, key: str, stmt: Any, lets: str, fix: str, principal_path: Any, missing: str
) -> list[Violation]:
    """The verdict on one required claim (Cognito aud or amr): missing (`missing`, with `<note>`
    standing for what the statement says of the key elsewhere), too loose, or unresolved."""
    if assessed.state == "missing":
        return [_fail(missing.replace("<note>", iam.unrequired_mentions(stmt, [key]), 1), principal_path)]
    if assessed.state == "loose":
        shown = f"for {key} {assessed.value!r}" if assessed.value is not None else f"for any {key}"
        return [_fail(f"{lets} {shown}, {assessed.reason}: {fix}", assessed.constraint.path)]
    if assessed.state == "unresolved":
        return [_skip(f"{stmt.label} {key} could not be resolved ({assessed.reason})", (*stmt.path, "Condition"))]
    return []


# --- identity policies: KEYS-003, GUARD-002 ---------------------------------------------------------


def _name(value: Any, fallback: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Reference) and value.target:
        return value.target
    return fallback


def _user_name(value: Any, template: Template | None, name_key: str) -> str:
    """A user's name for messages: the literal, or the name of the user resource a reference points at."""
    if isinstance(value, Reference) and template is not None:
        user = next((r for r in template.resources if r.id == value.target), None)
        if user is not None and isinstance(user.properties.get(name_key), str):
            return user.properties[name_key]
    return _name(value, "(unresolved)")


def _find(template: Template | None, value: Any, types: set[str], name_key: str) -> Resource | None:
    if template is None:
        return None
    if isinstance(value, Reference):
        return next((r for r in template.resources if r.id == value.target and r.type in types), None)
    if isinstance(value, str):
        return next((r for r in template.resources if r.type in types and r.properties.get(name_key) == value), None)
    return None


def _refers(value: Any, resource: Resource) -> bool:
    return isinstance(value, Reference) and value.target == resource.id


def _points_at(value: Any, group: Resource, name_key: str) -> bool:
    return _refers(value, group) or (isinstance(value, str) and value == group.properties.get(name_key))


def _group_has_users(group: Resource, template: Template | None) -> bool:
    """Whether some IAM user of the template is a member of `group`."""
    if template is None:
        return False
    for r in template.resources:
        props = r.properties
        if r.type == "AWS::IAM::User" and any(_points_at(g, group, "GroupName") for g in iam.as_list(props.get("Groups"))):
            return True
        if r.type == "AWS::IAM::UserToGroupAddition" and _points_at(props.get("GroupName"), group, "GroupName") and props.get("Users"):
            return True
        if r.type == "aws_iam_group_membership" and _points_at(props.get("group"), group, "name") and props.get("users"):
            return True
        if r.type == "aws_iam_user_group_membership" and any(_points_at(g, group, "name") for g in iam.as_list(props.get("groups"))):
            return True
    return False


_CFN_GROUPS = {"AWS::IAM::Group"}
_TF_GROUPS = {"aws_iam_group"}


def _user_scope(resource: Resource | None, template: Template | None) -> str | None:
    """Which IAM users an identity policy reaches, for messages; None when it reaches none we know of."""
    if resource is None:
        return "IAM users"
    props, kind = resource.properties, resource.type
    if kind == "AWS::IAM::User":
        return f"IAM user {_name(props.get('UserName'), resource.id)}"
    if kind in ("aws_iam_user_policy", "aws_iam_user_policy_attachment"):
        return f"IAM user {_user_name(props.get('user'), template, 'name')}"
    if kind in ("AWS::IAM::Group", "aws_iam_group_policy", "aws_iam_group_policy_attachment"):
        group = resource if kind == "AWS::IAM::Group" else _find(template, props.get("group"), _TF_GROUPS, "name")
        return f"the users of group {group.id}" if group is not None and _group_has_users(group, template) else None
    if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        users = iam.as_list(props.get("Users"))
        if users:
            return "IAM user " + ", ".join(_user_name(u, template, "UserName") for u in users)
        for value in iam.as_list(props.get("Groups")):
            group = _find(template, value, _CFN_GROUPS, "GroupName")
            if group is not None and _group_has_users(group, template):
                return f"the users of group {group.id}"
        for r in template.resources if template is not None and kind == "AWS::IAM::ManagedPolicy" else ():
            if any(_refers(arn, resource) for arn in iam.as_list(r.properties.get("ManagedPolicyArns"))):
                if r.type == "AWS::IAM::User":
                    return f"IAM user {_name(r.properties.get('UserName'), r.id)}"
                if r.type == "AWS::IAM::Group" and _group_has_users(r, template):
                    return f"the users of group {r.id}"
        return None
    if kind == "aws_iam_policy" and template is not None:
        for r in template.resources:
            p = r.properties
            if r.type == "aws_iam_user_policy_attachment" and _refers(p.get("policy_arn"), resource):
                return f"IAM user {_user_name(p.get('user'), template, 'name')}"
            if r.type == "aws_iam_policy_attachment" and _refers(p.get("policy_arn"), resource) and p.get("users"):
                return "IAM user " + ", ".join(_user_name(u, template, "name") for u in iam.as_list(p["users"]))
            groups = iam.as_list(p.get("group") if r.type == "aws_iam_group_policy_attachment" else p.get("groups") if r.type == "aws_iam_policy_attachment" else None)
            if _refers(p.get("policy_arn"), resource):
                for value in groups:
                    group = _find(template, value, _TF_GROUPS, "name")
                    if group is not None and _group_has_users(group, template):
                        return f"the users of group {group.id}"
    return None


DEFAULT_USER_ACTIONS = ("sts:AssumeRole", "sts:TagSession")


def _shown_action(pattern: str, beyond: list[str]) -> str:
    if not iam.has_wildcard(pattern) or [pattern.lower()] == beyond:
        return pattern
    ordered = sorted(beyond, key=lambda a: (a.split(":")[-1].startswith("assumerole"), a))
    rest = f" and {len(ordered) - 3} more" if len(ordered) > 3 else ""
    return f"{pattern} (which grants {', '.join(ordered[:3])}{rest})"


def _resource_pinned(document: iam.Document, stmt: iam.Statement, action: str) -> iam.PinVerdict:
    """Pinned when a condition (or a Deny's negated one) names the account or organization, or an
    unconditional Deny takes the action away altogether."""
    grant = iam.identity_grant(stmt, (action,))
    if iam.denied_outright(document, grant):
        return iam.PinVerdict(True)
    return iam.pinning(document, grant, iam.RESOURCE_PINNING_KEYS)


def op_iam_user_assume_only(value: Any, args: Args) -> list[Violation]:
    """A policy reaching IAM users grants nothing but assuming (and tagging) specific roles."""
    who = _user_scope(args.resource, args.template)
    if who is None:
        return []
    document, out = _load(value, args)
    if document is None:
        return out
    allowed = [str(a) for a in _params(args).get("allowed_actions", DEFAULT_USER_ACTIONS)]
    allowed_lower = {a.lower() for a in allowed}
    only = f"IAM users should only assume roles ({', '.join(allowed)})"
    for stmt in document.statements:
        if stmt.effect != "Allow":
            continue
        if "NotAction" in stmt.body:
            excluded = ", ".join(str(a) for a in iam.as_list(stmt.body["NotAction"]))
            out.append(_fail(f"{stmt.label} grants {who} every action except {excluded}: {only}; give these permissions to a role they assume", (*stmt.path, "NotAction")))
            continue
        actions = iam.as_list(stmt.body.get("Action"))
        extra = []
        for action in actions:
            if isinstance(action, str):
                beyond = [a for a in iam.expand_action(action) if a not in allowed_lower]
                if beyond:
                    extra.append(_shown_action(action, beyond))
        if extra:
            out.append(_fail(f"{stmt.label} grants {who} {', '.join(extra)}: {only}; give these permissions to a role they assume", (*stmt.path, "Action")))
            continue
        missing = next((a for a in actions if isinstance(a, Unknown)), None)
        if missing is not None:
            out.append(_skip(f"{stmt.label} actions could not be resolved ({missing.reason})", (*stmt.path, "Action")))
            continue
        granted = [a for a in actions if isinstance(a, str)]
        if not granted:
            continue
        scope, shown, path = iam.resource_scope(stmt)
        if scope == "specific":
            continue
        if scope == "unresolved":
            out.append(_skip(f"{stmt.label} Resource could not be resolved ({shown.reason})", path))
            continue
        pin = _resource_pinned(document, stmt, granted[0])
        if pin.pinned:
            continue
        if pin.unresolved is not None:
            out.append(_skip(f"{stmt.label} condition could not be resolved ({pin.unresolved.reason})", (*stmt.path, "Condition")))
            continue
        on = "NotResource" if shown == "NotResource" else f"Resource {shown!r}"
        out.append(_fail(f"{stmt.label} grants {who} {', '.join(granted)} on {on}, so every role that trusts them: name the role ARNs in Resource", path))
    return out


def op_iam_user_managed_policy(value: Any, args: Args) -> list[Violation]:
    """A managed policy attached to IAM users by ARN: an AWS managed policy grants more than assuming
    roles; a policy of this template is judged where it is defined; any other could not be read."""
    who = _user_scope(args.resource, args.template)
    if who is None:
        return []
    if isinstance(value, list):  # ManagedPolicyArns: one verdict per ARN
        return [
            Violation(v.outcome, v.message, (i, *v.path))
            for i, item in enumerate(value)
            for v in _managed_policy(item, f"{args.label}[{i}]", who)
        ]
    return _managed_policy(value, args.label, who)


def _managed_policy(value: Any, label: str, who: str) -> list[Violation]:
    if isinstance(value, Reference) and value.target:
        return []  # a policy of this template: judged on its own resource
    if isinstance(value, Unknown):
        return unresolved(label, value)
    if not isinstance(value, str):
        return []
    arn = iam.parse_arn(value)
    name = (arn.name or value).removeprefix("policy/")
    if not arn.error and str(arn.account_number) == "aws":
        return [_fail(f"{label} attaches the AWS managed policy {name} to {who}: IAM users should only assume roles; "
                      "attach it to a role they assume instead", ())]
    return [_skip(f"{label} attaches {value}, a managed policy not defined here: its permissions could not be checked", ())]


def op_iam_assume_role_any_resource(value: Any, args: Args) -> list[Violation]:
    """An identity policy does not allow sts:AssumeRole on every role (Resource "*")."""
    document, out = _load(value, args)
    if document is None:
        return out
    for stmt in document.statements:
        if stmt.effect != "Allow":
            continue
        allowed = stmt.matches_action("sts:AssumeRole")
        if allowed is False:
            continue
        if allowed is None:
            out.append(_skip(f"{stmt.label} actions could not be resolved", (*stmt.path, "Action")))
            continue
        scope, shown, path = iam.resource_scope(stmt)
        if scope == "specific":
            continue
        if scope == "unresolved":
            out.append(_skip(f"{stmt.label} Resource could not be resolved ({shown.reason})", path))
            continue
        pin = _resource_pinned(document, stmt, "sts:AssumeRole")
        if pin.pinned:
            continue
        if pin.unresolved is not None:
            out.append(_skip(f"{stmt.label} condition could not be resolved ({pin.unresolved.reason})", (*stmt.path, "Condition")))
            continue
        via = stmt.granting_patterns("sts:AssumeRole")
        through = "" if [v.lower() for v in via] == ["sts:assumerole"] else f" (through {', '.join(via)})"
        on = "NotResource" if shown == "NotResource" else f"Resource {shown!r}"
        out.append(_fail(
            f"{stmt.label} allows sts:AssumeRole{through} on {on}: whoever holds this policy can assume every role, "
            "in any account, whose trust policy admits them; list the role ARNs, or pin aws:ResourceAccount / aws:ResourceOrgID",
            path,
        ))
    return out


IAM_OPERATORS: dict[str, Operator] = {
    "iam_cross_account_external_id": op_iam_cross_account_external_id,
    "iam_trust_any_principal": op_iam_trust_any_principal,
    "iam_trust_web_identity": op_iam_trust_web_identity,
    "iam_trust_saml_audience": op_iam_trust_saml_audience,
    "iam_trust_user_source_network": op_iam_trust_user_source_network,
    "iam_trust_cognito": op_iam_trust_cognito,
    "iam_user_assume_only": op_iam_user_assume_only,
    "iam_user_managed_policy": op_iam_user_managed_policy,
    "iam_assume_role_any_resource": op_iam_assume_role_any_resource,
}
