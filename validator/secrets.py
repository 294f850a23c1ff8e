"""Secret-shaped values, and the one masking function every message and output goes through."""

from __future__ import annotations

import re

# Access key ids: documented prefixes, 20 characters. Secret access keys: 40 base64-ish characters.
ACCESS_KEY_ID = re.compile(r"\b((?:AKIA|ASIA|AIDA|AROA|ABIA|ACCA)[A-Z0-9]{16})\b")
SECRET_ACCESS_KEY = re.compile(r"(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")


def _mask_key(m: re.Match[str]) -> str:
    return m.group(1)[:4] + "*" * 16


def _mask_secret(m: re.Match[str]) -> str:
    value = m.group(1)
    # A 40-character run is only secret-shaped when it mixes cases and digits (not a hex digest or word).
    if re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"[0-9/+]", value):
        return value[:4] + "*" * 36
    return value


def mask(text: str) -> str:
    """Mask every access key id and secret-access-key-shaped run in `text`."""
    return SECRET_ACCESS_KEY.sub(_mask_secret, ACCESS_KEY_ID.sub(_mask_key, text))
