"""Paths → what to load (CloudFormation files, Terraform module directories) and what was skipped, and why."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from validator.model import FileRecord, FileStatus, Format, LoadError

MAX_FILE_BYTES = 10 * 1024 * 1024
_TEMPLATE_SUFFIXES = {".yaml", ".yml", ".json", ".template"}
_EXCLUDED_DIRS = {
    ".git": "version control metadata",
    ".terraform": "Terraform working directory (downloaded modules and providers)",
    "node_modules": "npm dependencies",
    "__pycache__": "Python bytecode cache",
    ".venv": "Python virtual environment",
    "venv": "Python virtual environment",
    ".tox": "tox environments",
}
_CFN_YAML = re.compile(r"^(AWSTemplateFormatVersion|Resources)\s*:", re.M)
_CFN_JSON = re.compile(r'"(AWSTemplateFormatVersion|Resources)"\s*:')
_PLAN_JSON = re.compile(r'"(planned_values|resource_changes)"\s*:')


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str


@dataclass
class Plan:
    """What discovery decided, in a stable order."""

    cloudformation: list[SourceFile] = field(default_factory=list)
    terraform: dict[str, list[SourceFile]] = field(default_factory=dict)  # module dir → its .tf files
    records: list[FileRecord] = field(default_factory=list)  # skipped and unreadable files
    errors: list[LoadError] = field(default_factory=list)


def discover(paths: list[str]) -> Plan:
    plan = Plan()
    seen: set[str] = set()
    for given in paths:
        root = Path(given)
        if root.is_dir():
            for file in _walk(root, plan, seen):
                _classify(str(file), plan, seen, explicit=False)
        elif root.exists():
            _classify(given, plan, seen, explicit=True)
        else:
            plan.errors.append(LoadError(given, "no such file or directory"))
            plan.records.append(FileRecord(given, FileStatus.ERROR, reason="no such file or directory"))
    plan.cloudformation.sort(key=lambda f: f.path)
    plan.terraform = {d: sorted(fs, key=lambda f: f.path) for d, fs in sorted(plan.terraform.items())}
    plan.records.sort(key=lambda r: r.path)
    return plan


def _walk(root: Path, plan: Plan, seen: set[str]) -> list[Path]:
    files: list[Path] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        kept = []
        for name in sorted(dirnames):
            reason = _EXCLUDED_DIRS.get(name)
            if reason:
                excluded = os.path.join(directory, name)
                if os.path.realpath(excluded) not in seen:  # overlapping paths record it once
                    seen.add(os.path.realpath(excluded))
                    plan.records.append(FileRecord(excluded, FileStatus.SKIPPED, reason=f"directory excluded: {reason}"))
            else:
                kept.append(name)
        dirnames[:] = kept
        files.extend(Path(directory, name) for name in sorted(filenames))
    return files


def _skip(plan: Plan, path: str, reason: str) -> None:
    plan.records.append(FileRecord(path, FileStatus.SKIPPED, reason=reason))


def _classify(path: str, plan: Plan, seen: set[str], explicit: bool) -> None:
    key = os.path.realpath(path)
    if key in seen:
        return
    seen.add(key)
    name = os.path.basename(path)
    suffix = os.path.splitext(name)[1].lower()
    if name.endswith(".tf.json"):
        return _skip(plan, path, "Terraform JSON syntax (.tf.json) is not supported yet")
    if suffix in (".tfvars",) or name.endswith(".tfvars.json"):
        return _skip(plan, path, "Terraform variable values: only variable defaults are evaluated in this version")
    if suffix != ".tf" and suffix not in _TEMPLATE_SUFFIXES and not explicit:
        return _skip(plan, path, "not a template file type")
    if os.path.islink(path) and not os.path.exists(path):
        return _skip(plan, path, "broken symbolic link")
    text = _read(path, plan)
    if text is None:
        return
    if suffix == ".tf":
        plan.terraform.setdefault(os.path.dirname(path) or ".", []).append(SourceFile(path, text))
        return
    stripped = text.lstrip()
    if not stripped:
        return _skip(plan, path, "empty file")
    if stripped.startswith(("{", "[")):
        if _PLAN_JSON.search(text) and '"format_version"' in text:
            return _skip(plan, path, "Terraform plan JSON is not supported yet")
        if not _CFN_JSON.search(text):
            return _skip(plan, path, "not a CloudFormation template (no top-level Resources or AWSTemplateFormatVersion)")
    elif not _CFN_YAML.search(text):
        return _skip(plan, path, "not a CloudFormation template (no top-level Resources or AWSTemplateFormatVersion)")
    plan.cloudformation.append(SourceFile(path, text))


def _read(path: str, plan: Plan) -> str | None:
    def fail(reason: str) -> None:
        plan.errors.append(LoadError(path, reason))
        plan.records.append(FileRecord(path, FileStatus.ERROR, reason=reason))

    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            _skip(plan, path, f"file too large ({size} bytes, limit {MAX_FILE_BYTES})")
            return None
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        fail(f"cannot read file: {exc.strerror or exc}")
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            fail("invalid UTF-16 text")
            return None
    if b"\x00" in data:
        _skip(plan, path, "binary file")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        plan.errors.append(LoadError(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line))
        plan.records.append(FileRecord(path, FileStatus.ERROR, reason="not valid UTF-8 text"))
        return None


def formats_in(plan: Plan) -> set[Format]:
    out: set[Format] = set()
    if plan.cloudformation:
        out.add(Format.CLOUDFORMATION)
    if plan.terraform:
        out.add(Format.TERRAFORM)
    return out
