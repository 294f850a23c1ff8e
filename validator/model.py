"""The normalized model every stage shares: frozen data, no behaviour beyond small helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class Format(StrEnum):
    CLOUDFORMATION = "cloudformation"
    TERRAFORM = "terraform"
    TERRAFORM_PLAN = "terraform-plan"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1}


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not applicable, or a value we could not resolve
    ERROR = "error"  # our own failure while evaluating; the run goes on


class FileStatus(StrEnum):
    SCANNED = "scanned"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be resolved statically. Never a violation."""

    reason: str = "unresolved"

    def __str__(self) -> str:
        return f"<unknown: {self.reason}>"


@dataclass(frozen=True)
class Reference(Unknown):
    """A reference to another resource (`!Ref X`, `!GetAtt X.Arn`, `aws_iam_role.x.arn`).

    Its value is unknown until deploy, but its target is known, so relations can be followed.
    """

    target: str = ""
    attribute: str | None = None


# The template's own account. CloudFormation `${AWS::AccountId}` and Terraform
# `data.aws_caller_identity.*.account_id` resolve to this token inside strings.
SELF_ACCOUNT = "${AWS::AccountId}"


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


Path = tuple[str | int, ...]


def path_str(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Resource:
    format: Format
    type: str
    id: str  # logical id or Terraform address
    properties: Mapping[str, Any]
    location: Location
    # Line of each property path (tuple of keys/indexes) where the loader knows it.
    lines: Mapping[Path, int] = field(default_factory=dict, compare=False)
    metadata: Mapping[str, Any] = field(default_factory=dict)  # CloudFormation resource Metadata
    # The choices this resolution was made under, when the resource has several (see
    # Template.variants): ((condition, "true"|"false") | ("parameter X", value), ...).
    variant: tuple[tuple[str, str], ...] = ()
    # Where the resource comes from when its id alone does not say it: a CDK construct path
    # (MyStack/AppRole/Resource), the SAM resource it was generated from, a parent stack.
    origin: str = ""

    def line_of(self, path: Path) -> int | None:
        """Line of the deepest known ancestor of `path`, else the resource's own line."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line:
                return line
        return self.location.line


# Types that are not AWS resources: template parameters/outputs, Terraform variables, outputs,
# data sources and provider blocks. Policies may match them; counts of resources leave them out.
PSEUDO_TYPES = frozenset({"AWS::CloudFormation::Parameter", "AWS::CloudFormation::Output", "variable", "output"})


def is_pseudo(resource_type: str) -> bool:
    return resource_type in PSEUDO_TYPES or resource_type.startswith(("data.", "provider."))


@dataclass(frozen=True)
class Template:
    """One loaded input: a CloudFormation template or a Terraform module directory."""

    format: Format
    path: str  # file or module directory, as given relative to the scan root
    resources: tuple[Resource, ...]
    files: tuple[str, ...]  # the files this template was read from
    # Logical id → its resolutions under each consistent choice of conditions / allowed parameter
    # values, when they differ (CloudFormation Fn::If, Condition). `resources` holds the one
    # resolution valid for all choices (Unknown where they differ).
    variants: Mapping[str, tuple[Resource, ...]] = field(default_factory=dict)
    # Resource id → relation name → target ids, resolved once by the loader
    # (instance_profile, roles, role, secret, rotation, groups, users, group, identity_pool).
    relations: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    notes: tuple[Finding, ...] = ()  # the loader's own findings: a failed SAM transform, cfn-lint errors


@dataclass(frozen=True)
class LoadError:
    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class FileRecord:
    path: str
    status: FileStatus
    format: Format | None = None
    reason: str = ""
    resources: int = 0


@dataclass(frozen=True)
class Remediation:
    text: str
    cloudformation: str = ""
    terraform: str = ""


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    severity: Severity
    group: str
    rationale: str
    remediation: Remediation
    references: tuple[str, ...]
    params: Mapping[str, Any]
    match: Mapping[str, Mapping[str, Any]]  # format -> {types, fields}
    check: Mapping[str, Any]  # the assertion tree, as validated by the policy schema
    examples: tuple[Mapping[str, Any], ...]
    source: str  # the policy file
    param_descriptions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    policy_id: str
    title: str
    severity: Severity
    outcome: Outcome  # FAIL, SKIP (unresolved) or ERROR
    message: str
    resource_id: str
    resource_type: str
    format: Format
    location: Location
    remediation: str = ""
    # The waiver that names this finding: active when the finding is in Report.waived; when
    # `waiver_expired` the waiver's date has passed and the finding fails again.
    waiver: Waiver | None = None
    waiver_expired: bool = False
    # For a resource inside a local Terraform module: the module calls that reach it, outermost
    # first, each "file:line module.name". Shown with the finding; not part of its identity.
    called_from: tuple[str, ...] = field(default=(), compare=False)

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (self.location.file, self.location.line or 0, self.resource_id, self.policy_id, self.message)


@dataclass(frozen=True)
class InventoryEntry:
    """One long-term credential, or one way in to a role (see validator/inventory.py)."""

    kind: str  # iam-user, access-key, login-profile, static-provider-key, hard-coded-key, ..., role-trust
    resource_id: str
    resource_type: str
    location: Location
    detail: str
    attributes: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (self.kind, self.location.file, self.location.line or 0, self.resource_id, self.detail)


class WaiverSource(StrEnum):
    INLINE = "inline"  # CloudFormation resource Metadata or a Terraform comment
    CONFIG = "config"  # the `waivers:` list of the repository configuration


class WaiverStatus(StrEnum):
    ACTIVE = "active"  # in date and waives at least one finding
    EXPIRED = "expired"  # its date has passed: what it named fails again
    STALE = "stale"  # in date but matches no failing finding


@dataclass(frozen=True)
class Waiver:
    """A temporary, justified exception: policy `policy_id` does not count against the named resources."""

    policy_id: str  # exact id; in the config file also a glob (`TRUST-*`)
    reason: str
    expires: date | None  # last day it works; None only when the config allows open-ended waivers
    source: WaiverSource
    location: Location  # where the waiver is written
    owner: str = ""
    resources: tuple[str, ...] = ()  # inline: the resource ids of the block or resource it sits on
    resource_glob: str = ""  # config: resource id or address glob ("" = any)
    path_glob: str = ""  # config: file glob relative to the config file's directory ("" = any)

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class WaiverUse:
    """A waiver as one run judged it."""

    waiver: Waiver
    status: WaiverStatus
    matches: int  # failing findings it names (waived, or failing again when expired)


@dataclass(frozen=True)
class BaselineEntry:
    """One known finding in a baseline file. Matched by fingerprint (never by line)."""

    fingerprint: str
    policy_id: str
    file: str
    resource_id: str
    message: str


@dataclass(frozen=True)
class ScopeEntry:
    path: str
    reason: str  # "changed", "same Terraform module as x.tf", "parent stack of child.yaml", ...


@dataclass(frozen=True)
class Scope:
    """What a `--changed-since REF` run looked at, and why."""

    since: str
    changed: tuple[str, ...]  # files git reports changed (deleted ones included)
    scanned: tuple[ScopeEntry, ...]  # the paths handed to discovery


@dataclass(frozen=True)
class Score:
    value: int
    grade: str
    counts: Mapping[str, int]  # failing findings per severity


@dataclass(frozen=True)
class Report:
    tool_version: str
    files: tuple[FileRecord, ...]
    findings: tuple[Finding, ...]  # failing findings, sorted
    unresolved: tuple[Finding, ...]  # SKIP outcomes caused by unknown values
    errors: tuple[LoadError, ...]
    policies: tuple[Policy, ...]
    passed: int  # (policy, resource) pairs that passed
    score: Score
    file_scores: Mapping[str, Score]
    resources_scanned: int
    gate_passed: bool
    gate_reasons: tuple[str, ...]
    fail_on: Severity | None
    fail_under: int | None
    inventory: tuple[InventoryEntry, ...] = ()
    passes: tuple[Finding, ...] = ()  # each pass, outcome PASS, when the run kept them (Config.keep_passes)
    waived: tuple[Finding, ...] = ()  # FAIL findings an active waiver covers; not scored, not gated
    baselined: tuple[Finding, ...] = ()  # FAIL findings already in the baseline; not scored, not gated
    fixed: tuple[BaselineEntry, ...] = ()  # baseline entries of scanned files that no longer fail
    waivers: tuple[WaiverUse, ...] = ()  # every waiver seen, with its status
    baseline: str | None = None  # the baseline file compared against
    scope: Scope | None = None  # set in changed-files mode
    # (units read from the result cache, units): how the run went, not what it found.
    from_cache: tuple[int, int] = field(default=(0, 0), compare=False)

    @property
    def stale_waivers(self) -> tuple[WaiverUse, ...]:
        return tuple(u for u in self.waivers if u.status is WaiverStatus.STALE)

    @property
    def expired_waivers(self) -> tuple[WaiverUse, ...]:
        return tuple(u for u in self.waivers if u.status is WaiverStatus.EXPIRED)
