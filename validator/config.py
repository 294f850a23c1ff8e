"""The settings of one run, frozen. Built from command-line flags and the repository configuration
(.iac-validator.yaml or [tool.iac-validator], see validator/repo_config.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from validator.limits import DEFAULT_FILE_TIMEOUT, DEFAULT_MAX_FILE_BYTES
from validator.model import BaselineEntry, LoadError, Scope, Severity, Waiver


@dataclass(frozen=True)
class Config:
    paths: tuple[str, ...]
    policy_dirs: tuple[Path, ...] = ()  # extra directories, loaded after the built-in pack
    builtin_policies: bool = True
    fail_on: Severity | None = Severity.HIGH
    fail_under: int | None = None
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # policy id → param → value
    # CloudFormation parameter values (--parameters FILE, --parameter Key=Value): name → value.
    cfn_parameters: Mapping[str, Any] = field(default_factory=dict)
    cfn_lint: bool = False  # --cfn-lint: cfn-lint's error-level findings join the report
    # Terraform variable values for root modules (--var-file FILE in order, then --var name=value),
    # and the configuration directory of plan JSON inputs (--tf-source DIR).
    var_files: tuple[str, ...] = ()
    tf_variables: Mapping[str, str] = field(default_factory=dict)
    tf_source: str | None = None
    # Policy selection (ids or groups such as TRUST, case-insensitive) and severity overrides.
    enable: tuple[str, ...] = ()  # when given, only these policies run
    disable: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)  # policy id → severity
    exclude: tuple[str, ...] = ()  # path globs, relative to base_dir
    base_dir: str | None = None  # the configuration file's directory (default: the current one)
    config_file: str | None = None
    # Waivers and baseline. `today` decides expiry; the CLI passes date.today(), tests a fixed day.
    today: date | None = None
    inline_waivers: bool = True  # False: audit mode, inline waivers are ignored
    waivers: tuple[Waiver, ...] = ()  # from the configuration file
    allow_open_ended_waivers: bool = False
    config_errors: tuple[LoadError, ...] = ()  # malformed configuration waivers, reported in the run
    baseline: tuple[BaselineEntry, ...] | None = None
    baseline_file: str | None = None
    scope: Scope | None = None  # changed-files mode: what is in scope and why
    stdin: str | None = None  # the text of `-` among paths
    # Limits for hostile input (validator/limits.py): larger files are skipped; a file (a Terraform
    # module directory) that takes longer to load is an error; links out of the tree are skipped
    # unless followed; --allow-errors: unreadable inputs are reported but do not set exit code 2.
    max_file_size: int = DEFAULT_MAX_FILE_BYTES
    file_timeout: float | None = DEFAULT_FILE_TIMEOUT
    follow_symlinks: bool = False
    allow_errors: bool = False
    # Speed (validator/execute.py, validator/cache.py): worker processes (None: one per CPU), the
    # result cache directory (None: no cache), and whether the report lists every passing check
    # (JUnit and --verbose text do; the others count them).
    jobs: int | None = 1
    cache_dir: str | None = None
    keep_passes: bool = False
