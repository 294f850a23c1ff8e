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
from dataclasses import dataclass

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


def _mixed(value: str) -> bool:
    return bool(re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"[0-9/+]", value))


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
