"""Waivers and baselines: the stage between evaluate and scoring.

Pure functions over frozen data: no I/O, no clock, no environment. Today's date is an argument.

Waivers are temporary, justified exceptions, written in three places:
- CloudFormation: resource `Metadata: {iac-validator: {waivers: [{id, reason, expires, owner}]}}`;
- Terraform: a comment on or above a block or one of its attributes,
  `# iac-validator:waive TRUST-001 expires=2027-03-31 reason="vendor X migrating" owner=team-x`
  (`//` comments too); it names the resource(s) of that block;
- the configuration file's `waivers:` list, by policy id + resource and/or path glob.

A reason is required, an expiry date too unless the configuration allows open-ended waivers; a
malformed waiver is an error with file:line and waives nothing. From the day after its expiry the
waiver stops working and the finding fails again, marked with the waiver that expired. A waiver
that names no failing finding is stale.

A baseline is the list of failing findings at some moment, identified by `fingerprint` (policy +
file + resource + normalised message, never the line): with one, only findings not in it count.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from fnmatch import fnmatchcase
from typing import Any

from validator import globs
from validator.fingerprint import fingerprint, relative_path
from validator.model import (
    BaselineEntry,
    Finding,
    LoadError,
    Location,
    Outcome,
    Resource,
    Waiver,
    WaiverSource,
    WaiverStatus,
    WaiverUse,
)
from validator.secrets import mask

MARK = "iac-validator:waive"
METADATA_KEY = "iac-validator"
INLINE_KEYS = ("id", "reason", "expires", "owner")
CONFIG_KEYS = (*INLINE_KEYS, "resource", "path")
BASELINE_VERSION = 1

_POLICY_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[0-9]{3}$")
_POLICY_GLOB = re.compile(r"^[A-Za-z0-9*?\[\]!-]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOKEN = re.compile(r"""(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|["'].*|[^\s"']\S*|)|(\S+)""")


# --- one waiver ---------------------------------------------------------------------------------


def parse_expiry(value: Any) -> tuple[date | None, str | None]:
    """(date, None) or (None, problem). Accepts a YAML date or a YYYY-MM-DD string."""
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()), None
        except ValueError:
            pass
    return None, f"expires {str(value)!r} is not a date (YYYY-MM-DD)"


def make_waiver(
    fields: Mapping[str, Any],
    source: WaiverSource,
    location: Location,
    allow_open_ended: bool = False,
    resources: tuple[str, ...] = (),
) -> tuple[Waiver | None, LoadError | None]:
    """A checked waiver, or the error that says what is wrong with it (and it waives nothing)."""
    problems: list[str] = []
    allowed = CONFIG_KEYS if source is WaiverSource.CONFIG else INLINE_KEYS
    unknown = [str(k) for k in fields if k not in allowed]
    if unknown:
        problems.append(f"unknown key {', '.join(sorted(unknown))} (allowed: {', '.join(allowed)})")
    policy_id = fields.get("id")
    if not isinstance(policy_id, str) or not policy_id.strip():
        problems.append("no policy id (id: TRUST-001)")
        policy_id = ""
    else:
        policy_id = policy_id.strip().upper()
        pattern = _POLICY_GLOB if source is WaiverSource.CONFIG else _POLICY_ID
        if not pattern.match(policy_id):
            problems.append(f"{policy_id!r} is not a policy id such as TRUST-001")
    reason = fields.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append("no reason (a waiver must say why)")
        reason = ""
    expires: date | None = None
    raw = fields.get("expires")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if not allow_open_ended:
            problems.append(
                "no expiry date (expires: YYYY-MM-DD); open-ended waivers need "
                "allow_open_ended_waivers: true in the configuration"
            )
    else:
        expires, problem = parse_expiry(raw)
        if problem:
            problems.append(problem)
    owner = fields.get("owner", "")
    if not isinstance(owner, str):
        problems.append("owner must be text")
        owner = ""
    globs_: dict[str, str] = {}
    if source is WaiverSource.CONFIG:
        for key in ("resource", "path"):
            value = fields.get(key, "")
            if not isinstance(value, str):
                problems.append(f"{key} must be a glob string")
                value = ""
            globs_[key] = value.strip()
        if not globs_["resource"] and not globs_["path"]:
            problems.append("name a resource and/or a path glob (a waiver for everything is `policies: disable:`)")
    if problems:
        return None, LoadError(location.file, "malformed waiver: " + "; ".join(problems), location.line)
    return (
        Waiver(
            policy_id=policy_id,
            reason=mask(" ".join(reason.split())),
            expires=expires,
            source=source,
            location=location,
            owner=mask(owner.strip()),
            resources=resources,
            resource_glob=globs_.get("resource", ""),
            path_glob=globs_.get("path", ""),
        ),
        None,
    )


def describe(w: Waiver) -> str:
    """`TRUST-001 until 2027-03-31 (owner team-x): reason`, for text outputs."""
    until = f"until {w.expires.isoformat()}" if w.expires else "open-ended"
    owner = f", owner {w.owner}" if w.owner else ""
    return f"{w.policy_id} {until}{owner}: {w.reason}"


def target(w: Waiver) -> str:
    """What a waiver names: resource ids (inline) or its globs (config)."""
    if w.source is WaiverSource.INLINE:
        return ", ".join(w.resources) or "(no resource)"
    parts = [f"resource {w.resource_glob}" if w.resource_glob else "", f"path {w.path_glob}" if w.path_glob else ""]
    return " and ".join(p for p in parts if p)


# --- inline waivers: CloudFormation Metadata ----------------------------------------------------


def cloudformation_waivers(
    resource: Resource, text: str | None, allow_open_ended: bool = False
) -> tuple[list[Waiver], list[LoadError]]:
    """Waivers in `Metadata: {iac-validator: {waivers: [...]}}` of one resource."""
    node = resource.metadata.get(METADATA_KEY) if isinstance(resource.metadata, Mapping) else None
    if node is None:
        return [], []
    file = resource.location.file
    lines = text.splitlines() if text else []
    key_line = _line_after(lines, resource.location.line, re.compile(re.escape(METADATA_KEY))) or resource.location.line
    here = Location(file, key_line)
    if not isinstance(node, Mapping) or not isinstance(node.get("waivers"), list):
        return [], [LoadError(file, f"malformed waiver: Metadata.{METADATA_KEY} must be a mapping with a waivers list", key_line)]
    unknown = sorted(str(k) for k in node if k != "waivers")
    errors = [LoadError(file, f"malformed waiver: unknown key Metadata.{METADATA_KEY}.{', '.join(unknown)}", key_line)] if unknown else []
    waivers: list[Waiver] = []
    entry_line = key_line
    id_key = re.compile(r"""(?:^|[\s{,\-])["']?id["']?\s*:""")
    for i, item in enumerate(node["waivers"]):
        entry_line = _line_after(lines, (entry_line or 0) + (1 if i else 0), id_key) or here.line
        if not isinstance(item, Mapping):
            errors.append(LoadError(file, f"malformed waiver: waivers[{i}] must be a mapping (id, reason, expires)", entry_line))
            continue
        waiver, error = make_waiver(item, WaiverSource.INLINE, Location(file, entry_line), allow_open_ended, (resource.id,))
        if error:
            errors.append(error)
        elif waiver:
            waivers.append(waiver)
    return waivers, errors


def _line_after(lines: list[str], start: int | None, pattern: re.Pattern[str]) -> int | None:
    """First 1-based line at or after `start` matching `pattern`."""
    for n in range(max(start or 1, 1), len(lines) + 1):
        if pattern.search(lines[n - 1]):
            return n
    return None


# --- inline waivers: Terraform comments ---------------------------------------------------------


@dataclass(frozen=True)
class _Comment:
    line: int
    body: str  # the text after the mark


def parse_comment(body: str) -> tuple[list[str], dict[str, str], list[str]]:
    """`TRUST-001,SESSION-001 expires=2027-03-31 reason="..."` → (ids, fields, problems)."""
    ids: list[str] = []
    fields: dict[str, str] = {}
    problems: list[str] = []
    for m in _TOKEN.finditer(body):
        key, value, bare = m.group(1), m.group(2), m.group(3)
        if bare is not None:
            ids.extend(part for part in bare.split(",") if part)
            continue
        if key in fields:
            problems.append(f"{key} given twice")
        if value[:1] in ('"', "'") and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"')
        elif value[:1] in ('"', "'"):
            problems.append(f"{key}: unterminated quote")
        fields[key] = value
    return ids, fields, problems


def terraform_waivers(
    file: str, text: str, resources: Iterable[Resource], allow_open_ended: bool = False
) -> tuple[list[Waiver], list[LoadError]]:
    """Waiver comments of one .tf file. A comment at the end of a line names that line; one on its
    own line names the next line of code; the waiver applies to the resource(s) of the block that
    line belongs to (its header or one of its attributes)."""
    if MARK not in text:
        return [], []
    comments, blocks = _comments_and_blocks(text)
    if comments is None:
        return [], []  # not parseable: the loader already reported the file
    lines = text.splitlines()
    by_line: dict[int, list[str]] = {}
    for r in resources:
        if _same_file(r.location.file, file) and r.location.line:
            by_line.setdefault(r.location.line, []).append(r.id)
    waivers: list[Waiver] = []
    errors: list[LoadError] = []
    for comment in comments:
        where = Location(file, comment.line)
        ids, fields, problems = parse_comment(comment.body)
        if not ids:
            problems.append("no policy id (# iac-validator:waive TRUST-001 expires=... reason=\"...\")")
        if problems:
            errors.append(LoadError(file, "malformed waiver: " + "; ".join(problems), comment.line))
            continue
        code_line = _code_line(lines, comment.line)
        block = next((b for b in blocks if code_line is not None and b[0] <= code_line <= b[1]), None)
        names = tuple(by_line.get(block[0], ())) if block else ()
        found: list[Waiver] = []
        failed: list[LoadError] = []
        for policy_id in ids:
            waiver, error = make_waiver({**fields, "id": policy_id}, WaiverSource.INLINE, where, allow_open_ended, names)
            if error and error not in failed:
                failed.append(error)
            elif waiver:
                found.append(waiver)
        if failed:  # one bad part spoils the whole comment: it waives nothing
            errors.extend(failed)
        else:
            waivers.extend(found)
    return waivers, errors


def _comments_and_blocks(text: str) -> tuple[list[_Comment] | None, list[tuple[int, int]]]:
    """Waiver comments (from the parser's comment tokens, so strings and heredocs never count) and
    the line span of every top-level block."""
    from hcl2 import parses_to_tree
    from lark import Token, Tree

    try:
        tree = parses_to_tree(text if text.endswith("\n") else text + "\n")
    except Exception:  # the loader reports syntax errors
        return None, []
    comments: list[_Comment] = []
    for sub in tree.iter_subtrees():
        if sub.data != "new_line_or_comment":
            continue
        for token in sub.children:
            if not isinstance(token, Token) or MARK not in token or token.line is None:
                continue
            for offset, part in enumerate(str(token).split("\n")):
                at = part.find(MARK)
                if at >= 0:
                    body = part[at + len(MARK) :].strip()
                    comments.append(_Comment(token.line + offset, body.removesuffix("*/").strip()))
    body = tree.children[0] if tree.children and isinstance(tree.children[0], Tree) else tree
    blocks = [
        (node.meta.line, node.meta.end_line)
        for node in body.children
        if isinstance(node, Tree) and node.data == "block" and not node.meta.empty
    ]
    return sorted(comments, key=lambda c: c.line), blocks


def _code_line(lines: list[str], comment_line: int) -> int | None:
    """The line a comment names: its own line when code precedes it, else the next line of code."""
    raw = lines[comment_line - 1] if 0 < comment_line <= len(lines) else ""
    if not _is_comment_or_blank(raw):
        return comment_line
    for n in range(comment_line + 1, len(lines) + 1):
        if not _is_comment_or_blank(lines[n - 1]):
            return n
    return None


def _is_comment_or_blank(raw: str) -> bool:
    stripped = raw.strip()
    return not stripped or stripped.startswith(("#", "//", "/*", "*"))


def _same_file(a: str, b: str) -> bool:
    return os.path.normpath(a) == os.path.normpath(b)


# --- applying waivers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Waived:
    findings: tuple[Finding, ...]  # every input finding except the waived ones; expired ones marked
    waived: tuple[Finding, ...]  # FAIL findings an active waiver covers, each carrying its waiver
    uses: tuple[WaiverUse, ...]  # every waiver with its status and match count


def same_resource(finding_id: str, resource_id: str) -> bool:
    """A finding names its resource by id, or by id plus where it comes from when loaders add it
    (`module.a.aws_iam_role.x (root/main.tf:1 module.a)`, `AppRole (MyStack/AppRole/Resource)`)."""
    return finding_id == resource_id or finding_id.startswith(resource_id + " (")


def waiver_matches(w: Waiver, f: Finding, base_dir: str | None = None) -> bool:
    if w.source is WaiverSource.INLINE:
        return (
            f.policy_id.upper() == w.policy_id
            and any(same_resource(f.resource_id, r) for r in w.resources)
            and _same_file(f.location.file, w.location.file)
        )
    if not fnmatchcase(f.policy_id.upper(), w.policy_id):
        return False
    if (
        w.resource_glob
        and not same_resource(f.resource_id, w.resource_glob)
        and not fnmatchcase(f.resource_id, w.resource_glob)
        and not fnmatchcase(f.resource_id.split(" (", 1)[0], w.resource_glob)
    ):
        return False
    return not w.path_glob or globs.matches(globs.relative_to(f.location.file, base_dir), w.path_glob)


def apply_waivers(
    findings: Sequence[Finding], waivers: Sequence[Waiver], today: date, base_dir: str | None = None
) -> Waived:
    """Split off the FAIL findings an in-date waiver names. A finding whose only waivers have
    expired stays failing, marked with the waiver that expired last."""
    counts: Counter[int] = Counter()
    kept: list[Finding] = []
    waived: list[Finding] = []
    for f in findings:
        if f.outcome is not Outcome.FAIL or not waivers:
            kept.append(f)
            continue
        named = [i for i, w in enumerate(waivers) if waiver_matches(w, f, base_dir)]
        counts.update(named)
        active = [i for i in named if not waivers[i].expired(today)]
        if active:
            waived.append(replace(f, waiver=waivers[active[0]], waiver_expired=False))
        elif named:
            last = max(named, key=lambda i: waivers[i].expires or date.min)
            kept.append(replace(f, waiver=waivers[last], waiver_expired=True))
        else:
            kept.append(f)
    uses = tuple(
        WaiverUse(
            w,
            WaiverStatus.EXPIRED if w.expired(today) else WaiverStatus.ACTIVE if counts[i] else WaiverStatus.STALE,
            counts[i],
        )
        for i, w in enumerate(waivers)
    )
    return Waived(tuple(kept), tuple(waived), uses)


# --- baselines ----------------------------------------------------------------------------------


def baseline_entries(findings: Iterable[Finding]) -> tuple[BaselineEntry, ...]:
    """The FAIL findings as baseline entries, in a stable order (duplicates kept: they count)."""
    entries = [
        BaselineEntry(fingerprint(f), f.policy_id, relative_path(f.location.file), f.resource_id, mask(f.message))
        for f in findings
        if f.outcome is Outcome.FAIL
    ]
    return tuple(sorted(entries, key=lambda e: (e.file, e.resource_id, e.policy_id, e.fingerprint, e.message)))


def dump_baseline(entries: Iterable[BaselineEntry], tool_version: str) -> str:
    doc = {
        "version": BASELINE_VERSION,
        "tool": {"name": "iac-validator", "version": tool_version},
        "about": "Known findings: `iac-validator scan --baseline FILE` fails only on findings not listed here. "
        "Entries match by fingerprint (policy, file, resource, message without numbers), never by line.",
        "findings": [
            {"fingerprint": e.fingerprint, "policy_id": e.policy_id, "file": e.file, "resource": e.resource_id, "message": e.message}
            for e in entries
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def load_baseline(text: str, source: str) -> tuple[tuple[BaselineEntry, ...] | None, LoadError | None]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, LoadError(source, f"baseline is not JSON: {exc.msg}", exc.lineno)
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        return None, LoadError(source, "baseline must be an object with a findings list (write one with --baseline-write)")
    if doc.get("version") != BASELINE_VERSION:
        return None, LoadError(source, f"baseline version {doc.get('version')!r} is not supported (expected {BASELINE_VERSION})")
    entries: list[BaselineEntry] = []
    for i, item in enumerate(doc["findings"]):
        fields = ("fingerprint", "policy_id", "file", "resource", "message")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in fields):
            return None, LoadError(source, f"baseline findings[{i}] needs the string fields {', '.join(fields)}")
        entries.append(BaselineEntry(item["fingerprint"], item["policy_id"], item["file"], item["resource"], item["message"]))
    return tuple(entries), None


@dataclass(frozen=True)
class Baselined:
    findings: tuple[Finding, ...]  # input findings minus the baselined ones
    baselined: tuple[Finding, ...]  # FAIL findings that are in the baseline
    fixed: tuple[BaselineEntry, ...]  # entries of scanned files that no longer fail


def apply_baseline(
    findings: Sequence[Finding],
    baseline: Sequence[BaselineEntry],
    scanned_files: Iterable[str],
    waived: Sequence[Finding] = (),
) -> Baselined:
    """Each baseline entry absorbs one failing finding with its fingerprint; the same violation in
    another file has another fingerprint and is new. Entries left over are fixed when their file
    was scanned in this run (an entry of a file out of scope says nothing)."""
    available = Counter(e.fingerprint for e in baseline)
    for f in waived:  # a waived finding is not fixed, and needs no baseline entry either
        fp = fingerprint(f)
        if available[fp]:
            available[fp] -= 1
    kept: list[Finding] = []
    known: list[Finding] = []
    for f in findings:
        fp = fingerprint(f) if f.outcome is Outcome.FAIL else ""
        if fp and available[fp]:
            available[fp] -= 1
            known.append(f)
        else:
            kept.append(f)
    scanned = {relative_path(p) for p in scanned_files}
    fixed: list[BaselineEntry] = []
    for e in reversed(baseline):  # the last entries of a fingerprint are the ones left over
        if available[e.fingerprint] > 0:
            available[e.fingerprint] -= 1
            if relative_path(e.file) in scanned:
                fixed.append(e)
    fixed.sort(key=lambda e: (e.file, e.resource_id, e.policy_id, e.message))
    return Baselined(tuple(kept), tuple(known), tuple(fixed))
