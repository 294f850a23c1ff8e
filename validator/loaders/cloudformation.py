"""CloudFormation YAML/JSON → model.Template, decoded by cfn-lint (line numbers for every key).

What a team writes is resolved as far as the template (and the parameter values given for this
scan) allows: parameters (given values, else defaults, else Unknown; AllowedValues enumerated),
intrinsic functions (`cfn_intrinsics`), conditions and Fn::If (a resource whose choices matter is
resolved once per consistent choice, `Template.variants`), SAM templates (expanded with cfn-lint's
SAM transform, `cfn_sam`), CDK output (the construct path of each resource is its origin) and the
relations between resources (`cfn_relations`). Nested stacks are followed by `cfn_nested`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from validator import limits
from validator.loaders import cfn_decode, cfn_relations, cfn_sam
from validator.loaders.cfn_intrinsics import (
    NO_VALUE,
    Resolver,
    Scope,
    assignments,
    describe,
    intrinsic,
    variables,
)
from validator.model import (
    Finding,
    Format,
    LoadError,
    Location,
    Outcome,
    Path,
    Resource,
    Severity,
    Template,
)
from validator.secrets import mask

PARAMETER = "AWS::CloudFormation::Parameter"  # a template parameter, judged like a resource
OUTPUT = "AWS::CloudFormation::Output"
CDK_PATH = "aws:cdk:path"


def load(
    path: str,
    text: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    cfn_lint: bool = False,
    budget: float | None = None,
) -> tuple[Template | None, list[LoadError]]:
    """One template. `parameters` are values for this scan (from --parameters/--parameter, or from
    the parent stack); `cfn_lint` adds cfn-lint's error-level findings as notes; `budget` is the
    time it may take, in seconds (validator/limits.py): past it, the file is an error."""
    problem = limits.structure_problem(text)  # before decoding: aliases and nesting, see limits.py
    if problem is not None:
        return None, [LoadError(path, problem.message, problem.line)]
    try:
        with limits.time_budget(budget):
            return _load(path, text, parameters, cfn_lint)
    except limits.BudgetExceeded as exc:
        return None, [LoadError(path, f"loading {exc} (the per-file time budget, --file-timeout): not analysed")]


def _load(
    path: str, text: str, parameters: Mapping[str, Any] | None, cfn_lint: bool
) -> tuple[Template | None, list[LoadError]]:
    decoded, errors = _decode(path, text, exact=cfn_lint)
    if errors:
        return None, errors
    if not isinstance(decoded, Mapping):
        return None, [LoadError(path, "template is not a mapping")]
    if not isinstance(decoded.get("Resources"), Mapping):
        return None, [LoadError(path, "template has no Resources mapping", _line(decoded, "Resources"))]

    notes: list[Finding] = []
    source: Mapping[str, Any] = decoded
    sam_sources: Mapping[str, str] = {}
    if cfn_sam.is_sam(decoded):
        expansion = cfn_sam.expand(path, decoded)
        if expansion.template is not None:
            source, sam_sources = expansion.template, expansion.sources
        else:
            notes.append(_sam_note(path, decoded, expansion.error))

    builder = _Builder(path, decoded, source, Scope(source, parameters), sam_sources)
    resources, variants = builder.build()
    if cfn_lint:
        from validator.loaders import cfn_linter

        notes.extend(cfn_linter.lint(path, copy.deepcopy(decoded), {r.id: r.type for r in resources}))
    return (
        Template(
            Format.CLOUDFORMATION,
            path,
            tuple(resources),
            (path,),
            variants=variants,
            relations=cfn_relations.relations(resources),
            notes=tuple(notes),
        ),
        [],
    )


class _Builder:
    def __init__(
        self,
        path: str,
        original: Mapping[str, Any],
        source: Mapping[str, Any],
        scope: Scope,
        sam_sources: Mapping[str, str],
    ) -> None:
        self.path = path
        self.original = original
        self.source = source
        self.scope = scope
        self.sam_sources = sam_sources
        self.plain = Resolver(scope)
        declared = original.get("Resources")
        self.original_resources: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}

    def build(self) -> tuple[list[Resource], dict[str, tuple[Resource, ...]]]:
        resources: list[Resource] = []
        variants: dict[str, tuple[Resource, ...]] = {}
        for logical_id, body in self.scope.resources.items():
            if not isinstance(body, Mapping) or not isinstance(body.get("Type"), str):
                continue  # cfn-lint reports malformed resources; we only judge typed ones
            name = str(logical_id)
            properties_key = next((k for k in body if k == "Properties"), None)
            built = self._expand(
                name, str(body["Type"]), body, body.get("Properties", {}), self._resource_line(name), _mark(properties_key)
            )
            if built is not None:
                resources.append(built[0])
                if built[1]:
                    variants[name] = built[1]
        # Parameters and Outputs are judged too (hard-coded keys in defaults, secrets in outputs).
        for section, rtype in (("Parameters", PARAMETER), ("Outputs", OUTPUT)):
            entries = self.source.get(section)
            if not isinstance(entries, Mapping):
                continue
            for name, body in entries.items():
                if isinstance(body, Mapping):
                    built = self._expand(str(name), rtype, body, body, _line(entries, str(name)), _mark(name))
                    if built is not None:
                        resources.append(built[0])
                        if built[1]:
                            variants[str(name)] = built[1]
        return resources, variants

    def _expand(
        self, name: str, rtype: str, body: Mapping[str, Any], node: Any, line: int | None, parent: tuple[int, int] | None
    ) -> tuple[Resource, tuple[Resource, ...]] | None:
        """The resource as valid for every choice, and its variants when the choices matter.
        None when a condition the parameters decide says it is not created."""
        condition = body.get("Condition") if rtype != PARAMETER else None
        condition = str(condition) if isinstance(condition, str) else None
        if condition and self.plain.condition(condition) is False:
            return None
        metadata = body.get("Metadata") if rtype != PARAMETER else None
        chosen, shown = variables(self.scope, [node, metadata], condition) if rtype != PARAMETER else ([], set())
        worlds = assignments(self.scope, chosen) if chosen else [{}]
        if condition:
            worlds = [w for w in worlds if Resolver(self.scope, w).condition(condition) is not False]
        if not worlds:
            return None
        if len(worlds) == 1:
            return self._make(name, rtype, node, metadata, line, Resolver(self.scope, worlds[0]), parent), ()
        # A variant is named by the choices that differ between variants and that the resource
        # uses itself (its conditions, its parameters); worlds that agree on those are one variant.
        varying = [v for v in chosen if v in shown and len({repr(w.get(v)) for w in worlds}) > 1]
        named: dict[tuple[tuple[str, str], ...], dict[Any, Any]] = {}
        for w in worlds:
            named.setdefault(tuple(describe(v, w[v]) for v in varying if v in w), w)
        resolved = [
            replace(self._make(name, rtype, node, metadata, line, Resolver(self.scope, w), parent), variant=label)
            for label, w in named.items()
        ]
        if all(r.properties == resolved[0].properties and r.metadata == resolved[0].metadata for r in resolved):
            return replace(resolved[0], variant=()), ()  # the choices change nothing that is judged
        return self._make(name, rtype, node, metadata, line, self.plain, parent), tuple(resolved)

    def _make(
        self, name: str, rtype: str, node: Any, metadata: Any, line: int | None, resolver: Resolver, parent: tuple[int, int] | None
    ) -> Resource:
        """One resolution. `parent` is the mark of the key holding `node`: keys a transform made
        inherit it, and get no line of their own."""
        lines: dict[Path, int] = {}
        props: Any = {}
        if isinstance(node, Mapping):
            _collect_lines(node, (), lines, resolver, parent)
            props = resolver.resolve(node)
        meta: Any = resolver.resolve(metadata) if isinstance(metadata, Mapping) else {}
        meta = meta if isinstance(meta, Mapping) else {}
        return Resource(
            format=Format.CLOUDFORMATION,
            type=rtype,
            id=name,
            properties=props if isinstance(props, Mapping) else {},
            location=Location(self.path, line),
            lines=lines,
            metadata=meta,
            origin=self._origin(name, meta),
        )

    def _resource_line(self, name: str) -> int | None:
        if name in self.original_resources:
            return _line(self.original_resources, name)
        sam_source = self.sam_sources.get(name)
        if sam_source and sam_source in self.original_resources:
            return _line(self.original_resources, sam_source)
        return _line(self.original, "Transform") or _line(self.original, "Resources")

    def _origin(self, name: str, metadata: Mapping[str, Any]) -> str:
        cdk = metadata.get(CDK_PATH)
        if isinstance(cdk, str) and cdk:
            return cdk
        if name in self.sam_sources and self.sam_sources[name] != name:
            sam_source = self.sam_sources[name]
            return f"SAM {sam_source}" if sam_source else "SAM implicit resource"
        return ""


def _sam_note(path: str, decoded: Mapping[str, Any], error: str) -> Finding:
    return Finding(
        policy_id="cfn-lint:E0001",
        title="SAM transform failed",
        severity=Severity.LOW,
        outcome=Outcome.SKIP,
        message=mask(f"the SAM transform failed ({error}); the untransformed template was judged, so what its SAM resources create is not"),
        resource_id="Transform",
        resource_type="AWS::Serverless",
        format=Format.CLOUDFORMATION,
        location=Location(path, _line(decoded, "Transform")),
        remediation="Fix the SAM resource the error names (cfn-lint reports it as E0001).",
    )


def _decode(path: str, text: str, exact: bool) -> tuple[Any, list[LoadError]]:
    """Decode with the fast path (cfn_decode) where it can; cfn-lint's decoder for everything else:
    YAML or JSON the C parser rejects (for cfn-lint's exact error), SAM templates (the transform
    works on cfn-lint's nodes) and `--cfn-lint` runs (its rules get its own decoding)."""
    if not exact:
        try:
            decoded = cfn_decode.decode(text)
        except cfn_decode.DecodeError as exc:
            return None, [LoadError(path, str(exc), exc.line)]
        if isinstance(decoded, Mapping) and not cfn_sam.is_sam(decoded):
            return decoded, []
    from cfnlint.decode import decode_str  # heavy import (0.3 s): only when the fast path cannot decide

    try:
        decoded, matches = decode_str(text)
    except Exception as exc:  # the decoder's own failure is still a per-file error
        return None, [LoadError(path, f"cannot decode template: {exc}")]
    if matches:
        return None, [_decode_error(path, m) for m in matches]
    return decoded, []


def _decode_error(path: str, match: Any) -> LoadError:
    message = str(getattr(match, "message", match))
    line = getattr(match, "linenumber", None)
    return LoadError(path, message.strip(), line if isinstance(line, int) and line > 0 else None)


def _line(mapping: Mapping[str, Any], key: str) -> int | None:
    for k in mapping:
        if k == key:
            mark = getattr(k, "start_mark", None)
            return mark.line + 1 if mark is not None else None
    return None


def _mark(node: Any) -> tuple[int, int] | None:
    mark = getattr(node, "start_mark", None)
    return (mark.line, mark.column) if mark is not None else None


_MAX_DEPTH = 100


def _collect_lines(node: Any, path: Path, out: dict[Path, int], resolver: Resolver, parent: tuple[int, int] | None) -> None:
    """Line of every key and list item, by the path it has after resolution.

    Fn::If is looked through (the chosen branch, or both when undecided); other intrinsic functions
    are leaves. A key whose mark equals its parent's was made by a transform (SAM), not written:
    it gets no line of its own.
    """
    if len(path) > _MAX_DEPTH:
        return
    call = intrinsic(node)
    if call is not None:
        fn, arg = call
        if fn == "Fn::If" and isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str):
            decided = resolver.condition(arg[0])
            for branch in ([arg[1]] if decided else [arg[2]]) if decided is not None else [arg[1], arg[2]]:
                _collect_lines(branch, path, out, resolver, parent)
        return
    if isinstance(node, dict):
        for key, value in node.items():
            mark = _mark(key)
            sub = (*path, str(key))
            if mark is not None and mark != parent and sub not in out:
                out[sub] = mark[0] + 1
            _collect_lines(value, sub, out, resolver, mark or parent)
    elif isinstance(node, list):
        index = 0
        for value in node:
            if isinstance(value, dict) and intrinsic(value) is not None and resolver.resolve(value) is NO_VALUE:
                continue  # removed by AWS::NoValue: the next item takes its index
            mark = _mark(value)
            sub = (*path, index)
            if mark is not None and mark != parent and sub not in out:
                out[sub] = mark[0] + 1
            _collect_lines(value, sub, out, resolver, mark or parent)
            index += 1
