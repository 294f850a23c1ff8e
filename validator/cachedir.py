"""The user's own cache folder for iac-validator (the result cache, the HCL parser, the decoded
built-in pack), and the one way files are written there."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping


def user_cache_dir(environ: Mapping[str, str]) -> str:
    """$IAC_VALIDATOR_CACHE_DIR, else $XDG_CACHE_HOME/iac-validator, else the platform's
    (~/.cache/iac-validator on Linux, ~/Library/Caches/iac-validator on macOS)."""
    if environ.get("IAC_VALIDATOR_CACHE_DIR"):
        return environ["IAC_VALIDATOR_CACHE_DIR"]
    if environ.get("XDG_CACHE_HOME"):
        return os.path.join(environ["XDG_CACHE_HOME"], "iac-validator")
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "iac-validator")
    if sys.platform == "win32" and environ.get("LOCALAPPDATA"):
        return os.path.join(environ["LOCALAPPDATA"], "iac-validator", "Cache")
    return os.path.join(home, ".cache", "iac-validator")


def write_atomic(path: str, data: bytes) -> bool:
    """Write `data` to `path` whole or not at all (a temporary file renamed over it), so runs that
    share the folder never read half a file. Creates the folder (0700). False when it cannot."""
    try:
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return False
    return True
