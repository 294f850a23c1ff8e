"""Terraform configuration → model.Template, parsed by python-hcl2 and evaluated statically.

A *root* module directory is loaded with its variable values (Terraform's precedence: declared
defaults < `terraform.tfvars` < `terraform.tfvars.json` < `*.auto.tfvars[.json]` in lexical order <
`--var-file` files in order < `--var name=value`) and with every local module it calls
(`source = "./modules/x"`), recursively: module arguments become the child's variables, and the
child's resources get full addresses (`module.vendor.aws_iam_role.this`) while keeping their own
file:line. Registry, git and other remote modules are never fetched; they are reported as skipped.

`count` and `for_each` with known values expand to one resource per instance
(`aws_iam_role.x[0]`, `aws_iam_role.ci["dev"]`) with `count.index` / `each.key` / `each.value`
bound; when they cannot be known, the block is analysed once with the marker `[*]` in its address
(`aws_iam_role.ci[*]`) and the instance values unknown.

References resolve through `Scope.references`: `data.aws_iam_policy_document.x.json` is the rendered
IAM document; `aws_iam_role.x.arn` is a Reference to `aws_iam_role.x`; a configured attribute such as
`aws_iam_role.x.name` is known (a ResolvedReference: its value inside strings, a Reference on its own);
`module.m.out` is the child's output; `data.aws_caller_identity.*.account_id` is the self account.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lark import Tree

from validator.loaders import tf_policy_document
from validator.loaders.hcl_eval import (
    FileAccess,
    Index,
    MissingAttribute,
    ResolvedReference,
    Scope,
    Step,
    evaluate,
    identifier,
    index_into,
    known_value,
    line_of,
    parses_to_tree,
    subtrees,
)
from validator.loaders.tf_relations import relations
from validator.model import (
    FileRecord,
    FileStatus,
    Format,
    LoadError,
    Location,
    Path,
    Reference,
    Resource,
    Template,
    Unknown,
    contains_unknown,
)

# Meta-arguments are Terraform's, not the resource's properties.
_META = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"}
_MODULE_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}
# A reference to one of these attributes names the resource: on its own it stays a Reference, so
# relations (instance → profile → role) can be followed, even when its value is configured.
_IDENTITY_ATTRIBUTES = frozenset({"name", "name_prefix", "id", "arn", "bucket", "function_name"})
MAX_MODULE_DEPTH = 16
MAX_INSTANCES = 1000  # a larger count / for_each is analysed once, with the [*] marker
UNKNOWN_INSTANCE = "*"  # the instance key of a block whose count / for_each is not known
_NOT_JUDGED = object()


@dataclass(frozen=True)
class _Block:
    kind: str
    labels: tuple[str, ...]
    body: Tree
    file: str
    line: int
    attrs: Mapping[str, Tree] = field(compare=False)


@dataclass(frozen=True)
class ModuleFiles:
    """The parsed .tf files of one directory."""

    directory: str
    blocks: tuple[_Block, ...]
    files: tuple[str, ...]  # the files that parsed
    errors: tuple[LoadError, ...]


@dataclass
class ModuleLoad:
    """A root module loaded with its local modules."""

    template: Template | None
    errors: list[LoadError]
    skipped: list[FileRecord]  # module calls that were not analysed (remote, outside the tree, ...)
    modules: set[str]  # directories instantiated as child modules
    tfvars: dict[str, int]  # tfvars file → number of values it sets (files that parsed)


Sources = Callable[[str], "ModuleFiles | None"]


def parse_file(path: str, text: str) -> tuple[Tree | None, LoadError | None]:
    # A parse allocates hundreds of thousands of tree nodes and no garbage cycles; with the parse
    # trees of the modules being loaded alive, the cyclic collector would re-traverse them again and
    # again during the parse (measured: +50 % parse time on the Terraform corpus). Paused, restored.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return parses_to_tree(text if text.endswith("\n") else text + "\n"), None
    except Exception as exc:  # lark's UnexpectedInput family and friends
        line = getattr(exc, "line", None)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, LoadError(path, f"invalid HCL: {first}", line if isinstance(line, int) and line > 0 else None)
    finally:
        if collecting:
            gc.enable()


def parse_module(directory: str, files: list[tuple[str, str]]) -> ModuleFiles:
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
            blocks.append(_Block(labels[0], labels[1:], parts[-1], path, line_of(block), _attributes(parts[-1])))
    return ModuleFiles(directory, tuple(blocks), tuple(loaded), tuple(errors))


def load_module(directory: str, files: list[tuple[str, str]]) -> tuple[Template | None, list[LoadError]]:
    """One directory on its own, with variable defaults only (no tfvars, no child modules)."""
    result = load_root(parse_module(directory, files))
    return result.template, result.errors


# --- variable values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    name: str
    value: Any
    file: str
    line: int | None


def read_tfvars(path: str, text: str) -> tuple[list[Assignment], LoadError | None]:
    """The assignments of a .tfvars (HCL) or .tfvars.json file."""
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            return [], LoadError(path, f"invalid JSON: {getattr(exc, 'msg', exc)}", getattr(exc, "lineno", None))
        if not isinstance(data, dict):
            return [], LoadError(path, "a .tfvars.json file must hold an object")
        return [Assignment(k, v, path, _json_key_line(text, k)) for k, v in data.items()], None
    tree, error = parse_file(path, text)
    if error:
        return [], error
    assert tree is not None
    out: list[Assignment] = []
    empty = Scope({}, {})
    for node in subtrees(subtrees(tree)[0]):
        if node.data == "attribute":
            name_tree, value_tree = subtrees(node)
            out.append(Assignment(identifier(name_tree), evaluate(value_tree, empty), path, line_of(node)))
        elif node.data == "block":
            return [], LoadError(path, "blocks are not allowed in a variable definitions file", line_of(node))
    return out, None


def _json_key_line(text: str, key: str) -> int | None:
    at = text.find(json.dumps(key) + ":")
    if at < 0:
        at = text.find(json.dumps(key))
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def tfvars_applies(path: str) -> bool:
    """Whether Terraform loads this file by itself (terraform.tfvars[.json], *.auto.tfvars[.json])."""
    name = os.path.basename(path)
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith((".auto.tfvars", ".auto.tfvars.json"))


def _tfvars_order(path: str) -> tuple[int, str]:
    name = os.path.basename(path)
    rank = {"terraform.tfvars": 0, "terraform.tfvars.json": 1}.get(name, 2)
    return rank, name


def _cli_value(raw: str, type_text: str) -> Any:
    """A `--var` value, read like Terraform: a string unless the variable's type says otherwise."""
    kind = type_text.replace(" ", "")
    text = raw.strip()
    if kind == "number":
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return raw
    if kind == "bool" and text in ("true", "false"):
        return text == "true"
    if kind.startswith(("list", "set", "tuple", "map", "object")) or (kind in ("", "any") and text[:1] in "[{"):
        tree, error = parse_file("--var", f"v = {text}\n")
        if tree is not None and error is None:
            attribute = next(tree.find_data("attribute"), None)
            if attribute is not None:
                value = evaluate(subtrees(attribute)[-1], Scope({}, {}))
                if not contains_unknown(value):
                    return value
    return raw


# --- loading ----------------------------------------------------------------------------------------


def load_root(
    module: ModuleFiles,
    *,
    tfvars: list[tuple[str, str]] | None = None,
    var_files: list[tuple[str, str]] | None = None,
    variables: Mapping[str, Any] | None = None,
    cli_variables: Mapping[str, str] | None = None,
    roots: tuple[str, ...] = (),
    sources: Sources | None = None,
    declared: set[str] | None = None,
) -> ModuleLoad:
    """A root module with its values and local modules.

    `tfvars`: every .tfvars file of the directory (those Terraform loads by itself set values; all of
    them become `variable` pseudo-resources so their contents are judged); `var_files`: --var-file
    contents in order; `variables`: already typed values with the highest precedence (a plan's
    variables); `cli_variables`: --var strings; `roots`: the scanned tree (modules and file() must stay
    inside; default: the module directory); `sources`: directory → parsed module, for child modules;
    `declared`: module directories whose variable and output blocks were already emitted (a child
    module's declarations are judged once, not once per instance; shared across the roots of a scan).
    """
    errors = list(module.errors)
    values: dict[str, Any] = {}
    pseudo: list[Resource] = []
    counts: dict[str, int] = {}
    for path, text in sorted(tfvars or [], key=lambda f: _tfvars_order(f[0])):
        assignments, error = read_tfvars(path, text)
        if error:
            errors.append(error)
            continue
        counts[path] = len(assignments)
        for a in assignments:
            lines = {("value",): a.line} if a.line else {}
            pseudo.append(Resource(Format.TERRAFORM, "variable", f"var.{a.name}", {"value": a.value}, Location(path, a.line), lines))
            if tfvars_applies(path):
                values[a.name] = a.value
    for path, text in var_files or []:
        assignments, error = read_tfvars(path, text)
        if error:
            errors.append(error)
            continue
        values.update((a.name, a.value) for a in assignments)
    raw_cli = dict(cli_variables or {})
    values.update(variables or {})
    if not module.files and not pseudo:
        return ModuleLoad(None, errors, [], set(), counts)

    real_roots = tuple(os.path.realpath(r) for r in (roots or (module.directory,)))
    ctx = _Context(sources or (lambda d: None), real_roots, module.directory, declared)
    root = _Module(ctx, module, "", None, values, raw_cli, 0, (os.path.realpath(module.directory),), ())
    resources = [*root.resources(), *pseudo]
    errors.extend(ctx.errors)
    files = tuple(dict.fromkeys([*module.files, *ctx.files, *counts]))
    template = Template(Format.TERRAFORM, module.directory, tuple(resources), files, relations=relations(resources))
    return ModuleLoad(template, errors, list(ctx.skipped.values()), ctx.instantiated, counts)


class _Context:
    """What one root load shares across its module instances."""

    def __init__(self, sources: Sources, roots: tuple[str, ...], root_dir: str, declared: set[str] | None) -> None:
        self.sources = sources
        self.declared = declared if declared is not None else set()
        self.roots = roots
        self.root_dir = root_dir
        self.files_access = FileAccess(root_dir, roots)
        self.skipped: dict[str, FileRecord] = {}
        self.instantiated: set[str] = set()
        self.errors: list[LoadError] = []
        self.files: list[str] = []
        self.seen_errors: set[str] = set()

    def inside(self, directory: str) -> bool:
        real = os.path.realpath(directory)
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)

    def skip(self, block: _Block, reason: str) -> None:
        where = f"{block.file}:{block.line} module.{block.labels[0] if block.labels else '?'}"
        self.skipped.setdefault(where, FileRecord(where, FileStatus.SKIPPED, Format.TERRAFORM, reason))


def _instance_address(base: str, key: Any) -> str:
    if key is None:
        return base
    if key == UNKNOWN_INSTANCE:
        return f"{base}[*]"
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{base}[{key}]"
    return f"{base}[{json.dumps(str(key), ensure_ascii=False)}]"


class _Module:
    """One instance of a module: its variables, locals and blocks, and a resolver for references."""

    def __init__(
        self,
        ctx: _Context,
        module: ModuleFiles,
        prefix: str,
        inputs: Mapping[str, Any] | None,
        values: Mapping[str, Any],
        cli: Mapping[str, str],
        depth: int,
        chain: tuple[str, ...],
        calls: tuple[tuple[str, int, str], ...],
    ) -> None:
        self.ctx, self.module, self.prefix, self.depth, self.chain, self.calls = ctx, module, prefix, depth, chain, calls
        self.resources_by: dict[tuple[str, str], _Block] = {}
        self.data_by: dict[tuple[str, str], _Block] = {}
        self.modules_by: dict[str, _Block] = {}
        self.outputs_by: dict[str, _Block] = {}
        variables_by: dict[str, _Block] = {}
        locals_: dict[str, Tree] = {}
        for b in module.blocks:
            if b.kind == "resource" and len(b.labels) == 2:
                self.resources_by.setdefault((b.labels[0], b.labels[1]), b)
            elif b.kind == "data" and len(b.labels) == 2:
                self.data_by.setdefault((b.labels[0], b.labels[1]), b)
            elif b.kind == "module" and b.labels:
                self.modules_by.setdefault(b.labels[0], b)
            elif b.kind == "output" and b.labels:
                self.outputs_by.setdefault(b.labels[0], b)
            elif b.kind == "variable" and b.labels:
                variables_by.setdefault(b.labels[0], b)
            elif b.kind == "locals":
                locals_.update(b.attrs)
        empty = Scope({}, {})
        variables: dict[str, Any] = {}
        where = prefix[:-1] if prefix else "the root module"
        for name, b in variables_by.items():
            default = evaluate(b.attrs["default"], empty) if "default" in b.attrs else _NOT_JUDGED
            if inputs is not None:
                value = inputs.get(name, _NOT_JUDGED)
                if value is None and default is not _NOT_JUDGED and _is_false(b.attrs.get("nullable")):
                    value = default
            elif name in cli:
                value = _cli_value(cli[name], identifier(b.attrs["type"]) if "type" in b.attrs else "")
            else:
                value = values.get(name, _NOT_JUDGED)
            if value is _NOT_JUDGED:
                value = default
            variables[name] = value if value is not _NOT_JUDGED else Unknown(f"var.{name} has no value in {where}")
        relative = os.path.relpath(module.directory, ctx.root_dir) if prefix else "."
        paths = {"module": relative.replace(os.sep, "/"), "root": ".", "cwd": "."}
        self.scope = Scope(variables, locals_, self._resolve, ctx.files_access, paths)
        self._expansions: dict[int, list[tuple[Any, dict[str, Any]]]] = {}
        self._values: dict[tuple[Any, ...], Any] = {}
        self._children: dict[tuple[str, Any], _Module | None] = {}
        self._resolving: set[tuple[Any, ...]] = set()
        for error in module.errors:
            if error.file not in ctx.seen_errors:
                ctx.seen_errors.add(error.file)
                if prefix:
                    ctx.errors.append(error)
        ctx.files.extend(module.files)

    # --- instances ----------------------------------------------------------------------------------

    def _expand(self, b: _Block) -> list[tuple[Any, dict[str, Any]]]:
        """(instance key, names bound in it) for each instance: None for a single one, [*] unknown."""
        cached = self._expansions.get(id(b))
        if cached is not None:
            return cached
        out: list[tuple[Any, dict[str, Any]]]
        if "count" in b.attrs:
            count = known_value(evaluate(b.attrs["count"], self.scope))
            if isinstance(count, float) and count.is_integer():
                count = int(count)
            if isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= MAX_INSTANCES:
                out = [(i, {"count": {"index": i}}) for i in range(count)]
            else:
                reason = count.reason if isinstance(count, Unknown) else f"count {count!r}"
                out = [(UNKNOWN_INSTANCE, {"count": {"index": Unknown(f"count.index: {reason}")}})]
        elif "for_each" in b.attrs:
            each = known_value(evaluate(b.attrs["for_each"], self.scope))
            items: list[tuple[Any, Any]] | None = None
            if isinstance(each, Mapping):
                items = list(each.items())
            elif isinstance(each, list) and all(isinstance(v, str) for v in each):
                items = [(v, v) for v in dict.fromkeys(each)]
            if items is not None and len(items) <= MAX_INSTANCES:
                out = [(k, {"each": {"key": k, "value": v}}) for k, v in items]
            else:
                reason = each.reason if isinstance(each, Unknown) else "for_each is not a known map or set of strings"
                unknown = Unknown(f"each: {reason}")
                out = [(UNKNOWN_INSTANCE, {"each": {"key": unknown, "value": unknown}})]
        else:
            out = [(None, {})]
        self._expansions[id(b)] = out
        return out

    def _pick(self, b: _Block, base: str, rest: list[Step]) -> tuple[Any, dict[str, Any], list[Step]] | Unknown:
        """Which instance a reference means: (key, bound names, remaining steps), or why it cannot say."""
        instances = self._expand(b)
        keys = [k for k, _ in instances]
        if rest and isinstance(rest[0], Index):
            key = rest[0].key
            if keys == [UNKNOWN_INSTANCE]:
                return instances[0][0], instances[0][1], rest[1:]
            if isinstance(key, Unknown):
                return key
            for k, bound in instances:
                if k == key or (isinstance(k, int) and str(k) == str(key)):
                    return k, bound, rest[1:]
            return Unknown(f"index {key} out of range of {self.prefix}{base}")
        if keys == [None]:
            return None, instances[0][1], rest
        if not keys:
            return Unknown(f"{self.prefix}{base} is not created (count or for_each is empty)")
        return Unknown(f"{self.prefix}{base} has several instances")

    # --- references ---------------------------------------------------------------------------------

    def _resolve(self, root: str, steps: list[Step]) -> Any:
        first = steps[0] if steps else None
        if not isinstance(first, str):
            return None
        if root == "data":
            if len(steps) < 2 or not isinstance(steps[1], str):
                return None
            b = self.data_by.get((first, steps[1]))
            return self._attribute(b, f"data.{first}.{steps[1]}", steps[2:])
        if root == "module":
            return self._module_output(first, steps[1:])
        if root in ("each", "count", "self", "var", "local", "path", "terraform"):
            return None
        if "_" in root:
            return self._attribute(self.resources_by.get((root, first)), f"{root}.{first}", steps[1:])
        return None

    def _attribute(self, b: _Block | None, base: str, rest: list[Step]) -> Any:
        if b is None:
            address = self.prefix + base
            attr = rest[0] if rest and isinstance(rest[0], str) else None
            return Reference(f"{address} is not declared in this module", address, attr)
        picked = self._pick(b, base, rest)
        if isinstance(picked, Unknown):
            return picked
        key, bound, rest = picked
        address = self.prefix + _instance_address(base, key)
        if not rest or not isinstance(rest[0], str):
            return Reference(f"{address} is known only after apply", address, None)
        attr = rest[0]
        if b.kind == "data" and b.labels[0] == "aws_iam_policy_document" and attr in ("json", "minified_json"):
            return _index(self._document(b, key, bound), rest[1:])
        if attr in b.attrs and attr not in _META:
            value = self._cached(("attr", id(b), key, attr), lambda: evaluate(b.attrs[attr], self.scope.child(bound)))
            plain = known_value(value)
            if attr in _IDENTITY_ATTRIBUTES and not rest[1:]:
                if contains_unknown(plain):
                    return Reference(f"{address}.{attr} is known only after apply", address, attr)
                return ResolvedReference(f"{address}.{attr} names another resource", address, attr, plain)
            if isinstance(value, Unknown) and not isinstance(value, Reference):
                return Reference(f"{address}.{attr}: {value.reason}", address, attr)
            return _index(value, rest[1:])
        return Reference(f"{address}.{attr} is known only after apply", address, attr)

    def _document(self, b: _Block, key: Any, bound: Mapping[str, Any]) -> Any:
        def render() -> Any:
            return tf_policy_document.render(_body_values(b.body, self.scope.child(bound), (), {}))

        return self._cached(("document", id(b), key), render)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        if key in self._values:
            return self._values[key]
        if key in self._resolving:
            return Unknown("the reference refers to itself")
        self._resolving.add(key)
        try:
            value = compute()
        finally:
            self._resolving.discard(key)
        self._values[key] = value
        return value

    def _module_output(self, name: str, rest: list[Step]) -> Any:
        b = self.modules_by.get(name)
        if b is None:
            return Unknown(f"module.{name} is not declared")
        picked = self._pick(b, f"module.{name}", rest)
        if isinstance(picked, Unknown):
            return picked
        key, bound, rest = picked
        if not rest or not isinstance(rest[0], str):
            return Unknown(f"module.{name} as a whole object is not evaluated")
        child = self._child(b, key, bound)
        if child is None:
            return Unknown(f"module.{name}.{rest[0]}: the module is not analysed")
        return _index(child.output(rest[0]), rest[1:])

    def output(self, name: str) -> Any:
        b = self.outputs_by.get(name)
        if b is None or "value" not in b.attrs:
            return Unknown(f"{self.prefix}output {name} is not declared")
        return self._cached(("output", name), lambda: evaluate(b.attrs["value"], self.scope))

    def _child(self, b: _Block, key: Any, bound: Mapping[str, Any]) -> _Module | None:
        name = b.labels[0]
        if (name, key) in self._children:
            return self._children[(name, key)]
        self._children[(name, key)] = None  # also guards against re-entry while it is built
        child = self._make_child(b, key, bound)
        self._children[(name, key)] = child
        return child

    def _make_child(self, b: _Block, key: Any, bound: Mapping[str, Any]) -> _Module | None:
        name = b.labels[0]
        source = evaluate(b.attrs["source"], Scope({}, {})) if "source" in b.attrs else None
        if not isinstance(source, str) or not source:
            self.ctx.skip(b, f'module "{name}": its source is not a literal string, not analysed')
            return None
        if os.path.isabs(source) or source.startswith(("~", "\\")):
            self.ctx.skip(b, f'module "{name}" (source "{source}") is an absolute path, outside the scanned tree: not analysed')
            return None
        if not source.startswith(("./", "../")) and source not in (".", ".."):
            version = evaluate(b.attrs["version"], Scope({}, {})) if "version" in b.attrs else None
            pinned = f" version {version}" if isinstance(version, str) else ""
            self.ctx.skip(b, f'module "{name}" (source "{source}"{pinned}) is a remote module: never fetched, not analysed')
            return None
        directory = os.path.normpath(os.path.join(self.module.directory, source))
        if not self.ctx.inside(directory):
            self.ctx.skip(b, f'module "{name}" (source "{source}") is outside the scanned tree: not analysed')
            return None
        real = os.path.realpath(directory)
        if real in self.chain:
            self.ctx.skip(b, f'module "{name}" (source "{source}") calls itself through its callers: not analysed')
            return None
        if self.depth + 1 > MAX_MODULE_DEPTH:
            self.ctx.skip(b, f'module "{name}" (source "{source}") is nested deeper than {MAX_MODULE_DEPTH} modules: not analysed')
            return None
        module = self.ctx.sources(directory)
        if module is None:
            self.ctx.skip(b, f'module "{name}" (source "{source}"): no .tf files were scanned in {directory}, not analysed')
            return None
        scope = self.scope.child(bound)
        inputs = {arg: evaluate(tree, scope) for arg, tree in b.attrs.items() if arg not in _MODULE_ARGUMENTS}
        address = self.prefix + _instance_address(f"module.{name}", key)
        calls = (*self.calls, (b.file, b.line, address))
        self.ctx.instantiated.add(directory)
        return _Module(self.ctx, module, address + ".", inputs, {}, {}, self.depth + 1, (*self.chain, real), calls)

    # --- resources ----------------------------------------------------------------------------------

    def resources(self) -> Iterator[Resource]:
        # Where a module instance is called from. `origin` (shown next to the address in findings, and
        # part of a finding's identity) names the calling files relative to this module, without
        # lines, so it survives edits; metadata keeps every call with its line.
        origin, metadata = "", {}
        if self.calls:
            here = self.module.directory
            origin = "via " + " > ".join(os.path.relpath(f, here).replace(os.sep, "/") for f, _, _ in self.calls)
            metadata = {"module_calls": [f"{f}:{line} {address}" for f, line, address in self.calls]}
        # A child module's variable and output blocks read the same for every instance: emitted once.
        real = os.path.realpath(self.module.directory)
        declarations = not self.prefix or real not in self.ctx.declared
        if self.prefix:
            self.ctx.declared.add(real)
        for b in self.module.blocks:
            location = Location(b.file, b.line)
            if b.kind in ("resource", "data") and len(b.labels) == 2:
                rtype = b.labels[0] if b.kind == "resource" else f"data.{b.labels[0]}"
                base = f"{b.labels[0]}.{b.labels[1]}" if b.kind == "resource" else f"data.{b.labels[0]}.{b.labels[1]}"
                for key, bound in self._expand(b):
                    lines: dict[Path, int] = {}
                    props = _body_values(b.body, self.scope.child(bound), (), lines)
                    address = self.prefix + _instance_address(base, key)
                    yield Resource(Format.TERRAFORM, rtype, address, props, location, lines, metadata, origin=origin)
            elif b.kind == "provider" and b.labels:
                alias = known_value(evaluate(b.attrs["alias"], self.scope)) if "alias" in b.attrs else None
                rtype = f"provider.{b.labels[0]}"
                address = self.prefix + (f"{rtype}.{alias}" if isinstance(alias, str) else rtype)
                lines = {}
                props = _body_values(b.body, self.scope, (), lines)
                yield Resource(Format.TERRAFORM, rtype, address, props, location, lines, metadata, origin=origin)
            elif b.kind in ("variable", "output") and b.labels and declarations:
                lines = {}
                props = _body_values(b.body, self.scope, (), lines)
                address = self.prefix + f"{'var' if b.kind == 'variable' else 'output'}.{b.labels[0]}"
                yield Resource(Format.TERRAFORM, b.kind, address, props, location, lines, metadata, origin=origin)
            elif b.kind == "module" and b.labels:
                for key, bound in self._expand(b):
                    child = self._child(b, key, bound)
                    if child is not None:
                        yield from child.resources()


def _is_false(tree: Tree | None) -> bool:
    return tree is not None and evaluate(tree, Scope({}, {})) is False


def _index(value: Any, steps: list[Step]) -> Any:
    return index_into(value, steps) if steps else value


def _attributes(body: Tree) -> dict[str, Tree]:
    out: dict[str, Tree] = {}
    for node in subtrees(body):
        if node.data == "attribute":
            name_tree, value_tree = subtrees(node)
            out[identifier(name_tree)] = value_tree
    return out


def _body_values(body: Tree, scope: Scope, path: Path, lines: dict[Path, int]) -> dict[str, Any]:
    """Attributes become values; nested blocks become lists of objects, as in plan JSON.

    A `dynamic` block whose for_each is known becomes one object per element (its iterator bound);
    one whose for_each is unknown is an Unknown element (the whole value when it is alone).
    """
    out: dict[str, Any] = {}
    blocks: dict[str, list[Any]] = {}
    for node in subtrees(body):
        if node.data == "attribute":
            name_tree, value_tree = subtrees(node)
            name = identifier(name_tree)
            if not path and name in _META:
                continue
            value = evaluate(value_tree, scope)
            if isinstance(value, MissingAttribute):
                continue  # an optional attribute left out of a typed object: null, so not set
            lines[(*path, name)] = line_of(node)
            out[name] = value
        elif node.data == "block":
            parts = subtrees(node)
            kind = identifier(parts[0])
            if not path and kind in _META:
                continue
            if kind == "dynamic" and len(parts) >= 3:
                name = identifier(parts[1])
                lines.setdefault((*path, name), line_of(node))
                items = blocks.setdefault(name, [])
                out.setdefault(name, items)
                items.extend(_dynamic(parts[-1], name, scope, (*path, name), len(items), lines))
                continue
            items = blocks.setdefault(kind, [])
            out.setdefault(kind, items)
            sub = (*path, kind, len(items))
            lines.setdefault((*path, kind), line_of(node))
            lines[sub] = line_of(node)
            items.append(_body_values(parts[-1], scope, sub, lines))
    for name, items in blocks.items():
        if len(items) == 1 and isinstance(items[0], Unknown):
            out[name] = items[0]
    return out


def _dynamic(body: Tree, name: str, scope: Scope, path: Path, start: int, lines: dict[Path, int]) -> list[Any]:
    attrs = _attributes(body)
    content = next((b for b in subtrees(body) if b.data == "block" and identifier(subtrees(b)[0]) == "content"), None)
    if content is None or "for_each" not in attrs:
        return [Unknown(f"dynamic block {name}")]
    iterator = identifier(attrs["iterator"]) if "iterator" in attrs else name
    collection = known_value(evaluate(attrs["for_each"], scope))
    if isinstance(collection, Mapping):
        items = list(collection.items())
    elif isinstance(collection, list):
        items = list(enumerate(collection))
    else:
        reason = collection.reason if isinstance(collection, Unknown) else "for_each is not a collection"
        return [Unknown(f"dynamic block {name}: {reason}")]
    if len(items) > MAX_INSTANCES:
        return [Unknown(f"dynamic block {name}: more than {MAX_INSTANCES} elements")]
    out: list[Any] = []
    for i, (key, value) in enumerate(items):
        sub = (*path, start + i)
        lines[sub] = line_of(content)
        out.append(_body_values(subtrees(content)[-1], scope.child({iterator: {"key": key, "value": value}}), sub, lines))
    return out
