"""The files a unit's scan read beyond its own inputs (Terraform's `file()`, `templatefile()`,
`fileexists()`), collected while validator/work.py scans it, so that the result cache can tell
when such a file changed. A context variable: set for one scan, in whichever process runs it."""

from __future__ import annotations

import hashlib
from contextvars import ContextVar

FILES_READ: ContextVar[set[str] | None] = ContextVar("FILES_READ", default=None)


def note(path: str) -> None:
    seen = FILES_READ.get()
    if seen is not None:
        seen.add(path)


def fingerprint(path: str) -> str:
    """What the file is now: the hash of its bytes, or why there are none."""
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
