"""The settings of one run, frozen. Built from command-line flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.model import Severity


@dataclass(frozen=True)
class Config:
    paths: tuple[str, ...]
    policy_dirs: tuple[Path, ...] = ()  # extra directories, loaded after the built-in pack
    builtin_policies: bool = True
    fail_on: Severity | None = Severity.HIGH
    fail_under: int | None = None
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # policy id → param → value
