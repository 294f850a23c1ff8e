"""AWS credentials in text: precise detection, and the one masking function every output goes through.

Access key ids are recognised by their documented prefixes and length. A 40-character secret
access key is only reported when something says it is one: a key name such as
`aws_secret_access_key` next to it, or an access key id in the same text; and its characters must
look random (an entropy floor), so hashes and words are not flagged. AWS's documented example keys
(`...EXAMPLE`, `...EXAMPLEKEY`) are still reported, marked as examples.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from enum import Enum
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from validator.model import Finding

if TYPE_CHECKING:
    from validator.model import Report

# AKIA long-term user keys, ASIA temporary (STS) keys, ABIA STS bearer tokens, ACCA context-specific.
ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])")
# Unique ids of users/roles (AIDA/AROA) are not secrets but are masked the same way in outputs.
_MASKED_IDS = re.compile(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{16})(?![A-Z0-9])")
SECRET_ACCESS_KEY = re.compile(r"(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])")
SECRET_KEY_NAME = re.compile(r"secret[_ -]?(access[_ -]?)?key|aws[_-]?secret|secretkey", re.I)
ENTROPY_FLOOR = 3.5  # bits per character; random base64 is ~5, English words ~3


@dataclass(frozen=True)
class Credential:
    kind: str  # "access key id" | "secret access key"
    masked: str
    example: bool  # one of AWS's documented example keys

    def describe(self) -> str:
        note = " (AWS's documented example key; still replace it)" if self.example else ""
        return f"{self.kind} {self.masked}{note}"


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values()) if text else 0.0


_PATH_SEGMENT = re.compile(r"(?:[a-z]+|[A-Z]+|[A-Z][a-z]+)(?:[A-Z][a-z]+)*[0-9]*|[0-9]*")


def _mixed(value: str) -> bool:
    """A 40-character run shaped like a secret access key: mixed case with digits or `/`, and
    not a file path (`/check/work/main/fixtures/policies/GUARD` is 40 characters of the same
    alphabet). A path's segments are words (lower, UPPER or CamelCase) with digits only at the end;
    among 1,000,000 random keys the path rule excused none that the case/digit rule kept."""
    if not (re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"[0-9/+]", value)):
        return False
    segments = value.split("/")
    return len(segments) < 3 or not all(_PATH_SEGMENT.fullmatch(s) for s in segments)


def find_credentials(text: str, key_name: str = "") -> list[Credential]:
    """AWS credentials in `text`; `key_name` is the name the text is stored under, if any."""
    found: list[Credential] = []
    key_ids = ACCESS_KEY_ID.findall(text)
    for key_id in key_ids:
        found.append(Credential("access key id", mask(key_id), key_id.endswith("EXAMPLE")))
    named = bool(SECRET_KEY_NAME.search(key_name)) or bool(SECRET_KEY_NAME.search(text))
    if named or key_ids:
        for candidate in SECRET_ACCESS_KEY.findall(text):
            if _mixed(candidate) and entropy(candidate) >= ENTROPY_FLOOR:
                found.append(Credential("secret access key", mask(candidate), "EXAMPLE" in candidate))
    return found


def _mask_key(m: re.Match[str]) -> str:
    return m.group(1)[:4] + "*" * 16


def _mask_secret(m: re.Match[str]) -> str:
    value = m.group(1)
    # A 40-character run is only secret-shaped when it mixes cases and digits (not a hex digest or word).
    return value[:4] + "*" * 36 if _mixed(value) else value


def mask(text: str) -> str:
    """Mask every access key id and secret-access-key-shaped run in `text`."""
    return SECRET_ACCESS_KEY.sub(_mask_secret, _MASKED_IDS.sub(_mask_key, text))


# --- secrets found in templates, masked wherever they show up -----------------------------------

# Names under which a literal is a secret whatever it looks like (a password has no shape).
_SECRET_NAME = re.compile(
    r"passw(?:or)?d|passphrase|secret[_ -]?(?:access[_ -]?)?key|secretkey|auth[_ -]?token|api[_ -]?key|private[_ -]?key"
    r"|session[_ -]?token|client[_ -]?secret|secret[_ -]?string",
    re.I,
)
# ... unless the name says the value is about the secret, not the secret itself.
_NOT_SECRET_NAME = re.compile(r"arn|name|id$|length|policy|rotation|reset|required|manage|kms|type|version", re.I)
_DYNAMIC = re.compile(r"^\{\{resolve:")
MIN_SECRET_LENGTH = 8  # shorter literals are not masked by value (too many innocent matches)
_MAX_WALK = 64


def found_secrets(value: Any, name: str = "", sensitive: bool = False) -> set[str]:
    """The literal secrets in a loaded value tree: strings stored under a secret's name
    (password, secret key, token...) or marked sensitive. A password has no shape that `mask`
    could find, so the scan masks these values by value, wherever else they appear. (Access key
    ids and secret access keys have a shape: `mask` finds them anywhere.)"""
    out: set[str] = set()
    stack: list[tuple[Any, str, int]] = [(value, name, 0)]
    while stack:
        node, key, depth = stack.pop()
        if isinstance(node, str):
            if (sensitive or _secret_name(key)) and len(node) >= MIN_SECRET_LENGTH and "\n" not in node and not _DYNAMIC.match(node):
                out.add(node)
        elif depth > _MAX_WALK:
            continue
        elif isinstance(node, Mapping):
            stack.extend((v, str(k), depth + 1) for k, v in node.items())
        elif isinstance(node, list | tuple):
            stack.extend((v, key, depth + 1) for v in node)
    return out


@lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def template_secrets(resources: Iterable[Any]) -> set[str]:
    """`found_secrets` of every resource of a template (model.Resource): its properties and
    metadata. A parameter with NoEcho, a variable with `sensitive = true`, or one named like a
    secret, holds a secret in its default value."""
    out: set[str] = set()
    for r in resources:
        props = r.properties if isinstance(r.properties, Mapping) else {}
        out |= found_secrets([props, r.metadata])
        if r.type in ("AWS::CloudFormation::Parameter", "variable"):
            hidden = _truthy(props.get("NoEcho")) or _truthy(props.get("sensitive"))
            for key in ("Default", "default", "value"):
                if key in props:
                    out |= found_secrets(props[key], r.id, hidden)
    return out


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


class Masker:
    """`mask` plus the exact secret values a scan found (`found_secrets`), wherever they appear:
    in file names, resource ids, parse errors, policy messages. Keys keep their first four
    characters, like `mask`; other secrets become eight stars."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values = {v: _hidden(v) for v in values if isinstance(v, str) and len(v) >= 4}
        ordered = sorted(self.values, key=lambda v: (-len(v), v))
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        self._cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        cached = self._cache.get(text)
        if cached is None:
            cached = text
            if self._pattern is not None:
                cached = self._pattern.sub(lambda m: self.values[m.group(0)], cached)
            cached = mask(cached)
            if len(self._cache) < 100_000:
                self._cache[text] = cached
        return text if cached == text else cached  # unchanged: the very object given (callers test identity)


def _hidden(value: str) -> str:
    if ACCESS_KEY_ID.fullmatch(value) or (len(value) == 40 and SECRET_ACCESS_KEY.fullmatch(value)):
        return value[:4] + "*" * (len(value) - 4)
    return "*" * 8


def mask_value(value: Any, masker: Callable[[str], str] = mask) -> Any:
    """Every string inside `value` (frozen dataclasses, tuples, lists, mappings, their keys
    too) through `masker`. Enums, dates and numbers are kept as they are; an object in which
    nothing changes is returned as it is (cheap on a report of thousands of findings)."""
    if isinstance(value, str):
        return value if isinstance(value, Enum) else masker(value)
    if value is None or isinstance(value, int | float | Enum):
        return value
    if isinstance(value, tuple | list):
        if value and all(type(v) is Finding for v in value):
            return _mask_findings(value, masker)
        items = [mask_value(v, masker) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, Mapping):
        pairs = [(mask_value(k, masker), mask_value(v, masker)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    if is_dataclass(value) and not isinstance(value, type):
        # A finding's title, severity, remediation and policy id come from the policy, not the template.
        return _mask_dataclass(value, masker, _FINDING_FIELDS if type(value) is Finding else _field_names(type(value)))
    return value


_FINDING_FIELDS = ("message", "resource_id", "resource_type", "location", "waiver", "called_from")


def _mask_findings(findings: list[Finding] | tuple[Finding, ...], masker: Callable[[str], str]) -> Any:
    """Thousands of findings (passes included) share a few hundred strings: each distinct one is
    masked once, and only the findings holding one that changes are rebuilt."""
    strings = {s for f in findings for s in (f.message, f.resource_id, f.resource_type, f.location.file, *f.called_from)}
    changed = {s for s in strings if masker(s) is not s}
    if not changed and all(f.waiver is None for f in findings):
        return findings
    out = [
        _mask_dataclass(f, masker, _FINDING_FIELDS)
        if f.waiver is not None or not changed.isdisjoint((f.message, f.resource_id, f.resource_type, f.location.file, *f.called_from))
        else f
        for f in findings
    ]
    if all(a is b for a, b in zip(out, findings, strict=True)):
        return findings
    return tuple(out) if isinstance(findings, tuple) else out


def _mask_dataclass(value: Any, masker: Callable[[str], str], names: tuple[str, ...]) -> Any:
    changed = {}
    for name in names:
        old = getattr(value, name)
        new = mask_value(old, masker)
        if new is not old:
            changed[name] = new
    return replace(value, **changed) if changed else value


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def mask_report(report: Report, masker: Callable[[str], str] = mask, skip: Iterable[str] = ()) -> Report:
    """The report with every secret masked, in every field any reporter shows. The policy set,
    which comes from policy files and not from templates, is left as it is, and so are the
    fields named in `skip` (masked already)."""
    left = {"policies", *skip}
    changes = {f.name: mask_value(getattr(report, f.name), masker) for f in fields(report) if f.name not in left}
    return replace(report, **changes)
