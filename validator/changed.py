"""Changed-files mode (`scan --changed-since REF`): which files to scan, and why.

git is asked (a local subprocess, no network) for
- the files changed on this branch since it left REF: `git diff --name-only REF...HEAD`
  (the merge base, as a pull request shows them), plus
- the working tree's own changes: staged and unstaged edits (`git diff --name-only HEAD`) and
  untracked files that are not ignored (`git ls-files --others --exclude-standard`), so a local run
  or a pre-commit hook sees what is about to be committed. In CI the working tree is clean and only
  the branch's changes count.

A changed file is scanned together with what it belongs to: a `.tf`/`.tfvars` file brings its whole
module directory, and every module directory that calls it with a local `source`; a nested
CloudFormation template brings the parent stacks whose `TemplateURL` (or SAM application
`Location`) points to it. Deleted files are listed as changed; a deleted `.tf` file still brings
its module directory. Only paths under the scanned roots are kept.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from validator.model import Scope, ScopeEntry

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
TERRAFORM_SUFFIXES = (".tf", ".tfvars")
_SKIP_DIRS = {".git", ".terraform", "node_modules", "__pycache__", ".venv", "venv", ".tox"}
_MAX_BYTES = 10 * 1024 * 1024
_MODULE_SOURCE = re.compile(r"""^\s*source\s*=\s*"(\.\.?/[^"]*)"\s*$""", re.M)
_TEMPLATE_URL = re.compile(r"""["']?(?:TemplateURL|Location)["']?\s*:\s*["']?([^\s"'#,}]+)""")


class GitError(Exception):
    """git could not answer (not a repository, unknown REF, git missing)."""


def _git(args: list[str], cwd: str) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60, check=False
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed (needed for --changed-since)") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {' '.join(args)} timed out") from exc
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise GitError(f"git {' '.join(args)}: {message[0] if message else f'exit {done.returncode}'}")
    return done.stdout


def repository_root(cwd: str) -> str:
    return _git(["rev-parse", "--show-toplevel"], cwd).strip()


def changed_files(since: str, cwd: str = ".") -> list[str]:
    """Absolute paths of the files changed since `since` (branch changes + working tree changes)."""
    if since.startswith("-"):
        raise GitError(f"{since!r} is not a git revision")
    root = repository_root(cwd)
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{since}^{{commit}}"], root)
    except GitError as exc:
        raise GitError(
            f"unknown git revision {since!r} (a CI checkout may need it fetched: git fetch origin {since}, "
            "with enough history for the merge base)"
        ) from exc
    names: set[str] = set()
    for args in (
        ["diff", "--name-only", "-z", "--no-renames", f"{since}...HEAD", "--"],
        ["diff", "--name-only", "-z", "--no-renames", "HEAD", "--"],
        ["ls-files", "--others", "--exclude-standard", "-z"],
    ):
        names.update(n for n in _git(args, root).split("\0") if n)
    return sorted(os.path.join(root, n) for n in names)


@dataclass(frozen=True)
class _Roots:
    roots: tuple[str, ...]  # absolute

    def contains(self, path: str) -> bool:
        return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)


def _display(path: str) -> str:
    """Relative to the current directory when under it, as paths given on the command line are."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def scope(since: str, changed: Iterable[str], roots: Iterable[str]) -> Scope:
    """What to scan for these changed files (absolute paths), limited to the scan roots."""
    within = _Roots(tuple(os.path.abspath(r) for r in roots))
    changed = sorted({os.path.abspath(c) for c in changed if within.contains(os.path.abspath(c))})
    chosen: dict[str, str] = {}  # absolute path → reason

    def add(path: str, reason: str) -> None:
        if path not in chosen and within.contains(path):
            chosen[path] = reason

    modules: dict[str, str] = {}  # module dir → the changed file that brought it
    templates: list[str] = []
    for path in changed:
        name = os.path.basename(path)
        if name.endswith(TERRAFORM_SUFFIXES) or name.endswith(".tfvars.json"):
            directory = os.path.dirname(path)
            if os.path.isdir(directory):
                modules.setdefault(directory, path)
            if os.path.isfile(path):
                add(path, "changed")
        elif name.endswith(TEMPLATE_SUFFIXES) and os.path.isfile(path):
            add(path, "changed")
            templates.append(path)

    for directory, cause in sorted(modules.items()):
        for file in _module_files(directory):
            add(file, f"same Terraform module as {_display(cause)}")
    if modules:
        callers = _module_callers(within.roots)
        queue = list(modules)
        seen = set(queue)
        while queue:
            module = queue.pop(0)
            for caller in sorted(callers.get(module, ())):
                for file in _module_files(caller):
                    add(file, f"calls module {_display(module)}")
                if caller not in seen:
                    seen.add(caller)
                    queue.append(caller)
    if templates:
        parents = _parent_stacks(within.roots)
        queue = list(templates)
        seen = set(queue)
        while queue:
            child = queue.pop(0)
            for parent in sorted(parents.get(child, ())):
                add(parent, f"parent stack of {_display(child)}")
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)

    entries = tuple(ScopeEntry(_display(p), chosen[p]) for p in sorted(chosen))
    return Scope(since=since, changed=tuple(_display(c) for c in changed), scanned=entries)


def _module_files(directory: str) -> list[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [
        os.path.join(directory, n)
        for n in names
        if (n.endswith(TERRAFORM_SUFFIXES) or n.endswith(".tfvars.json")) and os.path.isfile(os.path.join(directory, n))
    ]


def _walk(roots: Iterable[str], suffixes: tuple[str, ...]) -> Iterable[str]:
    for root in roots:
        if os.path.isfile(root):
            if root.endswith(suffixes):
                yield root
            continue
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for name in sorted(filenames):
                if name.endswith(suffixes):
                    yield os.path.join(directory, name)


def _read(path: str) -> str:
    try:
        if os.path.getsize(path) > _MAX_BYTES:
            return ""
        return Path(path).read_text("utf-8", errors="replace")
    except OSError:
        return ""


def _module_callers(roots: Iterable[str]) -> dict[str, set[str]]:
    """Module directory → directories that call it with a local `source = "./..."`."""
    out: dict[str, set[str]] = {}
    for file in _walk(roots, (".tf",)):
        text = _read(file)
        if "source" not in text:
            continue
        here = os.path.dirname(file)
        for m in _MODULE_SOURCE.finditer(text):
            target = os.path.normpath(os.path.join(here, m.group(1)))
            out.setdefault(target, set()).add(here)
    return out


def _parent_stacks(roots: Iterable[str]) -> dict[str, set[str]]:
    """Template → templates that nest it with a local TemplateURL (or SAM application Location)."""
    out: dict[str, set[str]] = {}
    for file in _walk(roots, TEMPLATE_SUFFIXES):
        text = _read(file)
        if "TemplateURL" not in text and "AWS::Serverless::Application" not in text:
            continue
        here = os.path.dirname(file)
        for m in _TEMPLATE_URL.finditer(text):
            url = m.group(1)
            if "://" in url or url.startswith(("!", "{", "$")):
                continue
            target = os.path.normpath(os.path.join(here, url))
            if target != file:
                out.setdefault(target, set()).add(file)
    return out
