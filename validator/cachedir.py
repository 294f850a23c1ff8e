"""The user's own cache folder for iac-validator (the result cache, and python-hcl2's parser where
its own folder is read-only)."""

from __future__ import annotations

import os
import sys
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
