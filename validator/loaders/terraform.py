"""Terraform module directory (all its .tf files) → model.Template, parsed by python-hcl2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Tree

from validator.loaders.hcl_eval import Scope, evaluate, identifier, subtrees
from validator.model import Format, LoadError, Location, Path, Resource, Template, Unknown

# Meta-arguments are Terraform's, not the resource's properties.
_META = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"}


@dataclass(frozen=True)
class _Block:
    kind: str
    labels: tuple[str, ...]
    body: Tree
    file: str
    line: int


def parse_file(path: str, text: str) -> tuple[Tree | None, LoadError | None]:
    from hcl2 import parses_to_tree

    try:
        return parses_to_tree(text if text.endswith("\n") else text + "\n"), None
    except Exception as exc:  # lark's UnexpectedInput family and friends
        line = getattr(exc, "line", None)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, LoadError(path, f"invalid HCL: {first}", line if isinstance(line, int) and line > 0 else None)


def load_module(directory: str, files: list[tuple[str, str]]) -> tuple[Template | None, list[LoadError]]:
    """`files` is (path, text) for every .tf file of one directory; a bad file does not stop the rest."""
    errors: list[LoadError] = []
    blocks: list[_Block] = []
    loaded: list[str] = []
    for path, text in files:
        tree, error = parse_file(path, text)
        if error:
            errors.append(error)
            continue
        assert tree is not None
        loaded.append(path)
        body = subtrees(tree)[0]
        for block in subtrees(body):
            if block.data != "block":
                continue
            parts = subtrees(block)
            labels = tuple(identifier(p) for p in parts[:-1])
            blocks.append(_Block(labels[0], labels[1:], parts[-1], path, block.meta.line))
    if not loaded:
        return None, errors

    variables: dict[str, Any] = {}
    locals_: dict[str, Tree] = {}
    for b in blocks:
        if b.kind == "variable" and b.labels:
            attrs = _attributes(b.body)
            variables[b.labels[0]] = (
                evaluate(attrs["default"], Scope({}, {})) if "default" in attrs else Unknown(f"var.{b.labels[0]} has no value")
            )
        elif b.kind == "locals":
            locals_.update(_attributes(b.body))
    scope = Scope(variables, locals_)

    resources: list[Resource] = []
    for b in blocks:
        address = _address(b, scope)
        if address is None:
            continue
        rtype, rid = address
        attrs = _attributes(b.body)
        if _never_created(attrs, scope):
            continue
        lines: dict[Path, int] = {}
        props = _body_values(b.body, scope, (), lines)
        if b.kind == "variable" and b.labels:
            props["default"] = variables[b.labels[0]] if "default" in attrs else props.get("default")
        resources.append(Resource(Format.TERRAFORM, rtype, rid, props, Location(b.file, b.line), lines))
    return Template(Format.TERRAFORM, directory, tuple(resources), tuple(loaded)), errors


def _address(b: _Block, scope: Scope) -> tuple[str, str] | None:
    """(type, address) of a block the policies can judge; None for blocks that are not judged."""
    if b.kind == "resource" and len(b.labels) == 2:
        return b.labels[0], f"{b.labels[0]}.{b.labels[1]}"
    if b.kind == "data" and len(b.labels) == 2:
        return f"data.{b.labels[0]}", f"data.{b.labels[0]}.{b.labels[1]}"
    if b.kind == "provider" and b.labels:
        attrs = _attributes(b.body)
        alias = evaluate(attrs["alias"], scope) if "alias" in attrs else None
        rtype = f"provider.{b.labels[0]}"
        return rtype, f"{rtype}.{alias}" if isinstance(alias, str) else rtype
    if b.kind in ("variable", "output") and b.labels:
        return b.kind, f"{'var' if b.kind == 'variable' else 'output'}.{b.labels[0]}"
    return None


def _never_created(attrs: dict[str, Tree], scope: Scope) -> bool:
    """`count = 0` or an empty `for_each`, known statically: the resource does not exist."""
    if "count" in attrs:
        count = evaluate(attrs["count"], scope)
        return isinstance(count, int) and not isinstance(count, bool) and count == 0
    if "for_each" in attrs:
        each = evaluate(attrs["for_each"], scope)
        return isinstance(each, list | dict) and len(each) == 0
    return False


def _attributes(body: Tree) -> dict[str, Tree]:
    out: dict[str, Tree] = {}
    for node in subtrees(body):
        if node.data == "attribute":
            name_tree, value_tree = subtrees(node)
            out[identifier(name_tree)] = value_tree
    return out


def _body_values(body: Tree, scope: Scope, path: Path, lines: dict[Path, int]) -> dict[str, Any]:
    """Attributes become values; nested blocks become lists of objects, as in plan JSON."""
    out: dict[str, Any] = {}
    for node in subtrees(body):
        if node.data == "attribute":
            name_tree, value_tree = subtrees(node)
            name = identifier(name_tree)
            if not path and name in _META:
                continue
            lines[(*path, name)] = node.meta.line
            out[name] = evaluate(value_tree, scope)
        elif node.data == "block":
            parts = subtrees(node)
            kind = identifier(parts[0])
            if not path and kind in _META:
                continue
            if kind == "dynamic" and len(parts) >= 3:
                name = identifier(parts[1])
                lines[(*path, name)] = node.meta.line
                out[name] = Unknown(f"dynamic block {name}")
                continue
            items = out.setdefault(kind, [])
            if isinstance(items, list):
                sub = (*path, kind, len(items))
                lines[(*path, kind)] = lines.get((*path, kind), node.meta.line)
                lines[sub] = node.meta.line
                items.append(_body_values(parts[-1], scope, sub, lines))
    return out
