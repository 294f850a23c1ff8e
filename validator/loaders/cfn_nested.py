"""Nested stacks: every CloudFormation file of a scan, loaded one at a time, children through parents.

An `AWS::CloudFormation::Stack` (or a SAM `AWS::Serverless::Application`, which becomes one) whose
`TemplateURL` is a local path naming one of the scanned CloudFormation files is loaded with the
`Parameters` the parent passes (values the parent cannot resolve stay Unknown in the child, even
where the child has a default). Such a child is judged through its parent only, once per parent
stack resource; a file that is nobody's child is loaded by itself with the scan's parameter values.
The path is relative to the parent's directory, as `aws cloudformation package` reads it.

Everything else is a note on the parent (an unresolved finding at the stack resource, policy id
`cfn:nested-stack`), never a failure: remote templates (https://, s3://, the serverless application
repository), URLs that cannot be resolved statically, local paths that are not among the scanned
files (outside the scanned paths, or not a template) and cycles.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from validator.discover import SourceFile
from validator.loaders import cloudformation
from validator.model import (
    FileRecord,
    FileStatus,
    Finding,
    Format,
    LoadError,
    Location,
    Outcome,
    Resource,
    Severity,
    Template,
    Unknown,
    is_pseudo,
)
from validator.secrets import mask

NOTE_ID = "cfn:nested-stack"
STACK = "AWS::CloudFormation::Stack"
_MARKERS = (STACK, "AWS::Serverless::Application")
_REMOTE = ("https://", "http://", "s3://")
_SAM_PLACEHOLDER = "s3://bucket/value"  # what cfn-lint's SAM transform puts for a repository application
MAX_DEPTH = 10

Loaded = tuple[Template | None, list[LoadError], list[FileRecord]]


def load_tree(
    sources: Sequence[SourceFile],
    parameters: Mapping[str, Any] | None = None,
    cfn_lint: bool = False,
    *,
    budget: float | None = None,
    roots: Sequence[str] = (),
) -> Iterator[Loaded]:
    """`budget`: seconds each file may take to load; `roots`: the scanned trees (a TemplateURL that
    leaves them is refused, never read)."""
    return _Tree(sources, parameters or {}, cfn_lint, budget, roots).run()


def _key(path: str, known: dict[str, str] | None = None) -> str:
    """The identity of a file: its absolute path (computed once per scanned file)."""
    if known is not None and path in known:
        return known[path]
    return os.path.normcase(os.path.abspath(path))


class _Tree:
    def __init__(
        self, sources: Sequence[SourceFile], parameters: Mapping[str, Any], cfn_lint: bool, budget: float | None, roots: Sequence[str]
    ) -> None:
        self.sources = sources
        self.parameters = parameters
        self.cfn_lint = cfn_lint
        self.budget = budget
        self.roots = tuple(os.path.realpath(r) for r in roots)
        self.keys = {s.path: _key(s.path) for s in sources}
        self.by_key = {self.keys[s.path]: s for s in sources}
        self.visited: set[str] = set()
        self.preloaded: dict[str, tuple[Template | None, list[LoadError]]] = {}

    def run(self) -> Iterator[Loaded]:
        children: set[str] = set()
        for source in self.sources:
            if any(marker in source.text for marker in _MARKERS):
                loaded = cloudformation.load(source.path, source.text, self.parameters, cfn_lint=self.cfn_lint, budget=self.budget)
                self.preloaded[source.path] = loaded
                for stack in _stacks(loaded[0]):
                    child = self._local(stack, source.path)
                    if child is not None and child != _key(source.path, self.keys):
                        children.add(child)
        for source in self.sources:
            if _key(source.path, self.keys) not in children:
                yield from self._visit(source, self.parameters, ())
        for source in self.sources:  # children no parent reached (a cycle, a parent that failed)
            if _key(source.path, self.keys) not in self.visited:
                yield from self._visit(source, self.parameters, ())
        self.preloaded.clear()

    def _visit(self, source: SourceFile, parameters: Mapping[str, Any], chain: tuple[str, ...]) -> Iterator[Loaded]:
        key = _key(source.path, self.keys)
        first = key not in self.visited
        self.visited.add(key)
        if not chain and source.path in self.preloaded:
            template, errors = self.preloaded.pop(source.path)
        else:
            template, errors = cloudformation.load(
                source.path, source.text, parameters, cfn_lint=self.cfn_lint and first, budget=self.budget
            )
        records: list[FileRecord] = []
        if first:
            if template is None:
                reason = errors[0].message if errors else "could not be loaded"
                records.append(FileRecord(source.path, FileStatus.ERROR, Format.CLOUDFORMATION, reason))
            else:
                count = sum(1 for r in template.resources if not is_pseudo(r.type))
                records.append(FileRecord(source.path, FileStatus.SCANNED, Format.CLOUDFORMATION, resources=count))
        if template is None:
            yield None, errors if first else [], records
            return
        notes: list[Finding] = []
        children: list[tuple[SourceFile, Mapping[str, Any]]] = []
        for stack in _stacks(template):
            note, child = self._follow(stack, source.path, (*chain, key))
            if note:
                notes.append(_note(stack, note))
            if child is not None:
                children.append(child)
        if notes:
            template = replace(template, notes=(*template.notes, *notes))
        yield template, errors if first else [], records
        for child, child_parameters in children:
            yield from self._visit(child, child_parameters, (*chain, key))

    def _local(self, stack: Resource, parent: str) -> str | None:
        url = stack.properties.get("TemplateURL")
        if not isinstance(url, str) or url.lower().startswith(_REMOTE):
            return None
        path = url.removeprefix("file://")
        return _key(path if os.path.isabs(path) else os.path.join(os.path.dirname(parent), path))

    def _follow(self, stack: Resource, parent: str, chain: tuple[str, ...]) -> tuple[str, tuple[SourceFile, Mapping[str, Any]] | None]:
        """(note, child to load): what to say about this stack resource, and what to load for it."""
        url = stack.properties.get("TemplateURL")
        if url is None:
            return "", None
        if isinstance(url, Unknown):
            return f"nested stack {stack.id}: TemplateURL could not be resolved ({url.reason}); its template is not analysed", None
        if not isinstance(url, str):
            return f"nested stack {stack.id}: TemplateURL is not a string; its template is not analysed", None
        if url == _SAM_PLACEHOLDER:  # cfn-lint's stand-in for a repository application's location
            return f"nested stack {stack.id}: an application from the AWS Serverless Application Repository is not analysed", None
        if url.lower().startswith(_REMOTE):
            return f"nested stack {stack.id}: remote template {url} is not analysed (only local template paths are)", None
        key = self._local(stack, parent)
        child = self.by_key.get(key or "")
        if child is None and key and not self._inside(key):
            return f"nested stack {stack.id}: template {url} is outside the scanned tree: refused, not read", None
        if child is None:
            shown = os.path.normpath(os.path.join(os.path.dirname(parent), url.removeprefix("file://")))
            why = "is not one of the scanned CloudFormation files (outside the scanned paths, or not a template)"
            if not os.path.exists(shown):
                why = "does not exist"
            return f"nested stack {stack.id}: template {shown} {why}; it is not analysed", None
        if key in chain:
            return f"nested stack {stack.id}: template {child.path} includes itself (a cycle); it is not loaded again", None
        if len(chain) >= MAX_DEPTH:
            return f"nested stack {stack.id}: stacks nested deeper than {MAX_DEPTH} levels are not loaded", None
        given = stack.properties.get("Parameters", {})
        if isinstance(given, Unknown):
            note = f"nested stack {stack.id}: Parameters could not be resolved ({given.reason}); {child.path} is judged with its defaults"
            return note, (child, {})
        return "", (child, dict(given) if isinstance(given, Mapping) else {})


    def _inside(self, key: str) -> bool:
        if not self.roots:
            return True
        real = os.path.realpath(key)
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)


def _stacks(template: Template | None) -> list[Resource]:
    return [r for r in (template.resources if template else ()) if r.type == STACK]


def _note(stack: Resource, message: str) -> Finding:
    return Finding(
        policy_id=NOTE_ID,
        title="Nested stack template not analysed",
        severity=Severity.LOW,
        outcome=Outcome.SKIP,
        message=mask(message),
        resource_id=stack.id,
        resource_type=stack.type,
        format=Format.CLOUDFORMATION,
        location=Location(stack.location.file, stack.line_of(("TemplateURL",))),
        remediation="Scan the nested template's file too, with a local TemplateURL (aws cloudformation package resolves it).",
    )
