"""IAM policy documents, judged statement by statement: principal × action × condition.

ARNs are parsed by policyuniverse (`policyuniverse.arn.ARN`), AWS Organizations ids and paths by
`policyuniverse.organization.Organization`, and action wildcards expand against policyuniverse's
catalogue of actions. On top of that this module knows how conditions narrow a grant:

- which operators *require* a key: StringEquals, StringLike, ArnLike, IpAddress, Bool, ... and
  their `ForAnyValue:` forms. `...IfExists` and `ForAllValues:` are true when the key is absent, and
  negated operators (StringNotEquals, ...) admit every other value, so none of them requires a key;
- `"Null": {"k": "false"}` requires the key to be present, but not any value;
- StringEquals compares literally, StringLike/ArnLike understand `*` and `?`;
- a Deny for the same principal and action whose only condition is the negation of a requirement
  (`StringNotEquals sts:ExternalId X`, `"Null": {"sts:ExternalId": "true"}`) requires the key as much
  as the Allow's own condition would; an unconditional Deny removes the grant altogether;
- `NotPrincipal` in an Allow admits everyone except the listed principals: any principal.

Values that cannot be resolved statically are `Unknown`; the helpers report them so that callers
can say what was unresolved instead of guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from validator.model import SELF_ACCOUNT, Path, Reference, Unknown

_ACCOUNT_ID = re.compile(r"^\d{12}$")
# Symbolic pseudo values that may stand inside an ARN; they never name another account.
_SYMBOLIC = {"${AWS::Partition}": "aws", "${AWS::Region}": "us-east-1", "${AWS::URLSuffix}": "amazonaws.com"}
# Stand-in account id for the template's own account while an ARN is parsed.
_SELF_STAND_IN = "000000000000"
# A Terraform heredoc interpolation that could not be resolved, as it survives in an object key.
_UNRESOLVED_KEY = re.compile(r"@@iac-validator-unknown-\d+@@")

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "sts:TagSession")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def text_value(value: Any) -> Any:
    """Condition and principal values as IAM compares them: strings. Unknown stays Unknown."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:012d}" if 0 <= value < 10**12 else str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return value


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatchcase(action.lower(), pattern.lower())


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def literal_prefix(pattern: str) -> str:
    """The part of a StringLike pattern before its first wildcard."""
    return re.split(r"[*?]", pattern, maxsplit=1)[0]


def wildcard_match(pattern: str, candidate: str, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: `*` any run of characters, `?` one character, nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, candidate, re.S | (re.I if ignore_case else 0)) is not None


# --- condition operators ----------------------------------------------------------------------------

_BASES = (
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
    "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
)  # fmt: skip
_CANONICAL = {b.lower(): b for b in _BASES}
# Negated operator -> the operator whose negation it is.
NEGATIONS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
# Operators whose values may hold `*` and `?` wildcards (ArnEquals behaves like ArnLike).
WILDCARD_OPERATORS = {"StringLike", "ArnLike", "ArnEquals"}
_OPERATOR = re.compile(r"^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$", re.I)


@dataclass(frozen=True)
class ConditionOperator:
    text: str  # as written
    base: str  # canonical name without qualifier and IfExists, e.g. "StringEquals"; "" when not an IAM operator
    qualifier: str = ""  # "ForAnyValue", "ForAllValues" or ""
    if_exists: bool = False

    @property
    def negated(self) -> bool:
        return self.base in NEGATIONS

    @property
    def requires_key(self) -> bool:
        """True when a request without the key does not satisfy the condition."""
        return bool(self.base) and not (
            self.if_exists or self.negated or self.qualifier == "ForAllValues" or self.base == "Null"
        )

    @property
    def wildcards(self) -> bool:
        return NEGATIONS.get(self.base, self.base) in WILDCARD_OPERATORS

    @property
    def ignore_case(self) -> bool:
        return self.base.endswith("IgnoreCase")


def parse_operator(text: str) -> ConditionOperator:
    m = _OPERATOR.match(text)
    if not m:
        return ConditionOperator(text, "")
    qualifier = {"foranyvalue": "ForAnyValue", "forallvalues": "ForAllValues"}.get((m.group(1) or "").lower(), "")
    base = _CANONICAL.get(m.group(2).lower(), "")
    return ConditionOperator(text, base, qualifier, bool(m.group(3)))


@dataclass(frozen=True)
class ConditionEntry:
    """One operator × key × values entry of a statement's Condition block."""

    operator: ConditionOperator
    key: str  # as written
    values: tuple[Any, ...]
    path: Path  # path of the key inside the resource's properties


@dataclass(frozen=True)
class Constraint:
    """What a request must satisfy for one key: any of `values` under `operator` (a positive operator).

    Comes from the Allow statement's own condition, or from a Deny statement (`deny`) whose
    condition is its negation. `Null` constraints require presence only.
    """

    operator: ConditionOperator
    key: str
    values: tuple[Any, ...]
    path: Path
    deny: Statement | None = None

    @property
    def presence_only(self) -> bool:
        return self.operator.base == "Null"

    @property
    def unresolved(self) -> Unknown | None:
        return next((v for v in self.values if isinstance(v, Unknown)), None)

    def literal_values(self) -> list[str]:
        return [v for v in self.values if isinstance(v, str)]

    def admits(self, candidate: str) -> bool | None:
        """Whether `candidate` satisfies the constraint; None when an unresolved value might."""
        if self.presence_only:
            return True
        hit = False
        for value in self.values:
            if not isinstance(value, str):
                continue
            if self.operator.wildcards:
                hit = wildcard_match(value, candidate, self.operator.ignore_case)
            elif self.operator.ignore_case:
                hit = value.lower() == candidate.lower()
            else:
                hit = value == candidate
            if hit:
                return True
        return None if self.unresolved is not None else False

    def wildcard_only_values(self) -> list[str]:
        """Values that match (nearly) anything: `*`, `?*`, ... under a wildcard operator."""
        if not self.operator.wildcards:
            return []
        return [v for v in self.values if isinstance(v, str) and v.strip("*?") == ""]

    def describe(self) -> str:
        shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in self.values)
        return f"{self.operator.text} {self.key} {shown}"


# --- statements -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """One principal a statement names. `value` is a string (account ids normalised) or Unknown."""

    kind: str  # "AWS", "Service", "Federated", "CanonicalUser"; "?" when the whole Principal is unresolved
    value: Any
    path: Path
    not_principal: bool = False  # NotPrincipal in an Allow: everyone except the listed ones

    @property
    def unresolved(self) -> Unknown | None:
        return self.value if isinstance(self.value, Unknown) else None

    @property
    def is_reference(self) -> bool:
        return isinstance(self.value, Reference) and bool(self.value.target)

    @property
    def is_any(self) -> bool:
        return self.not_principal or self.value == "*"

    @property
    def text(self) -> str:
        return self.value if isinstance(self.value, str) else str(self.value)

    @property
    def arn(self) -> Any:
        """policyuniverse's ARN of the value, with symbolic pseudo values replaced; None when unresolved."""
        if not isinstance(self.value, str):
            return None
        return parse_arn(self.value)

    @property
    def account(self) -> Account:
        if self.is_reference and self.kind == "AWS":
            return Account(None, is_self=True)  # a resource of the same template: the same account
        if not isinstance(self.value, str):
            return Account(None)
        return principal_account(self.value)

    @property
    def category(self) -> str:
        """any, account (root or bare id), user, role, assumed-role, federated-user, service, oidc-provider,
        saml-provider, web-identity (a provider host), unresolved or other."""
        if self.is_any:
            return "any"
        if not isinstance(self.value, str):
            return "unresolved"
        if self.kind == "Service":
            return "service"
        if _ACCOUNT_ID.match(self.value) or self.value == SELF_ACCOUNT:
            return "account"
        arn = self.arn
        if self.kind == "Federated":
            for kind in ("oidc-provider", "saml-provider"):
                if self.value.startswith("arn:") and f":{kind}/" in self.value:
                    return kind
            return "web-identity"
        if arn.error:
            return "other"
        if arn.service:
            return "service"
        if arn.root:
            return "account"
        name = arn.name or ""
        for prefix, category in (("user/", "user"), ("role/", "role"), ("assumed-role/", "assumed-role"), ("federated-user/", "federated-user")):
            if name.startswith(prefix):
                return category
        return "other"

    @property
    def is_human(self) -> bool:
        """IAM users and account roots (through which the account's users act) are people, roles are not."""
        return self.category in ("account", "user")

    def describe(self) -> str:
        if self.not_principal:
            return "any principal (NotPrincipal admits everyone it does not list)"
        if self.is_any:
            return 'any principal ("*")'
        return self.text


@dataclass(frozen=True)
class Statement:
    index: int
    body: Mapping[str, Any]
    path: Path  # path of the statement inside the resource's properties

    @property
    def effect(self) -> str:
        effect = self.body.get("Effect")
        return effect if isinstance(effect, str) else ""

    @property
    def sid(self) -> str | None:
        sid = self.body.get("Sid")
        return sid if isinstance(sid, str) and sid else None

    @property
    def label(self) -> str:
        """`Statement 0`, or `Statement 0 (GitHubDeploy)` when it has a Sid."""
        return f"Statement {self.index}" + (f" ({self.sid})" if self.sid else "")

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

    def principal_entries(self) -> list[Principal]:
        """Every principal the statement names. NotPrincipal in an Allow is any principal."""
        if "NotPrincipal" in self.body and self.effect == "Allow":
            return [Principal("AWS", "*", (*self.path, "NotPrincipal"), not_principal=True)]
        return _principal_entries(self.body.get("Principal"), (*self.path, "Principal"))

    def matches_action(self, action: str) -> bool | None:
        """Whether Action/NotAction covers `action`, whatever the effect; None when unresolved."""
        if "NotAction" in self.body:
            excluded = as_list(self.body["NotAction"])
            if any(isinstance(a, str) and _action_matches(a, action) for a in excluded):
                return False
            return None if any(isinstance(a, Unknown) for a in excluded) else True
        actions = as_list(self.body.get("Action"))
        if any(isinstance(a, str) and _action_matches(a, action) for a in actions):
            return True
        return None if any(isinstance(a, Unknown) for a in actions) else False

    def allows_action(self, action: str) -> bool | None:
        """True/False, or None when the action list cannot be resolved."""
        if self.effect != "Allow":
            return False
        return self.matches_action(action)

    def granting_patterns(self, action: str) -> list[str]:
        """The Action entries that grant `action` (for messages): `sts:*`, `*`, ..."""
        if "NotAction" in self.body:
            return ["NotAction"]
        return [a for a in as_list(self.body.get("Action")) if isinstance(a, str) and _action_matches(a, action)]

    def condition_entries(self) -> Iterator[tuple[str, str, Any]]:
        """(operator, key, values) for each condition, keys lower-cased."""
        for entry in self.conditions()[0]:
            yield entry.operator.text, entry.key.lower(), entry.values if len(entry.values) != 1 else entry.values[0]

    def conditions(self) -> tuple[list[ConditionEntry], Unknown | None]:
        """The Condition block's entries, and the first part of it that could not be resolved."""
        condition = self.body.get("Condition")
        base = (*self.path, "Condition")
        if isinstance(condition, Unknown):
            return [], condition
        if not isinstance(condition, Mapping):
            return [], None
        entries: list[ConditionEntry] = []
        unresolved: Unknown | None = None
        for operator, block in condition.items():
            if isinstance(block, Unknown):
                unresolved = unresolved or block
                continue
            if not isinstance(block, Mapping):
                continue
            op = parse_operator(str(operator))
            for key, values in block.items():
                if _UNRESOLVED_KEY.search(str(key)):
                    unresolved = unresolved or Unknown(f"a condition key of {operator} could not be resolved")
                    continue
                raw = values if isinstance(values, list) else [values]
                entries.append(ConditionEntry(op, str(key), tuple(text_value(v) for v in raw), (*base, str(operator), str(key))))
        return entries, unresolved

    def resources(self) -> tuple[str, list[tuple[Any, Path]]]:
        """("Resource" | "NotResource", [(value, path)])."""
        field = "NotResource" if "NotResource" in self.body else "Resource"
        raw = self.body.get(field)
        if isinstance(raw, list):
            return field, [(v, (*self.path, field, i)) for i, v in enumerate(raw)]
        return field, [] if raw is None else [(raw, (*self.path, field))]


def _principal_entries(principal: Any, base: Path) -> list[Principal]:
    if principal is None:
        return []
    if isinstance(principal, Unknown):
        return [Principal("?", principal, base)]
    if isinstance(principal, str):
        return [Principal("AWS", principal, base)]
    if not isinstance(principal, Mapping):
        return []
    out: list[Principal] = []
    for kind, value in principal.items():
        if isinstance(value, list):
            out.extend(Principal(str(kind), text_value(v), (*base, str(kind), i)) for i, v in enumerate(value))
        elif value is not None:
            out.append(Principal(str(kind), text_value(value), (*base, str(kind))))
    return out


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
class Document:
    """A parsed policy document: its statements and the parts of it that could not be resolved."""

    statements: tuple[Statement, ...]
    unresolved: tuple[tuple[str, Path, Unknown], ...] = ()  # (what, path, why)

    @classmethod
    def of(cls, document: Mapping[str, Any], base: Path = ()) -> Document:
        raw = document.get("Statement")
        if isinstance(raw, Unknown):
            return cls((), (("Statement", (*base, "Statement"), raw),))
        missing = tuple(
            (f"Statement {i}", (*base, "Statement", i), item)
            for i, item in enumerate(raw if isinstance(raw, list) else [])
            if isinstance(item, Unknown)
        )
        return cls(tuple(statements(document, base)), missing)


def load_document(value: Any, base: Path = ()) -> Document | Unknown | None:
    """A Document from a mapping or JSON string; Unknown when unresolved, None when not a document."""
    parsed = parse_document(value)
    if parsed is None or isinstance(parsed, Unknown):
        return parsed
    return Document.of(parsed, base)


# --- accounts and ARNs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """Which account a principal belongs to: `self`, an account id, or None (service, `*`, not an ARN)."""

    id: str | None
    is_self: bool = False


def parse_arn(text: str) -> Any:
    """policyuniverse's ARN, with the template's own account and symbolic pseudo values substituted."""
    from policyuniverse.arn import ARN

    text = text.replace(SELF_ACCOUNT, _SELF_STAND_IN)
    for token, stand_in in _SYMBOLIC.items():
        text = text.replace(token, stand_in)
    return ARN(text)


def principal_account(principal: str) -> Account:
    if SELF_ACCOUNT in principal:
        return Account(None, is_self=True)
    if _ACCOUNT_ID.match(principal):
        return Account(principal)
    arn = parse_arn(principal)
    if arn.error or arn.service or not arn.account_number:
        return Account(None)
    return Account(str(arn.account_number))


# --- grants and requirements ------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """An Allow statement letting one principal call some of the asked actions."""

    statement: Statement
    principal: Principal
    actions: tuple[str, ...]  # the asked actions the statement allows
    actions_unresolved: bool = False  # some asked action may be allowed by an unresolved Action entry


def grants(document: Document, actions: tuple[str, ...] | list[str], kinds: tuple[str, ...] | None = None) -> Iterator[Grant]:
    """Allow statement × principal for the asked actions, minus those an unconditional Deny removes.

    `kinds` keeps principals of those kinds (and entirely unresolved Principal blocks).
    """
    for stmt in document.statements:
        if stmt.effect != "Allow":
            continue
        verdicts = {a: stmt.matches_action(a) for a in actions}
        allowed = tuple(a for a, v in verdicts.items() if v)
        unresolved = any(v is None for v in verdicts.values())
        if not allowed and not unresolved:
            continue
        for principal in stmt.principal_entries():
            if kinds is not None and principal.kind != "?" and principal.kind not in kinds:
                continue
            grant = Grant(stmt, principal, allowed, unresolved)
            if allowed and _denied_outright(document, grant):
                continue
            yield grant


def denied_outright(document: Document, grant: Grant) -> bool:
    """An unconditional Deny of the same document takes the grant away."""
    return _denied_outright(document, grant)


def _denied_outright(document: Document, grant: Grant) -> bool:
    return any(
        "Condition" not in d.body and _deny_covers(d, grant) for d in document.statements if d.effect == "Deny"
    )


def identity_grant(stmt: Statement, actions: tuple[str, ...]) -> Grant:
    """An identity policy's statement as a grant to whoever holds the policy."""
    allowed = tuple(a for a in actions if stmt.matches_action(a))
    return Grant(stmt, Principal(HOLDER, HOLDER, ()), allowed, any(stmt.matches_action(a) is None for a in actions))


HOLDER = "(holder)"  # the principal of an identity policy: whoever it is attached to


def _deny_covers(deny: Statement, grant: Grant) -> bool:
    """A Deny applies to every action of the grant and to its principal."""
    if not grant.actions or not all(deny.matches_action(a) is True for a in grant.actions):
        return False
    principal = grant.principal
    if principal.kind == HOLDER:  # identity policy: a Deny without Principal, on every resource
        return "Principal" not in deny.body and "NotPrincipal" not in deny.body and resource_scope(deny)[0] == "any"
    if principal.unresolved is not None:
        return False
    if "NotPrincipal" in deny.body:
        if principal.is_any:
            return False
        listed = {p.text for p in _principal_entries(deny.body["NotPrincipal"], ())}
        return principal.text not in listed
    for other in deny.principal_entries():
        if other.is_any:
            return True
        if principal.is_any:
            continue
        if other.kind == principal.kind and other.value == principal.value:
            return True
        if other.kind == principal.kind == "AWS" and other.category == "account":
            mine, theirs = principal.account, other.account
            if (mine.id and mine.id == theirs.id) or (mine.is_self and theirs.is_self):
                return True
    return False


@dataclass(frozen=True)
class Requirement:
    """Everything that constrains one condition key for a grant (constraints are ANDed)."""

    key: str
    constraints: tuple[Constraint, ...]
    unresolved: Unknown | None = None  # an unreadable part of a condition, which might have named the key

    @property
    def required(self) -> bool:
        return bool(self.constraints)

    @property
    def valued(self) -> tuple[Constraint, ...]:
        """The constraints that require a value, not mere presence."""
        return tuple(c for c in self.constraints if not c.presence_only)


def requirement(document: Document, grant: Grant, key: str, always_present: bool = False) -> Requirement:
    """What the grant's statement, and the Deny statements covering the grant, require of `key`.

    `always_present` is for keys every request carries (the `aud` and `sub` claims of an OIDC token,
    Cognito's `amr`): `...IfExists` and `ForAllValues:` cannot be satisfied by an absent key there, so
    they constrain the value like their plain operator.
    """
    stmt = grant.statement
    entries, unresolved = stmt.conditions()
    found: list[Constraint] = []
    wanted = key.lower()
    for entry in entries:
        if entry.key.lower() != wanted:
            continue
        op = entry.operator
        presence = op.base == "Null" and not op.qualifier and _all_are(entry.values, "false")
        present_anyway = always_present and bool(op.base) and not op.negated and op.base != "Null"
        if op.requires_key or presence or present_anyway:
            found.append(Constraint(op, entry.key, entry.values, entry.path))
    for deny in document.statements:
        if deny.effect != "Deny" or deny is stmt or not _deny_covers(deny, grant):
            continue
        constraint = _negated_requirement(deny, wanted)
        if constraint is not None:
            found.append(constraint)
    return Requirement(key, tuple(found), unresolved)


def _all_are(values: tuple[Any, ...], text: str) -> bool:
    return bool(values) and all(isinstance(v, str) and v.lower() == text for v in values)


def _negated_requirement(deny: Statement, key: str) -> Constraint | None:
    """The requirement a Deny implies when its only condition entry is the negation of one on `key`."""
    entries, unresolved = deny.conditions()
    if unresolved is not None or len(entries) != 1 or entries[0].key.lower() != key:
        return None
    entry = entries[0]
    op = entry.operator
    if op.qualifier:
        return None
    if op.negated:  # denied unless the key matches one of the values (also when absent, IfExists or not)
        positive = NEGATIONS[op.base]
        return Constraint(ConditionOperator(positive, positive), entry.key, entry.values, entry.path, deny)
    if op.base == "Null" and _all_are(entry.values, "true"):  # denied when absent
        return Constraint(op, entry.key, ("false",), entry.path, deny)
    if op.base == "Bool" and op.if_exists and _all_are(entry.values, "false"):  # denied when absent or false
        return Constraint(ConditionOperator("Bool", "Bool"), entry.key, ("true",), entry.path, deny)
    return None


def unrequired_mentions(stmt: Statement, keys: tuple[str, ...] | list[str]) -> str:
    """A note on conditions that name one of `keys` without requiring it, for messages ("" when none)."""
    wanted = {k.lower() for k in keys}
    notes = []
    for entry in stmt.conditions()[0]:
        op = entry.operator
        if entry.key.lower() not in wanted or op.requires_key:
            continue
        if op.base == "Null":
            continue  # presence requirements are reported as such
        if op.if_exists:
            why = "holds when the key is absent"
        elif op.qualifier == "ForAllValues":
            why = "holds when the key is absent, as ForAllValues of no values is true"
        elif op.negated:
            why = "admits every other value"
        else:
            why = "is not an IAM condition operator"
        notes.append(f"{op.text} {entry.key} {why}")
    return f" ({'; '.join(notes)})" if notes else ""


def requires_mfa(document: Document, grant: Grant) -> bool:
    """The grant needs an MFA-authenticated caller: `Bool aws:MultiFactorAuthPresent true` (not
    BoolIfExists), a numeric bound on aws:MultiFactorAuthAge, or the equivalent Deny."""
    present = requirement(document, grant, "aws:MultiFactorAuthPresent")
    if any(c.operator.base == "Bool" and c.admits("true") and not c.admits("false") for c in present.valued):
        return True
    age = requirement(document, grant, "aws:MultiFactorAuthAge")
    return any(c.operator.base.startswith("NumericLess") for c in age.valued)


# --- values that pin who may act --------------------------------------------------------------------

ORG_KEYS = ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths")
ACCOUNT_KEYS = ("aws:PrincipalAccount", "aws:SourceAccount")
ARN_KEYS = ("aws:PrincipalArn", "aws:SourceArn")
PINNING_KEYS = (*ORG_KEYS, *ACCOUNT_KEYS, *ARN_KEYS)
RESOURCE_PINNING_KEYS = ("aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths")


def pins(key: str, value: str) -> bool:
    """Whether a wildcard pattern for `key` still names one organization, account or ARN.

    (A literal value, under StringEquals, always pins: it matches only itself.)
    """
    from policyuniverse.organization import Organization

    if not has_wildcard(value):
        return bool(value)
    name = key.lower()
    if name in ("aws:principalorgpaths", "aws:resourceorgpaths"):
        org = Organization(value)
        return not org.error and bool(org.organization) and not has_wildcard(org.organization)
    if name in ("aws:principalarn", "aws:sourcearn"):
        arn = parse_arn(value)
        if arn.error:
            return False
        if arn.account_number and _ACCOUNT_ID.match(str(arn.account_number)):
            return True
        if arn.tech == "s3" and not arn.account_number:  # bucket ARNs carry no account; the bucket name pins
            bucket = (arn.name or "").split("/", 1)[0]
            return bool(bucket) and not has_wildcard(bucket)
        return False
    return False  # account ids, org ids: any wildcard admits others


@dataclass(frozen=True)
class PinVerdict:
    pinned: bool
    loose: tuple[Constraint, ...] = ()  # requiring constraints on pinning keys that still admit others
    unresolved: Unknown | None = None


def pinning(document: Document, grant: Grant, keys: tuple[str, ...] = PINNING_KEYS) -> PinVerdict:
    """Whether some requiring condition on `keys` narrows the grant to one org, account or ARN."""
    loose: list[Constraint] = []
    unresolved: Unknown | None = None
    for key in keys:
        req = requirement(document, grant, key)
        unresolved = unresolved or req.unresolved
        for constraint in req.valued:
            if not constraint.operator.wildcards:
                return PinVerdict(True)
            strings = constraint.literal_values()
            if constraint.unresolved is not None:
                unresolved = unresolved or constraint.unresolved
            elif strings and all(pins(key, v) for v in strings):
                return PinVerdict(True)
            else:
                loose.append(constraint)
    return PinVerdict(False, tuple(loose), unresolved)


def resource_scope(stmt: Statement) -> tuple[str, Any, Path]:
    """("any" | "specific" | "unresolved", the offending value or reason, path) for a statement's roles.

    "any" is Resource "*" (or a NotResource), or a role ARN pattern with a wildcard account and role
    name; anything naming an account or a role name is specific. A Reference is a specific resource.
    """
    field, values = stmt.resources()
    if field == "NotResource":
        return "any", "NotResource", (*stmt.path, "NotResource")
    unresolved: tuple[str, Any, Path] | None = None
    for value, path in values:
        if isinstance(value, Reference) and value.target:
            continue
        if isinstance(value, Unknown):
            unresolved = unresolved or ("unresolved", value, path)
            continue
        if isinstance(value, str) and admits_any_role(value):
            return "any", value, path
    return unresolved or ("specific", None, (*stmt.path, field))


def admits_any_role(resource: str) -> bool:
    if resource.strip("*?") == "":
        return True
    arn = parse_arn(resource)
    if arn.error:
        return has_wildcard(resource) and resource.count(":") < 5  # e.g. "arn:*": no account and no name
    account = str(arn.account_number or "")
    name = arn.name or ""
    if account.strip("*?") != "":
        return False
    return name.strip("*?") == "" or (name.startswith("role/") and name[5:].strip("*?") == "")


@cache
def _all_actions() -> frozenset[str]:
    from policyuniverse import all_permissions

    return frozenset(all_permissions)


def expand_action(pattern: str) -> list[str]:
    """The actions an Action entry covers (lower-case), from policyuniverse's catalogue; the entry
    itself when it names nothing the catalogue knows."""
    return list(_expand_action(pattern.lower()))


@cache
def _expand_action(pattern: str) -> tuple[str, ...]:
    if not has_wildcard(pattern):
        return (pattern,)
    return tuple(sorted(a for a in _all_actions() if fnmatchcase(a, pattern))) or (pattern,)


# --- web identity -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """An OIDC issuer as condition keys name it (`token.actions.githubusercontent.com`, ...)."""

    host: str  # issuer without scheme, as condition keys use it
    name: str  # for messages
    subject_claim: str = "sub"
    audience_claim: str = "aud"
    subject_hint: str = "the identity of your workload"
    audience_hint: str = "the client id registered for AWS"
    kind: str = "generic"

    @property
    def subject_key(self) -> str:
        return f"{self.host}:{self.subject_claim}"

    @property
    def audience_key(self) -> str:
        return f"{self.host}:{self.audience_claim}"

    def subject_too_broad(self, pattern: str) -> str | None:
        """Why a StringLike subject pattern admits identities it should not, or None."""
        prefix = literal_prefix(pattern)
        if not has_wildcard(pattern):
            return None
        if self.kind == "github":
            if pattern.startswith("repo:"):
                org = prefix[len("repo:") :]
                if "/" in org and org.split("/", 1)[0]:
                    return None
                if org:
                    return "which admits repositories of other organizations"
                named = pattern[len("repo:") :].split(":", 1)[0]
                return "which admits every repository" if named.strip("*?/") == "" else "which admits repositories of every organization"
            if not prefix:
                return "which admits every repository"
            return None if re.match(r"^[^:]+:[^:/]+[:/]", prefix) else "which does not pin the repository owner"
        if self.kind == "eks":
            if re.match(r"^system:serviceaccount:[^:]+:", prefix):
                return None
            if "system:serviceaccount:".startswith(prefix) or prefix == "system:serviceaccount:":
                return "which admits every service account of the cluster"
            return "which admits service accounts of other namespaces"
        if self.kind == "terraform-cloud":
            return None if re.match(r"^organization:[^:]+:", prefix) else "which admits every Terraform Cloud organization"
        if self.kind == "gitlab":
            return None if re.match(r"^project_path:[^/:]+/", prefix) else "which admits every GitLab project"
        if prefix:
            return None
        return {
            "circleci": "which admits every project of the CircleCI organization",
            "bitbucket": "which admits every repository of the Bitbucket workspace",
        }.get(self.kind, "which admits every identity the provider issues tokens for")


_GITHUB = "token.actions.githubusercontent.com"
_EKS = re.compile(r"^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+$")


def oidc_issuer(host: str) -> Issuer:
    host = re.sub(r"^https://", "", host.strip()).rstrip("/")
    lower = host.lower()
    if lower == _GITHUB or lower.startswith(_GITHUB + "/"):
        return Issuer(host, "GitHub Actions", subject_hint="repo:<org>/<repo>:...", audience_hint="sts.amazonaws.com", kind="github")
    if _EKS.match(lower):
        return Issuer(host, "the EKS cluster", subject_hint="system:serviceaccount:<namespace>:<service-account>", audience_hint="sts.amazonaws.com", kind="eks")
    if lower == "app.terraform.io":
        return Issuer(host, "Terraform Cloud", subject_hint="organization:<org>:project:<project>:workspace:<workspace>:run_phase:*", audience_hint="aws.workload.identity", kind="terraform-cloud")
    if lower == "gitlab.com" or lower.startswith("gitlab."):
        return Issuer(host, "GitLab CI", subject_hint="project_path:<group>/<project>:ref_type:branch:ref:<branch>", audience_hint=f"https://{host}", kind="gitlab")
    if lower.startswith("oidc.circleci.com/org/"):
        return Issuer(host, "CircleCI", subject_hint="org/<org-id>/project/<project-id>/user/*", audience_hint="your CircleCI organization id", kind="circleci")
    if lower.startswith("api.bitbucket.org/2.0/workspaces/"):
        return Issuer(host, "Bitbucket Pipelines", subject_hint="{<repository-uuid>}:*", audience_hint="ari:cloud:bitbucket::workspace/<workspace-uuid>", kind="bitbucket")
    if lower == "graph.facebook.com":
        return Issuer(host, "Facebook", subject_claim="id", audience_claim="app_id", audience_hint="your Facebook app id", subject_hint="the user id")
    if lower == "www.amazon.com":
        return Issuer(host, "Login with Amazon", subject_claim="user_id", audience_claim="app_id", audience_hint="your application id", subject_hint="the user id")
    if lower == "accounts.google.com":
        return Issuer(host, "Google", audience_hint="your OAuth client id", subject_hint="the Google account id")
    return Issuer(host, host)


COGNITO = "cognito-identity.amazonaws.com"
_COGNITO_PRINCIPAL = re.compile(r"^cognito-identity(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$", re.I)


def cognito_issuer(principal: str) -> str | None:
    """The condition-key prefix for a Cognito identity pool principal (China Regions use
    `cognito-identity.amazonaws.com.cn`); None when the principal is not Cognito."""
    if not _COGNITO_PRINCIPAL.match(principal):
        return None
    return COGNITO + ".cn" if principal.lower().endswith(".cn") else COGNITO


def provider_host(principal: str) -> str | None:
    """The issuer host/path of a Federated principal: an oidc-provider ARN or a bare provider host.

    None for SAML providers and for what is not a provider at all.
    """
    if principal.startswith("arn:"):
        arn = parse_arn(principal)
        name = arn.name or ""
        if not arn.error and name.startswith("oidc-provider/"):
            return name[len("oidc-provider/") :]
        # policyuniverse wants a 12-digit account; the provider path is readable without one
        return principal.split(":oidc-provider/", 1)[1] if ":oidc-provider/" in principal else None
    return re.sub(r"^https://", "", principal).rstrip("/") if "." in principal else None


def issuers_in_conditions(stmt: Statement) -> list[str]:
    """Issuer hosts that the statement's requiring condition keys name (`<issuer>:sub`, ...)."""
    found: list[str] = []
    for entry in stmt.conditions()[0]:
        host, _, claim = entry.key.rpartition(":")
        if host and "." in host and claim and entry.operator.requires_key and host.lower() not in (h.lower() for h in found):
            found.append(host)
    return found


# --- kept for callers of the first version -----------------------------------------------------------


def requiring_values(stmt: Statement, key: str) -> list[Any] | None:
    """Values a condition of `stmt` itself requires for `key`, or None when no requiring condition names it."""
    found: list[Any] | None = None
    for entry in stmt.conditions()[0]:
        if entry.key.lower() == key.lower() and entry.operator.requires_key:
            found = (found or []) + list(entry.values)
    return found


def is_wildcard_only(values: list[Any]) -> bool:
    return bool(values) and all(isinstance(v, str) and v.strip("*?") == "" for v in values)
