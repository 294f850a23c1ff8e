"""Paths → what to load (CloudFormation files, Terraform module directories) and what was skipped, and why."""

from __future__ import annotations

import errno
import os
import re
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from validator.limits import DEFAULT_MAX_FILE_BYTES, show_size
from validator.model import FileRecord, FileStatus, Format, LoadError

MAX_FILE_BYTES = DEFAULT_MAX_FILE_BYTES
_FOLLOW_HINT = "not followed (--follow-symlinks follows it)"
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
# A directory holding this file is a cache (https://bford.info/cachedir/): not walked.
CACHEDIR_TAG = "CACHEDIR.TAG"
_CDK_ASSET_DIR = "CDK asset (bundled code or files of a cloud assembly), not templates"


# Past this much text in one scan, further files wait for their unit zlib-compressed (about 6×
# smaller): at 10,000 files, 110 MB of text would otherwise sit in the main process and in every
# worker forked from it. Below it (any tree of a few thousand files) nothing is compressed.
PACK_AFTER_CHARS = 32 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    path: str
    data: str | bytes  # the text, or its UTF-8 compressed with zlib (see PACK_AFTER_CHARS)
    chars: int  # characters of text, known without decompressing

    @property
    def text(self) -> str:
        if isinstance(self.data, str):
            return self.data
        return zlib.decompress(self.data).decode("utf-8", "surrogatepass")


@dataclass
class Plan:
    """What discovery decided, in a stable order."""

    cloudformation: list[SourceFile] = field(default_factory=list)
    terraform: dict[str, list[SourceFile]] = field(default_factory=dict)  # module dir → its .tf files
    tfvars: dict[str, list[SourceFile]] = field(default_factory=dict)  # dir → its .tfvars / .tfvars.json files
    terraform_plans: list[SourceFile] = field(default_factory=list)  # `terraform show -json` output
    roots: list[str] = field(default_factory=list)  # the scanned trees: given directories, a given file's directory
    chars: int = 0  # characters of text read so far
    records: list[FileRecord] = field(default_factory=list)  # skipped and unreadable files
    errors: list[LoadError] = field(default_factory=list)


@dataclass(frozen=True)
class _Options:
    max_bytes: int
    follow_symlinks: bool


def discover(paths: list[str], *, max_bytes: int = MAX_FILE_BYTES, follow_symlinks: bool = False) -> Plan:
    """`max_bytes`: larger files are skipped (too large); `follow_symlinks`: follow symbolic links
    that point outside the scanned tree (by default they are skipped, with the reason)."""
    plan = Plan()
    seen: set[str] = set()
    options = _Options(max_bytes, follow_symlinks)
    for given in paths:
        root = Path(given)
        if root.exists():
            plan.roots.append(given if root.is_dir() else (os.path.dirname(given) or "."))
        if root.is_dir():
            top = os.path.realpath(given)
            files = _walk(root, plan, seen, options, top)
            # Real files first: a link to a file of the tree is then recognised as a second name.
            for file in sorted(files, key=lambda f: os.path.islink(f)):
                _classify(str(file), plan, seen, explicit=False, options=options, top=top)
        elif root.exists():
            _classify(given, plan, seen, explicit=True, options=options, top=None)
        else:
            plan.errors.append(LoadError(given, "no such file or directory"))
            plan.records.append(FileRecord(given, FileStatus.ERROR, reason="no such file or directory"))
    plan.cloudformation.sort(key=lambda f: f.path)
    plan.terraform = {d: sorted(fs, key=lambda f: f.path) for d, fs in sorted(plan.terraform.items())}
    plan.tfvars = {d: sorted(fs, key=lambda f: f.path) for d, fs in sorted(plan.tfvars.items())}
    plan.terraform_plans.sort(key=lambda f: f.path)
    plan.records.sort(key=lambda r: r.path)
    return plan


def _inside(real: str, top: str) -> bool:
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _walk(root: Path, plan: Plan, seen: set[str], options: _Options, top: str, walked: set[str] | None = None) -> list[Path]:
    """Every file below `root`. Symbolic links to directories are not walked into (a loop, or a
    second name for a directory of the tree), except with --follow-symlinks for those leading
    out of the tree; each one not walked is a skipped record. Unreadable directories are errors."""
    files: list[Path] = []
    walked = walked if walked is not None else set()
    walked.add(os.path.realpath(root))

    def unreadable(exc: OSError) -> None:
        where = exc.filename or str(root)
        if os.path.realpath(where) not in seen:
            seen.add(os.path.realpath(where))
            reason = f"cannot read directory: {exc.strerror or exc}"
            plan.errors.append(LoadError(where, reason))
            plan.records.append(FileRecord(where, FileStatus.ERROR, reason=reason))

    for directory, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable):
        kept = []
        assembly = _is_cloud_assembly(directory, filenames)
        for name in sorted(dirnames):
            path = os.path.join(directory, name)
            reason = _EXCLUDED_DIRS.get(name) or (_CDK_ASSET_DIR if assembly and name.startswith("asset.") else None)
            if reason is None and os.path.isfile(os.path.join(path, CACHEDIR_TAG)):
                reason = f"a cache directory ({CACHEDIR_TAG}), such as iac-validator's result cache"
            if reason:
                if os.path.realpath(path) not in seen:  # overlapping paths record it once
                    seen.add(os.path.realpath(path))
                    plan.records.append(FileRecord(path, FileStatus.SKIPPED, reason=f"directory excluded: {reason}"))
            elif os.path.islink(path):
                files.extend(_linked_directory(path, plan, seen, options, top, walked))
            else:
                kept.append(name)
        dirnames[:] = kept
        files.extend(Path(directory, name) for name in sorted(filenames))
    return files


def _linked_directory(path: str, plan: Plan, seen: set[str], options: _Options, top: str, walked: set[str]) -> list[Path]:
    real = os.path.realpath(path)
    if path in seen:
        return []
    seen.add(path)
    if _inside(os.path.realpath(os.path.dirname(path)), real):
        _skip(plan, path, "symbolic link loop (a link to a directory that contains it): not followed")
    elif _inside(real, top):
        _skip(plan, path, f"symbolic link to the directory {os.path.relpath(real, top)} of the scanned tree: scanned there, not twice")
    elif not options.follow_symlinks:
        _skip(plan, path, f"symbolic link to a directory outside the scanned tree: {_FOLLOW_HINT}")
    elif real in walked:
        _skip(plan, path, "symbolic link to a directory already followed (a loop): not followed again")
    else:
        return _walk(Path(path), plan, seen, options, top, walked)
    return []


def _is_cloud_assembly(directory: str, names: list[str] | None = None) -> bool:
    """A CDK cloud assembly: `cdk.out/` or any directory with a manifest.json and a cdk.out marker."""

    def has(name: str) -> bool:
        return name in names if names is not None else os.path.isfile(os.path.join(directory, name))

    return has("manifest.json") and (has("cdk.out") or os.path.basename(os.path.normpath(directory)) == "cdk.out")


def _skip(plan: Plan, path: str, reason: str) -> None:
    plan.records.append(FileRecord(path, FileStatus.SKIPPED, reason=reason))


def _classify(path: str, plan: Plan, seen: set[str], explicit: bool, options: _Options, top: str | None) -> None:
    key = os.path.realpath(path)
    link = os.path.islink(path) and not explicit  # a link the user named is followed
    if link:
        if path in seen:
            return
        problem = _link_problem(path, key, options, top)
        if problem is None and key in seen:  # a second name for a file already scanned
            problem = f"symbolic link to {os.path.relpath(key, top or '.')}: scanned under that name, not twice"
        if problem is not None:
            seen.add(path)
            return _skip(plan, path, problem)
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
        return _skip(plan, path, _dangling(path))
    text = _read(path, plan, options.max_bytes)
    if text is None:
        return
    if suffix == ".tf":
        plan.terraform.setdefault(os.path.dirname(path) or ".", []).append(_source(path, text, plan))
        return
    if tfvars:  # variable values: read with the module directory they sit in
        plan.tfvars.setdefault(os.path.dirname(path) or ".", []).append(_source(path, text, plan))
        return
    stripped = text.lstrip()
    if not stripped:
        return _skip(plan, path, "empty file")
    if stripped.startswith(("{", "[")):
        if _PLAN_JSON.search(text) and '"format_version"' in text:
            plan.terraform_plans.append(_source(path, text, plan))
            return
        if not _CFN_JSON.search(text):
            return _skip(plan, path, "not a CloudFormation template (no top-level Resources or AWSTemplateFormatVersion)")
    elif not _CFN_YAML.search(text):
        return _skip(plan, path, "not a CloudFormation template (no top-level Resources or AWSTemplateFormatVersion)")
    plan.cloudformation.append(_source(path, text, plan))


def _source(path: str, text: str, plan: Plan) -> SourceFile:
    plan.chars += len(text)
    if plan.chars <= PACK_AFTER_CHARS:
        return SourceFile(path, text, len(text))
    return SourceFile(path, zlib.compress(text.encode("utf-8", "surrogatepass"), 1), len(text))


def _dangling(path: str) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop: not followed"
    return "broken symbolic link"


def _link_problem(path: str, real: str, options: _Options, top: str | None) -> str | None:
    """Why a symbolic link met while walking is not read, or None to read it."""
    if not os.path.exists(path):
        return _dangling(path)
    if top is not None and not _inside(real, top) and not options.follow_symlinks:
        return f"symbolic link to a file outside the scanned tree: {_FOLLOW_HINT}"
    return None


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _read(path: str, plan: Plan, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    def fail(reason: str) -> None:
        plan.errors.append(LoadError(path, reason))
        plan.records.append(FileRecord(path, FileStatus.ERROR, reason=reason))

    def too_large(size: int, more: bool = False) -> None:
        shown = f"more than {show_size(max_bytes)}" if more else show_size(size)
        _skip(plan, path, f"file too large ({shown}, limit {show_size(max_bytes)}; --max-file-size raises it)")

    try:
        info = os.stat(path)
        kind = next((what for test, what in _KINDS if test(info.st_mode)), None)
        if kind is not None:  # never opened: a FIFO or a device would block or never end
            _skip(plan, path, f"not a regular file: {kind}")
            return None
        if info.st_size > max_bytes:
            too_large(info.st_size)
            return None
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # a file that grows while read is still bounded
        if len(data) > max_bytes:
            too_large(len(data), more=True)
            return None
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
