"""Path globs of the repository configuration (`exclude:`, waiver `path:`), matched like .gitignore
patterns: `*` and `?` stay within one path segment, `**` spans directories, a pattern without `/`
matches a name at any depth, and a pattern that matches a directory matches everything below it."""

from __future__ import annotations

import os
import re
from functools import cache


def relative_to(path: str, base: str | None) -> str:
    """`path` relative to `base` with POSIX separators; unchanged (POSIX) when it lies outside it."""
    absolute = os.path.abspath(path)
    root = os.path.abspath(base or os.getcwd())
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:  # another drive
        rel = ""
    if not rel or rel == ".." or rel.startswith(".." + os.sep):
        rel = path
    rel = rel.replace("\\", "/")
    while rel.startswith("./"):
        rel = rel[2:]
    return rel


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    pattern = pattern.replace("\\", "/").strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.strip("/")
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{out}(?:/.*)?$")


def matches(path: str, pattern: str) -> bool:
    """Whether a relative POSIX path (or a directory above it) matches the glob."""
    return bool(pattern.strip()) and _compile(pattern).match(path) is not None


def first_match(path: str, patterns: tuple[str, ...] | list[str]) -> str | None:
    return next((p for p in patterns if matches(path, p)), None)
