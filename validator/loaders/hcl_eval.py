"""Evaluate HCL expressions from python-hcl2's Lark tree into plain values or Unknown.

Only what static analysis can know: literals, strings and templates, collections, variables and
locals, conditionals, arithmetic, `for` expressions, splats over known lists, and a table of pure
functions, plus `file()` / `templatefile()` of files inside the scanned tree (`Scope.files`).
References to resources, data sources and modules go to `Scope.references(root, steps)`, where the
module loader resolves them (policy documents, module outputs, instance addresses); without it, or
when it returns None, they are Unknown / Reference. Everything else (attributes known after apply,
unknown functions) is an explicit Unknown; nothing raises.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from lark import Token, Tree

from validator import reads
from validator.cachedir import user_cache_dir, write_atomic
from validator.model import SELF_ACCOUNT, Reference, Unknown, contains_unknown


class MissingAttribute(Unknown):
    """`obj.key` where the object has no `key`. Terraform only accepts that for an `optional(...)`
    attribute of a typed object, whose value is then null: an attribute set to it is absent."""


_SKIP = {"new_line_or_comment"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_MAX_DEPTH = 200


# --- parsing ----------------------------------------------------------------------------------------


def parses_to_tree(text: str) -> Tree:
    """python-hcl2's `parses_to_tree(text)`: the Lark tree of HCL text (raises lark's errors).

    The parser is python-hcl2's (its grammar, post-lexer and options) without position propagation
    (see `line_of`), cached by Lark in the user's cache directory: building it from the grammar takes
    1-1.5 s, loading the cache about 45 ms. Where that directory cannot be written, python-hcl2's own
    parser is used (it keeps its cache in its install folder).
    """
    return _parse_function()(text)


@cache
def _parse_function() -> Callable[[str], Tree]:
    import hcl2

    cache_file = user_parser_cache()
    if cache_file is None:  # nowhere to keep our parser: python-hcl2's own (lines from its positions)
        return hcl2.parses_to_tree
    snapshot = snapshot_file(cache_file)
    parser = _load_snapshot(snapshot)
    if parser is None:
        try:
            parser = build_parser(cache_file, positions=False)
        except Exception:  # a python-hcl2 that builds its parser differently: its own way
            return hcl2.parses_to_tree
        _save_snapshot(parser, snapshot)
    return lambda text: parser.parse(text + "\n")  # what hcl2.parses_to_tree does with its own parser


# The built parser, pickled whole. Lark's own cache stores it in a portable form that takes about
# 100 ms to turn back into objects on every run; unpickling the objects takes about 40 ms.
_SNAPSHOT_FORMAT = 1


def snapshot_file(cache_file: str) -> str:
    """Where the pickled parser lives, named after everything it was built from."""
    import hcl2
    import lark
    from hcl2 import parser as hcl2_parser

    try:
        with open(os.path.join(os.path.dirname(hcl2_parser.__file__), "hcl2.lark"), "rb") as fh:
            grammar = hashlib.sha256(fh.read()).hexdigest()[:16]
    except OSError:
        grammar = "unknown"
    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    hcl2_version = getattr(hcl2, "__version__", "unknown")
    name = f"hcl2-{hcl2_version}-lark-{lark.__version__}-{version}-{grammar}-v{_SNAPSHOT_FORMAT}.snapshot"
    return os.path.join(os.path.dirname(cache_file), name)


def _load_snapshot(snapshot: str) -> Any:
    from lark import Lark

    try:
        with open(snapshot, "rb") as fh:
            parser = pickle.load(fh)  # noqa: S301 - our own file, in the user's private cache folder
    except Exception:  # absent, or written by something else: rebuilt
        return None
    return parser if isinstance(parser, Lark) else None


def _save_snapshot(parser: Any, snapshot: str) -> None:
    import copyreg
    import importlib
    import io
    import types

    from lark.parsers import lalr_analysis

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()  # this pickler's, not the process's
    # Modules (the lexer's `re`) by name; Lark's Shift/Reduce are compared by identity: by name too.
    pickler.dispatch_table[types.ModuleType] = lambda m: (importlib.import_module, (m.__name__,))
    pickler.dispatch_table[lalr_analysis.Action] = lambda a: (getattr, (lalr_analysis, str(a)))
    try:
        pickler.dump(parser)
    except Exception:  # a parser that does not pickle: Lark's cache still serves
        return
    write_atomic(snapshot, buffer.getvalue())


def line_of(tree: Tree) -> int | None:
    """The line of the first token under `tree`: what Lark's `propagate_positions` puts in
    `meta.line` for the nodes we ask (blocks and attributes, which start with their name). Our
    parser does not propagate positions: that wrapper ran on every reduction and cost about a
    fifth of a Terraform scan; the few lines we need are found here instead."""
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Token):
            return node.line
        if isinstance(node, Tree):
            stack.extend(reversed(node.children))
    return None


def user_parser_cache() -> str | None:
    """Where our HCL parser is cached: the user's private cache folder (`user_cache_dir`, created
    0700); None when it cannot be created or written."""
    import hcl2

    directory = user_cache_dir(os.environ)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return None
    if not os.access(directory, os.W_OK):
        return None
    return os.path.join(directory, f"hcl2-{getattr(hcl2, '__version__', 'unknown')}-lark-parser-lines.bin")


def build_parser(cache_file: str, positions: bool = True) -> Any:
    """python-hcl2's parser (the grammar and options of `hcl2.parser.parser()` in python-hcl2 8.1.4,
    compared by tests/test_hcl_parser.py; `positions=False` leaves out position propagation), cached
    in `cache_file`. Lark checks the cache against
    a hash of the grammar, the options and its own and Python's versions, and rebuilds when it differs."""
    from hcl2 import parser as hcl2_parser
    from hcl2.postlexer import PostLexer
    from lark import Lark

    return Lark.open(
        "hcl2.lark",
        parser="lalr",
        cache=cache_file,
        rel_to=hcl2_parser.__file__,
        propagate_positions=positions,
        postlex=PostLexer(),
    )


# --- tree helpers -----------------------------------------------------------------------------------


def subtrees(tree: Tree) -> list[Tree]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data not in _SKIP]


def identifier(tree: Tree) -> str:
    """Name of an identifier / keyword / literal node, or the text of a simple string label."""
    if tree.data == "string":
        return "".join(_tokens_text(p) for p in subtrees(tree))
    return "".join(_tokens_text(tree))


def _tokens_text(tree: Tree | Token) -> str:
    if isinstance(tree, Token):
        return str(tree)
    return "".join(_tokens_text(c) for c in tree.children)


def _unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] in "uU":
            return chr(int(esc[1:], 16))
        return _ESCAPES.get(esc, "\\" + esc)

    return _ESCAPE_RE.sub(repl, text)


class Index(NamedTuple):
    """An index step of a traversal (`x[0]`, `x["k"]`), as opposed to an attribute step (`x.k`)."""

    key: Any


Step = str | Index
# Resolves `root.step.step...` (a resource, data source or module reference) or returns None to
# let the evaluator build its default Reference/Unknown.
ReferenceHook = Callable[[str, list[Step]], Any]


@dataclass(frozen=True)
class ResolvedReference(Reference):
    """A reference whose value is known statically (`aws_iam_role.x.name` with a literal name).

    Standing alone as an argument's value it stays a Reference, so relations can be followed; inside
    a string template, a function call or an operator it is its value.
    """

    value: Any = None


def known_value(value: Any) -> Any:
    """`value` with every ResolvedReference replaced by its value."""
    if isinstance(value, ResolvedReference):
        return value.value
    nested = (list, dict, ResolvedReference)
    if isinstance(value, list) and any(isinstance(v, nested) for v in value):
        return [known_value(v) for v in value]
    if isinstance(value, dict) and any(isinstance(v, nested) for v in value.values()):
        return {k: known_value(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class FileAccess:
    """What `file()` and `templatefile()` may read: files under `roots` (the scanned tree), nothing else.

    Relative paths resolve from `cwd`, the root module's directory, as when Terraform runs there.
    """

    cwd: str
    roots: tuple[str, ...]
    max_bytes: int = 1024 * 1024

    def read(self, path: str) -> str | Unknown:
        full = os.path.normpath(os.path.join(self.cwd, path))
        real = os.path.realpath(full)
        if not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots):
            return Unknown(f"file {path} is outside the scanned tree: not read")
        reads.note(real)  # the result now depends on this file (validator/cache.py)
        try:
            if os.path.getsize(real) > self.max_bytes:
                return Unknown(f"file {path} is larger than {self.max_bytes} bytes: not read")
            with open(real, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return Unknown(f"file {path} cannot be read ({exc.strerror or exc})")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return Unknown(f"file {path} is not UTF-8 text")

    def exists(self, path: str) -> bool | Unknown:
        text = self.read(path)
        if isinstance(text, Unknown) and "cannot be read" in text.reason:
            return False
        return True if not isinstance(text, Unknown) else text


class Scope:
    """Names visible to an expression. Locals are evaluated lazily and once, in the module's own scope."""

    def __init__(
        self,
        variables: Mapping[str, Any],
        locals_: Mapping[str, Tree],
        references: ReferenceHook | None = None,
        files: FileAccess | None = None,
        paths: Mapping[str, str] | None = None,
    ) -> None:
        self.variables = variables
        self._local_trees = locals_
        self._locals: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        self.references = references
        self.files = files
        self.paths = dict(paths or {})  # path.module / path.root / path.cwd
        self.bound: dict[str, Any] = {}
        self._root = self

    def local(self, name: str) -> Any:
        root = self._root
        if name in root._locals:
            return root._locals[name]
        tree = root._local_trees.get(name)
        if tree is None:
            return Unknown(f"local.{name} is not defined")
        if name in root._evaluating:
            return Unknown(f"local.{name} refers to itself")
        root._evaluating.add(name)
        try:
            value = evaluate(tree, root)
        finally:
            root._evaluating.discard(name)
        root._locals[name] = value
        return value

    def child(self, bound: Mapping[str, Any]) -> Scope:
        scope = Scope(self.variables, {}, self.references, self.files, self.paths)
        scope._root = self._root
        scope.bound = {**self.bound, **bound}
        return scope


def evaluate(tree: Tree | Token, scope: Scope, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        return Unknown("expression nested too deeply")
    if isinstance(tree, Token):
        return Unknown(f"token {tree.type}")
    handler = _HANDLERS.get(tree.data)
    if handler is None:
        return Unknown(f"{tree.data} expression")
    try:
        return handler(tree, scope, depth + 1)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError, OverflowError):
        return Unknown(f"{tree.data} could not be evaluated")


def _expr_term(tree: Tree, scope: Scope, depth: int) -> Any:
    (inner,) = subtrees(tree)
    return evaluate(inner, scope, depth)


def _literal(tree: Tree, scope: Scope, depth: int) -> Any:
    text = _tokens_text(tree)
    return {"true": True, "false": False, "null": None}[text]


def _int(tree: Tree, scope: Scope, depth: int) -> Any:
    return int(_tokens_text(tree))


def _float(tree: Tree, scope: Scope, depth: int) -> Any:
    return float(_tokens_text(tree))


def _string(tree: Tree, scope: Scope, depth: int) -> Any:
    parts: list[str] = []
    unknown: Unknown | None = None
    pieces = subtrees(tree)
    if len(pieces) == 1 and isinstance(pieces[0].children[0], Tree) and pieces[0].children[0].data == "interpolation":
        # "${expr}" alone is the value of expr itself, not converted to a string (HCL template rule).
        return evaluate(subtrees(pieces[0].children[0])[0], scope, depth)
    for part in pieces:
        (child,) = part.children
        if isinstance(child, Token):
            if child.type == "ESCAPED_INTERPOLATION" or child.type == "ESCAPED_DIRECTIVE":
                parts.append(str(child)[1:])
            else:
                parts.append(_unescape(str(child)))
        elif child.data == "interpolation":
            value = evaluate(subtrees(child)[0], scope, depth)
            text = _to_string(value)
            if isinstance(text, Unknown):
                unknown = unknown or text
            else:
                parts.append(text)
        else:
            return Unknown("template directive")
    return unknown if unknown else "".join(parts)


def _to_string(value: Any) -> str | Unknown:
    if isinstance(value, ResolvedReference):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Unknown):
        return value
    return Unknown("non-string value in a string template")


_HEREDOC_RE = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n(.*?)\r?\n?[ \t]*\2\r?\n?$", re.S)
_INTERP_RE = re.compile(r"(?<!\$)\$\{")


def _heredoc(tree: Tree, scope: Scope, depth: int) -> Any:
    raw = _tokens_text(tree)
    m = _HEREDOC_RE.match(raw)
    if not m:
        return Unknown("heredoc")
    trim, body = m.group(1), m.group(3)
    if trim:
        lines = body.split("\n")
        indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
        cut = min(indents, default=0)
        body = "\n".join(line[cut:] for line in lines)
    return _template_text(body + "\n", scope, depth)


_PLACEHOLDER = "@@iac-validator-unknown-{}@@"  # printable: JSON strings may not hold control characters
_PLACEHOLDER_RE = re.compile(r"@@iac-validator-unknown-(\d+)@@")


def _template_text(body: str, scope: Scope, depth: int) -> Any:
    """Interpolate `${...}` inside heredoc text; directives (`%{`) make it Unknown.

    A heredoc JSON document with some unresolved interpolations keeps its known parts, like
    jsonencode() does: the unresolved values become Unknown leaves of the decoded document.
    """
    if "%{" in body.replace("%%{", ""):
        return Unknown("template directive in heredoc")
    out: list[str] = []
    unknowns: list[Unknown] = []
    pos = 0
    for m in _INTERP_RE.finditer(body):
        if m.start() < pos:
            continue
        end = _matching_brace(body, m.end())
        if end < 0:
            return Unknown("unterminated interpolation in heredoc")
        out.append(body[pos : m.start()])
        text = _to_string(_parse_and_evaluate(body[m.end() : end], scope, depth))
        if isinstance(text, Unknown):
            out.append(_PLACEHOLDER.format(len(unknowns)))
            unknowns.append(text)
        else:
            out.append(text)
        pos = end + 1
    out.append(body[pos:])
    result = "".join(out).replace("$${", "${")
    if not unknowns:
        return result
    try:
        document = json.loads(result)
    except ValueError:
        return unknowns[0]
    return _restore_unknowns(document, unknowns)


def _restore_unknowns(value: Any, unknowns: list[Unknown]) -> Any:
    if isinstance(value, str):
        m = _PLACEHOLDER_RE.search(value)
        return value if m is None else unknowns[int(m.group(1))]
    if isinstance(value, list):
        return [_restore_unknowns(v, unknowns) for v in value]
    if isinstance(value, dict):
        for key in value:
            m = _PLACEHOLDER_RE.search(key)
            if m is not None:  # a computed key: the object's shape is unknown, as with jsonencode
                return Unknown(f"object key uses {unknowns[int(m.group(1))].reason}")
        return {k: _restore_unknowns(v, unknowns) for k, v in value.items()}
    return value


def _matching_brace(text: str, start: int) -> int:
    level, i, in_str = 1, start, False
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            level += 1
        elif ch == "}":
            level -= 1
            if level == 0:
                return i
        i += 1
    return -1


def _parse_and_evaluate(source: str, scope: Scope, depth: int) -> Any:
    try:
        tree = parses_to_tree(f"x = {source}\n")
    except Exception:  # lark raises many kinds; the value is just unknown
        return Unknown("interpolation could not be parsed")
    attribute = next(tree.find_data("attribute"), None)
    if attribute is None:
        return Unknown("interpolation could not be parsed")
    return evaluate(subtrees(attribute)[-1], scope, depth)


def _tuple(tree: Tree, scope: Scope, depth: int) -> Any:
    return [evaluate(c, scope, depth) for c in subtrees(tree)]


def _object(tree: Tree, scope: Scope, depth: int) -> Any:
    result: dict[str, Any] = {}
    for elem in subtrees(tree):
        key_tree, value_tree = subtrees(elem)
        key = _object_key(key_tree, scope, depth)
        if isinstance(key, Unknown):
            return Unknown("object with a computed key")
        result[key] = evaluate(value_tree, scope, depth)
    return result


def _object_key(key_tree: Tree, scope: Scope, depth: int) -> Any:
    (inner,) = subtrees(key_tree)
    if inner.data == "keyword":
        return _tokens_text(inner)
    # expr_term → identifier is a bare key; anything else is evaluated
    nodes = subtrees(inner) if inner.data == "expr_term" else []
    if len(nodes) == 1 and nodes[0].data in ("identifier", "literal_value"):
        return _tokens_text(nodes[0])
    key = evaluate(inner, scope, depth)
    return _to_string(key)


def _identifier(tree: Tree, scope: Scope, depth: int) -> Any:
    name = _tokens_text(tree)
    if name in scope.bound:
        return scope.bound[name]
    return Unknown(f"reference to {name}")


def _traversal(tree: Tree, scope: Scope, depth: int) -> Any:
    """`a.b[0].c`: resolve a reference chain, or index into an evaluated value."""
    chain: list[Tree] = []
    node = tree
    while node.data in ("get_attr_expr_term", "index_expr_term"):
        base, step = subtrees(node)
        chain.append(step)
        node = subtrees(base)[0] if base.data == "expr_term" and len(subtrees(base)) == 1 else base
    chain.reverse()
    steps = _steps(chain, scope, depth)
    if node.data == "identifier" and _tokens_text(node) not in scope.bound:
        return _reference(_tokens_text(node), steps, scope)
    return index_into(evaluate(node, scope, depth), steps)


def _steps(chain: list[Tree], scope: Scope, depth: int) -> list[Step]:
    steps: list[Step] = []
    for step in chain:
        if step.data == "get_attr":
            steps.append(_tokens_text(subtrees(step)[0]))
        elif step.data == "short_index":
            steps.append(Index(int(str(step.children[-1]))))
        else:
            steps.append(Index(known_value(evaluate(subtrees(step)[0], scope, depth))))
    return steps


def _splat(tree: Tree, scope: Scope, depth: int) -> Any:
    """`list[*].attr` and `list.*.attr` over a known list; a resource splat stays unknown."""
    base, splat = subtrees(tree)
    value = evaluate(base, scope, depth)
    steps = _steps([s for s in subtrees(splat)], scope, depth)
    if isinstance(value, Unknown):
        return value if not isinstance(value, Reference) else Unknown(f"splat over {value.target or 'a reference'}")
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [index_into(item, steps) for item in items]


def index_into(value: Any, steps: list[Any]) -> Any:
    for step in steps:
        if isinstance(value, Unknown):
            return value
        key = step.key if isinstance(step, Index) else step
        if isinstance(key, Unknown):
            return key
        if isinstance(value, Mapping):
            if str(key) not in value:
                # `obj.key` (not `obj["key"]`) on an object without it: an optional attribute, null
                return Unknown(f"no attribute {key}") if isinstance(step, Index) else MissingAttribute(f"no attribute {key}")
            value = value[str(key)]
        elif isinstance(value, list):
            try:
                value = value[int(key)]
            except (ValueError, IndexError, TypeError):
                return Unknown(f"index {key} out of range")
        else:
            return Unknown(f"cannot index into {type(value).__name__}")
    return value


# Data sources whose value is the deploying account or partition, kept symbolic like CloudFormation's.
_SYMBOLIC_DATA = {
    ("aws_caller_identity", "account_id"): SELF_ACCOUNT,
    ("aws_partition", "partition"): "${AWS::Partition}",
    ("aws_region", "name"): "${AWS::Region}",
    ("aws_region", "region"): "${AWS::Region}",
}


def step_text(step: Step) -> str:
    if isinstance(step, Index):
        return f"[{json.dumps(step.key, ensure_ascii=False)}]" if isinstance(step.key, str) else f"[{step.key}]"
    return f".{step}"


def _reference(root: str, steps: list[Step], scope: Scope) -> Any:
    first = steps[0] if steps else None
    if root == "var" and isinstance(first, str):
        if first not in scope.variables:
            return Unknown(f"var.{first} is not declared")
        return index_into(scope.variables[first], steps[1:])
    if root == "local" and isinstance(first, str):
        return index_into(scope.local(first), steps[1:])
    names = [s for s in steps if isinstance(s, str)]
    if root == "data" and len(names) >= 3 and (names[0], names[-1]) in _SYMBOLIC_DATA:
        return _SYMBOLIC_DATA[(names[0], names[-1])]
    if root == "path" and isinstance(first, str) and first in ("module", "root", "cwd"):
        return scope.paths.get(first, ".")
    if scope.references is not None:
        resolved = scope.references(root, steps)
        if resolved is not None:
            return resolved
    dotted = root + "".join(step_text(s) for s in steps if not isinstance(s, Index) or not isinstance(s.key, Unknown))
    if root == "data" and len(names) >= 2:
        return Reference(f"{dotted} cannot be resolved statically", f"data.{names[0]}.{names[1]}", _first(names[2:]))
    if root not in ("module", "each", "count", "self", "terraform") and "_" in root and names:
        target = root + "." + names[0]
        rest = steps[1:]
        if rest and isinstance(rest[0], Index) and not isinstance(rest[0].key, Unknown):
            target += step_text(rest[0])
        return Reference(f"{dotted} is known only after apply", target, _first(names[1:]))
    return Unknown(f"{dotted} cannot be resolved statically")


def _first(items: list[str]) -> str | None:
    return items[0] if items else None


def _conditional(tree: Tree, scope: Scope, depth: int) -> Any:
    cond, yes, no = subtrees(tree)
    value = known_value(evaluate(cond, scope, depth))
    if isinstance(value, bool):
        return evaluate(yes if value else no, scope, depth)
    return Unknown("condition could not be decided")


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "&&": lambda a, b: a and b,
    "||": lambda a, b: a or b,
}


def _null_if_missing(value: Any) -> Any:
    """An optional attribute left out of a typed object is null to operators and functions."""
    return None if isinstance(value, MissingAttribute) else value


def _binary_op(tree: Tree, scope: Scope, depth: int) -> Any:
    left_tree, term = subtrees(tree)
    operator_tree, right_tree = subtrees(term)
    op = _tokens_text(operator_tree).strip()
    left, right = _null_if_missing(known_value(evaluate(left_tree, scope, depth))), _null_if_missing(known_value(evaluate(right_tree, scope, depth)))
    if op == "&&" and left is False or op == "||" and left is True:
        return left
    if contains_unknown(left) or contains_unknown(right):
        return Unknown(f"operands of {op} are unresolved")
    if op in "+-*/%" and not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)):
        left, right = _number(left), _number(right)
    return _BINARY[op](left, right)


def _number(value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return float(value) if "." in value else int(value)
    raise TypeError("not a number")


def _unary_op(tree: Tree, scope: Scope, depth: int) -> Any:
    op = str(tree.children[0])
    value = known_value(evaluate(subtrees(tree)[0], scope, depth))
    if isinstance(value, Unknown):
        return value
    return (not value) if op == "!" else -value


def _for_expr(tree: Tree, scope: Scope, depth: int) -> Any:
    parts = subtrees(tree)
    intro = parts[0]
    names = [_tokens_text(n) for n in subtrees(intro) if n.data == "identifier"]
    collection = known_value(evaluate(subtrees(intro)[-1], scope, depth))
    if contains_unknown(collection) or not isinstance(collection, list | Mapping):
        return Unknown("for expression over an unresolved collection")
    items = list(collection.items()) if isinstance(collection, Mapping) else list(enumerate(collection))
    body = parts[1:]
    cond = body[-1] if body and body[-1].data == "for_cond" else None
    if cond is not None:
        body = body[:-1]
    is_object = tree.data == "for_object_expr"
    grouping = is_object and any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in tree.children)
    out_list: list[Any] = []
    out_map: dict[str, Any] = {}
    for key, value in items:
        bound = {names[0]: value} if len(names) == 1 else {names[0]: key, names[1]: value}
        inner = scope.child(bound)
        if cond is not None:
            keep = evaluate(subtrees(cond)[0], inner, depth)
            if isinstance(keep, Unknown):
                return keep
            if not keep:
                continue
        if is_object:
            k = _to_string(evaluate(body[0], inner, depth))
            if isinstance(k, Unknown):
                return k
            v = evaluate(body[1], inner, depth)
            if grouping:
                out_map.setdefault(k, []).append(v)
            else:
                out_map[k] = v
        else:
            out_list.append(evaluate(body[0], inner, depth))
    return out_map if is_object else out_list


def _function_call(tree: Tree, scope: Scope, depth: int) -> Any:
    parts = subtrees(tree)
    names = [p for p in parts if p.data == "identifier"]
    name = _tokens_text(names[-1]) if len(names) == 1 else "::".join(_tokens_text(n) for n in names)
    arg_trees = subtrees(parts[-1]) if parts and parts[-1].data == "arguments" else []
    expand = parts and parts[-1].data == "arguments" and any(
        isinstance(c, Token) and c.type == "ELLIPSIS" for c in parts[-1].children
    )
    if name in ("try", "can"):
        return _try(name, arg_trees, scope, depth)
    fn = FUNCTIONS.get(name)
    if fn is None and name in _FILE_FUNCTIONS:
        fn = _file_function(name, scope, depth)
    if fn is None:
        return Unknown(f"function {name}() is not evaluated")
    args = [_null_if_missing(known_value(evaluate(a, scope, depth))) for a in arg_trees]
    if expand and args:
        if not isinstance(args[-1], list):
            return Unknown(f"{name}(...) expansion of an unresolved list")
        args = args[:-1] + list(args[-1])
    if name not in _UNKNOWN_AWARE and any(contains_unknown(a) for a in args):
        return Unknown(f"{name}() of unresolved values")
    return fn(*args)


# Reasons of the Unknowns that stand for an evaluation error (which try() and can() catch), not for a
# value known only after apply.
_ERROR_REASONS = ("no attribute", "out of range", "cannot index into", "found no key", "could not be evaluated")


def _try(name: str, arg_trees: list[Tree], scope: Scope, depth: int) -> Any:
    for arg in arg_trees:
        value = evaluate(arg, scope, depth)
        if isinstance(value, Unknown) and any(r in value.reason for r in _ERROR_REASONS):
            continue  # the error try() exists to catch
        if name == "can":
            return not isinstance(value, Unknown) or Unknown("can() of an unresolved value")
        return value
    return False if name == "can" else Unknown("try() found no valid argument")


def _jsonencode(value: Any) -> Any:
    # A partially known document keeps its structure so IAM checks still see the known parts.
    if contains_unknown(value):
        return value
    return json.dumps(value, separators=(",", ":"))


def _format(fmt: str, *args: Any) -> str:
    values = iter(args)

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "%%":
            return "%"
        value = next(values)
        if m.group(1) in ("v", "s"):
            return str(_to_string(value)) if not isinstance(value, list | dict) else json.dumps(value)
        if m.group(1) == "d":
            return str(int(value))
        if m.group(1) == "q":
            return json.dumps(str(value))
        return str(value)

    return re.sub(r"%%|%[-+# 0-9.]*([a-zA-Z])", repl, fmt)


def _flatten(value: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in value:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, Mapping):
            raise TypeError("merge() takes maps")
        out.update(m)
    return out


def _lookup(m: Mapping[str, Any], key: str, *default: Any) -> Any:
    if key in m:
        return m[key]
    if default:
        return default[0]
    return Unknown(f"lookup() found no key {key}")


def _coalesce(*values: Any) -> Any:
    for v in values:
        if isinstance(v, Unknown):
            return Unknown("coalesce() of an unresolved value")
        if v is not None and v != "":
            return v
    return Unknown("coalesce() found no value")


def _toset(value: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in value:
        if v not in seen:
            seen.append(v)
    return seen


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": _jsonencode,
    "jsondecode": lambda s: json.loads(s),
    # user_data_base64 = base64encode(...) is how launch templates carry scripts: keep them readable
    "base64encode": lambda s: base64.b64encode(str(s).encode("utf-8")).decode("ascii"),
    "base64decode": lambda s: base64.b64decode(s, validate=True).decode("utf-8"),
    "merge": _merge,
    "concat": lambda *lists: [x for li in lists for x in li],
    "flatten": _flatten,
    "format": _format,
    "join": lambda sep, items: sep.join(str(_to_string(i)) for i in items),
    "split": lambda sep, s: s.split(sep),
    "lookup": _lookup,
    "element": lambda items, i: items[int(i) % len(items)],
    "tolist": lambda v: list(v),
    "toset": _toset,
    "tomap": lambda v: dict(v),
    "tostring": lambda v: _to_string(v),
    "tonumber": lambda v: _number(v) if isinstance(v, str) else v,
    "coalesce": _coalesce,
    "length": lambda v: len(v),
    "lower": lambda s: s.lower(),
    "upper": lambda s: s.upper(),
    "replace": lambda s, old, new: s.replace(old, new),
    "trimspace": lambda s: s.strip(),
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "contains": lambda items, v: v in items,
    "distinct": _toset,
    "compact": lambda items: [i for i in items if i not in (None, "")],
    "min": lambda *v: min(v),
    "max": lambda *v: max(v),
}
_UNKNOWN_AWARE = {"jsonencode", "coalesce"}

_MAX_RANGE = 10_000


def _range(*args: Any) -> list[Any]:
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) > 2 else 1)
    if step == 0 or abs((stop - start) / step) > _MAX_RANGE:
        raise ValueError("range too large")
    out, value = [], start
    while (step > 0 and value < stop) or (step < 0 and value > stop):
        out.append(value)
        value += step
    return out


def _one(items: list[Any]) -> Any:
    if len(items) > 1:
        raise ValueError("one() of more than one element")
    return items[0] if items else None


def _substr(s: str, offset: int, length: int) -> str:
    if offset < 0:
        offset = max(len(s) + offset, 0)
    return s[offset:] if length < 0 else s[offset : offset + length]


FUNCTIONS.update(
    {
        "one": _one,
        "startswith": lambda s, p: s.startswith(p),
        "endswith": lambda s, p: s.endswith(p),
        "strcontains": lambda s, p: p in s,
        "trimprefix": lambda s, p: s[len(p) :] if p and s.startswith(p) else s,
        "trimsuffix": lambda s, p: s[: -len(p)] if p and s.endswith(p) else s,
        "trim": lambda s, chars: s.strip(chars),
        "title": lambda s: s.title(),
        "substr": _substr,
        "zipmap": lambda ks, vs: dict(zip([str(_to_string(k)) for k in ks], vs, strict=True)),
        "formatlist": lambda fmt, *lists: [_format(fmt, *row) for row in zip(*lists, strict=True)],
        "reverse": lambda items: list(reversed(items)),
        "sort": lambda items: sorted(str(_to_string(i)) for i in items),
        "range": _range,
        "coalescelist": lambda *lists: next((li for li in lists if li), []),
        "setunion": lambda *sets: _toset([x for s in sets for x in s]),
        "setintersection": lambda first, *rest: [x for x in _toset(first) if all(x in r for r in rest)],
        "setsubtract": lambda a, b: [x for x in _toset(a) if x not in b],
        "slice": lambda items, start, end: items[start:end],
        "anytrue": lambda items: any(i is True for i in items),
        "alltrue": lambda items: all(i is True for i in items),
        "sum": lambda items: sum(items),
        "chunklist": lambda items, n: [items[i : i + n] for i in range(0, len(items), n)] if n > 0 else [items],
        "yamlencode": lambda v: json.dumps(v),  # JSON is YAML; the value matters, not its layout
    }
)

_FILE_FUNCTIONS = {"file", "templatefile", "fileexists"}


def _file_function(name: str, scope: Scope, depth: int) -> Callable[..., Any] | None:
    """`file()` and friends read only inside the scanned tree (Scope.files); without it, Unknown."""
    files = scope.files
    if files is None:
        return None
    if name == "file":
        return files.read
    if name == "fileexists":
        return files.exists

    def templatefile(path: str, variables: Mapping[str, Any]) -> Any:
        text = files.read(path)
        if isinstance(text, Unknown):
            return text
        inner = Scope({}, {}, None, files, scope.paths)
        inner.bound = dict(variables)
        return _template_text(text, inner, depth)

    return templatefile


_HANDLERS: dict[str, Callable[[Tree, Scope, int], Any]] = {
    "expr_term": _expr_term,
    "literal_value": _literal,
    "int_lit": _int,
    "float_lit": _float,
    "string": _string,
    "heredoc_template": _heredoc,
    "heredoc_template_trim": _heredoc,
    "tuple": _tuple,
    "object": _object,
    "identifier": _identifier,
    "get_attr_expr_term": _traversal,
    "index_expr_term": _traversal,
    "conditional": _conditional,
    "binary_op": _binary_op,
    "unary_op": _unary_op,
    "for_tuple_expr": _for_expr,
    "for_object_expr": _for_expr,
    "function_call": _function_call,
    "full_splat_expr_term": _splat,
    "attr_splat_expr_term": _splat,
}
