"""The repository configuration: `.iac-validator.yaml` or `[tool.iac-validator]` in pyproject.toml.

Found by searching upward from the scanned path (stopping at the repository root, the directory
holding `.git`), or named with `--config FILE`; validated against `config.schema.json`. Unknown keys
are errors naming the key's path (`$.policies.foo`). Paths in the file (policy dirs, exclude and
waiver globs, outputs) are relative to the file's directory.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from validator.fingerprint import relative_path
from validator.model import LoadError, Location, Policy, Severity, Waiver, WaiverSource
from validator.suppress import make_waiver

CONFIG_NAMES = (".iac-validator.yaml", ".iac-validator.yml")
PYPROJECT = "pyproject.toml"
TOOL_KEY = "iac-validator"


@dataclass(frozen=True)
class RepoConfig:
    source: str  # the file, e.g. "infra/.iac-validator.yaml" or "pyproject.toml"
    base_dir: str  # its directory: relative paths in it are relative to this
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    policy_dirs: tuple[Path, ...] = ()
    fail_on: Severity | None = Severity.HIGH
    fail_on_set: bool = False  # whether the file says fail_on (none is a valid value)
    fail_under: int | None = None
    exclude: tuple[str, ...] = ()
    format: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)  # format → path (already joined to base_dir)
    waivers: tuple[Waiver, ...] = ()
    waiver_errors: tuple[LoadError, ...] = ()  # malformed waivers: reported by the scan, waive nothing
    allow_open_ended_waivers: bool = False


class ConfigError(Exception):
    """The configuration cannot be used; `problems` are `file:line: $.path: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- discovery ----------------------------------------------------------------------------------


def find_config(start: str | Path) -> Path | None:
    """The nearest configuration at or above `start` (a file's directory, or a directory), not
    above the repository root. A pyproject.toml counts only when it has [tool.iac-validator]."""
    here = Path(start).resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


def _has_tool_table(path: Path) -> bool:
    import tomllib  # only where a pyproject.toml is found

    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "[tool.iac-validator]" in _safe_read(path)  # broken file: let load_config say why
    return isinstance(data.get("tool"), dict) and TOOL_KEY in data["tool"]


def _safe_read(path: Path) -> str:
    try:
        return path.read_text("utf-8", errors="replace")
    except OSError:
        return ""


# --- loading and validation ---------------------------------------------------------------------


@cache
def _validator() -> Any:
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("validator").joinpath("config.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_config(path: str | Path) -> RepoConfig:
    """Read, validate and interpret one configuration file. Raises ConfigError."""
    path = Path(path)
    source = relative_path(str(path))
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{source}: cannot read configuration: {getattr(exc, 'strerror', None) or exc}"]) from exc
    lines: dict[tuple[Any, ...], int] = {}
    if path.name == PYPROJECT or path.suffix == ".toml":
        import tomllib

        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{source}: invalid TOML: {exc}"]) from exc
        tool = doc.get("tool", {})
        if not isinstance(tool, dict) or TOOL_KEY not in tool:
            raise ConfigError([f"{source}: no [tool.{TOOL_KEY}] table"])
        data = tool[TOOL_KEY]
    else:
        import yaml  # only when there is a YAML config file to read

        try:
            data = yaml.safe_load(text)
            node = yaml.compose(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{source}:{mark.line + 1}" if mark is not None else source
            first = str(getattr(exc, "problem", None) or exc).splitlines()[0]
            raise ConfigError([f"{where}: invalid YAML: {first}"]) from exc
        if node is not None:
            _collect_lines(node, (), lines)
        if data is None:
            data = {}
    data = _plain(data)
    problems = validate(data, source, lines)
    if problems:
        raise ConfigError(problems)
    return interpret(data, source, str(path.resolve().parent), lines)


def validate(data: Any, source: str, lines: Mapping[tuple[Any, ...], int] | None = None) -> list[str]:
    """Every schema problem as `file:line: $.path: message`, in document order."""
    lines = lines or {}
    problems: list[tuple[tuple[str, ...], str]] = []
    for error in _validator().iter_errors(data):
        at = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            for key in sorted(k for k in error.instance if k not in error.schema.get("properties", {})):
                hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
                problems.append(((*map(str, at), key), _where(source, lines, (*at, key)) + f"{_json_path((*at, key))}: unknown key{hint}"))
            continue
        problems.append((tuple(map(str, at)), _where(source, lines, at) + f"{_json_path(at)}: {error.message}"))
    return [p for _, p in sorted(problems, key=lambda p: (_order(lines, p[0]), p[0]))]


def _order(lines: Mapping[tuple[Any, ...], int], path: tuple[str, ...]) -> int:
    for end in range(len(path), -1, -1):
        for key, line in lines.items():
            if tuple(map(str, key)) == path[:end]:
                return line
    return 0


def _where(source: str, lines: Mapping[tuple[Any, ...], int], path: tuple[Any, ...]) -> str:
    for end in range(len(path), 0, -1):
        line = lines.get(tuple(path[:end]))
        if line:
            return f"{source}:{line}: "
    return f"{source}: "


def _json_path(parts: tuple[Any, ...]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _collect_lines(node: Any, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Line of every key (and sequence item) of a composed YAML document, by JSON path."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            out[sub] = key.start_mark.line + 1
            _collect_lines(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            sub = (*path, i)
            out[sub] = value.start_mark.line + 1
            _collect_lines(value, sub, out)


def _plain(value: Any) -> Any:
    """YAML/TOML dates as YYYY-MM-DD strings, keys as strings: what the JSON Schema expects."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def interpret(data: Mapping[str, Any], source: str, base_dir: str, lines: Mapping[tuple[Any, ...], int] | None = None) -> RepoConfig:
    """A validated document → RepoConfig. Waivers are checked here; a malformed one becomes an
    error of the scan (file:line) and waives nothing."""
    lines = lines or {}
    policies = data.get("policies", {})
    allow_open = bool(data.get("allow_open_ended_waivers", False))
    waivers: list[Waiver] = []
    errors: list[LoadError] = []
    for i, item in enumerate(data.get("waivers", [])):
        line = lines.get(("waivers", i))
        waiver, error = make_waiver(item, WaiverSource.CONFIG, Location(source, line), allow_open)
        if error:
            errors.append(error)
        elif waiver:
            waivers.append(waiver)
    fail_on = data.get("fail_on")
    return RepoConfig(
        source=source,
        base_dir=base_dir,
        enable=tuple(policies.get("enable", ())),
        disable=tuple(policies.get("disable", ())),
        severity={k: Severity(v) for k, v in policies.get("severity", {}).items()},
        params={k: dict(v) for k, v in policies.get("params", {}).items()},
        policy_dirs=tuple(Path(base_dir, d) for d in policies.get("dirs", ())),
        fail_on=None if fail_on in (None, "none") else Severity(fail_on),
        fail_on_set=fail_on is not None,
        fail_under=data.get("fail_under"),
        exclude=tuple(data.get("exclude", ())),
        format=data.get("format"),
        outputs={fmt: os.path.join(base_dir, p) for fmt, p in data.get("outputs", {}).items()},
        waivers=tuple(waivers),
        waiver_errors=tuple(errors),
        allow_open_ended_waivers=allow_open,
    )


# --- policy selection ---------------------------------------------------------------------------


def _selects(selector: str, policy: Policy) -> bool:
    s = selector.upper()
    return s == policy.id.upper() or s == policy.group.upper()


def select_policies(
    policies: tuple[Policy, ...],
    enable: tuple[str, ...] = (),
    disable: tuple[str, ...] = (),
    severity: Mapping[str, Severity] | None = None,
    source: str = "configuration",
) -> tuple[tuple[Policy, ...], list[LoadError]]:
    """Apply enable / disable (ids or groups) and severity overrides. A selector or override that
    names no loaded policy is an error: a typo must not silently keep a policy on."""
    errors: list[LoadError] = []
    for key, selectors in (("enable", enable), ("disable", disable)):
        for s in selectors:
            if not any(_selects(s, p) for p in policies):
                errors.append(LoadError(source, f"policies.{key}: {s!r} names no policy or group"))
    selected = [p for p in policies if not enable or any(_selects(s, p) for s in enable)]
    selected = [p for p in selected if not any(_selects(s, p) for s in disable)]
    overrides = {k.upper(): v for k, v in (severity or {}).items()}
    known = {p.id.upper() for p in policies}
    for pid in sorted(overrides):
        if pid not in known:
            errors.append(LoadError(source, f"policies.severity: {pid!r} names no policy"))
    out = tuple(replace(p, severity=overrides[p.id.upper()]) if p.id.upper() in overrides else p for p in selected)
    return out, errors


# --- `iac-validator init` -----------------------------------------------------------------------

STARTER = """\
# iac-validator configuration. Found by searching upward from the scanned path (up to the
# repository root), or named with --config FILE. Every key is optional; unknown keys are errors.
# Schema: validator/config.schema.json. Paths below are relative to this file.
version: 1

# The gate. Command-line flags win over these values.
fail_on: high              # fail on findings at or above: critical | high | medium | low | none
# fail_under: 80           # also fail when the score (0-100) is under this

policies:
  # enable: [TRUST, SESSION-001]   # only these policies or groups run (default: all)
  disable: []                      # policies or groups that do not run, e.g. [WORKLOAD-001]
  # severity:                      # severity overrides; they change the score and the gate
  #   SESSION-001: high
  # params:                        # policy params, like --param SESSION-001.max_seconds=7200
  #   SESSION-001: {max_seconds: 7200}
  # dirs: [policies/]              # extra policy directories (your own policies)

exclude: []                # path globs not scanned, e.g. ["legacy/**", "**/testdata/**"]

# format: text             # default --format: text | json | sarif | junit | markdown | gitlab
# outputs:                 # more reports written on every scan, like --output FORMAT=PATH
#   sarif: reports/iac-validator.sarif

# Waivers are temporary exceptions: a reason and an expiry date are required. After the date the
# finding fails again. Inline waivers work too: CloudFormation resource Metadata
# {iac-validator: {waivers: [{id, reason, expires}]}} and Terraform comments
# `# iac-validator:waive TRUST-001 expires=2027-03-31 reason="..."`.
waivers: []
#  - id: TRUST-001                 # policy id (or a glob such as TRUST-*)
#    resource: VendorRole          # resource logical id / Terraform address (glob), and/or
#    path: stacks/vendor/*.yaml    # file glob
#    reason: Vendor X is moving to external ids (SEC-123)
#    expires: 2027-03-31           # last day the waiver works
#    owner: platform-team

allow_open_ended_waivers: false    # true accepts waivers without an expiry date
"""


def starter_config() -> str:
    return STARTER


_FORMAT_PAIR = re.compile(r"^([a-z]+)=(.+)$")


def parse_output(value: str, formats: tuple[str, ...]) -> tuple[str | None, str]:
    """`--output FORMAT=PATH` → (format, path); a plain `--output PATH` → (None, path)."""
    m = _FORMAT_PAIR.match(value)
    if m and m.group(1) in formats:
        return m.group(1), m.group(2)
    return None, value
