"""The identity of a finding, shared by baselines and the CI reporters.

`fingerprint` is the one definition: SARIF `partialFingerprints`, GitLab Code Quality `fingerprint`
and baseline files (`scan --baseline`) all use it, so a finding keeps the same identity everywhere.
It hashes policy id + file + resource id/address + the message with digits normalised (the
offending value without its line-dependent or numeric parts), never the line number.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Sequence

from validator.model import Finding
from validator.secrets import mask

_DIGITS = re.compile(r"\d+")


def relative_path(path: str, cwd: str | None = None) -> str:
    """A file as reporters show it: POSIX separators, no leading './', relative to `cwd`
    (default: the current directory) when it is an absolute path under it; else unchanged."""
    text = path.replace("\\", "/")
    if os.path.isabs(path):
        base = cwd if cwd is not None else os.getcwd()
        try:
            rel = os.path.relpath(path, base)
        except ValueError:  # another drive (Windows)
            rel = ""
        if rel and rel != ".." and not rel.startswith("../") and not rel.startswith("..\\"):
            text = rel.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return posixpath.normpath(text) if text else text


def normalized_message(message: str) -> str:
    """The message as identity sees it: masked, every run of digits replaced by 0."""
    return _DIGITS.sub("0", mask(message))


def fingerprint(finding: Finding) -> str:
    """sha256 of policy id, file, resource id and message (digits normalised). Not the line, so a
    finding keeps its identity when code above it moves; not exact numbers, so it survives a value
    change such as 43200 → 7200."""
    key = "\0".join(
        (finding.policy_id, relative_path(finding.location.file), finding.resource_id, normalized_message(finding.message))
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """`fingerprint` of each finding, made unique within the report: the n-th repeat (n ≥ 1, in
    report order) of a fingerprint is re-hashed with n, so two findings never share one."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for f in findings:
        base = fingerprint(f)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else hashlib.sha256(f"{base}:{n}".encode()).hexdigest())
    return out
