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
# A CDK cloud assembly (cdk.out/): its *.template.json files are templates; the rest is not.
_CDK_FILES = {
    "manifest.json": "CDK cloud assembly manifest, not a template",
    "tree.json": "CDK construct tree, not a template",
    "cdk.out": "CDK cloud assembly version marker, not a template",
}
_CDK_ASSET_DIR = "CDK asset (bundled code or files of a cloud assembly), not templates"


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str


@dataclass
class Plan:
    """What discovery decided, in a stable order."""

    cloudformation: list[SourceFile] = field(default_factory=list)
    terraform: dict[str, list[SourceFile]] = field(default_factory=dict)  # module dir → its .tf files
    tfvars: dict[str, list[SourceFile]] = field(default_factory=dict)  # dir → its .tfvars / .tfvars.json files
    terraform_plans: list[SourceFile] = field(default_factory=list)  # `terraform show -json` output
    roots: list[str] = field(default_factory=list)  # the scanned trees: given directories, a given file's directory
    records: list[FileRecord] = field(default_factory=list)  # skipped and unreadable files
    errors: list[LoadError] = field(default_factory=list)


def discover(paths: list[str]) -> Plan:
    plan = Plan()
    seen: set[str] = set()
    for given in paths:
        root = Path(given)
        if root.exists():
            plan.roots.append(given if root.is_dir() else (os.path.dirname(given) or "."))
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
    plan.tfvars = {d: sorted(fs, key=lambda f: f.path) for d, fs in sorted(plan.tfvars.items())}
    plan.terraform_plans.sort(key=lambda f: f.path)
    plan.records.sort(key=lambda r: r.path)
    return plan


def _walk(root: Path, plan: Plan, seen: set[str]) -> list[Path]:
    files: list[Path] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        kept = []
        assembly = _is_cloud_assembly(directory, filenames)
        for name in sorted(dirnames):
            reason = _EXCLUDED_DIRS.get(name) or (_CDK_ASSET_DIR if assembly and name.startswith("asset.") else None)
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


def _is_cloud_assembly(directory: str, names: list[str] | None = None) -> bool:
    """A CDK cloud assembly: `cdk.out/` or any directory with a manifest.json and a cdk.out marker."""

    def has(name: str) -> bool:
        return name in names if names is not None else os.path.isfile(os.path.join(directory, name))

    return has("manifest.json") and (has("cdk.out") or os.path.basename(os.path.normpath(directory)) == "cdk.out")


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
    if (name in _CDK_FILES or name.endswith(".assets.json")) and _is_cloud_assembly(os.path.dirname(path) or "."):
        return _skip(plan, path, _CDK_FILES.get(name, "CDK asset manifest, not a template"))
    tfvars = suffix == ".tfvars" or name.endswith(".tfvars.json")
    if suffix != ".tf" and not tfvars and suffix not in _TEMPLATE_SUFFIXES and not explicit:
        return _skip(plan, path, "not a template file type")
    if os.path.islink(path) and not os.path.exists(path):
        return _skip(plan, path, "broken symbolic link")
    text = _read(path, plan)
    if text is None:
        return
    if suffix == ".tf":
        plan.terraform.setdefault(os.path.dirname(path) or ".", []).append(SourceFile(path, text))
        return
    if tfvars:  # variable values: read with the module directory they sit in
        plan.tfvars.setdefault(os.path.dirname(path) or ".", []).append(SourceFile(path, text))
        return
    stripped = text.lstrip()
    if not stripped:
        return _skip(plan, path, "empty file")
    if stripped.startswith(("{", "[")):
        if _PLAN_JSON.search(text) and '"format_version"' in text:
            plan.terraform_plans.append(SourceFile(path, text))
            return
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
    if plan.terraform or plan.tfvars:
        out.add(Format.TERRAFORM)
    if plan.terraform_plans:
        out.add(Format.TERRAFORM_PLAN)
    return out
