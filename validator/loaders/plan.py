"""Terraform / OpenTofu plan JSON (`terraform show -json plan.out`) → model.Template.

Resources come from `planned_values` (the root module and nested `child_modules`, with their full
addresses such as `module.a["k"].aws_iam_role.x[0]`), data sources read during planning from
`prior_state`, and their values from `resource_changes[].change.after`:

- an attribute in `after_unknown` is known only after apply. When the resource's `configuration`
  sets it, it is a Reference to what the expression refers to (`references`), or the rendered
  document of a referenced `data.aws_iam_policy_document`; when the configuration does not set it,
  it is a provider-computed default and is left out, exactly as the HCL loader leaves it out;
- an attribute in `after_sensitive` is `Unknown("sensitive value")`: its value is never kept;
- a resource whose only actions are `delete` (or `forget`) is not judged; a replacement is.

Provider blocks come from `configuration.provider_config` (constant values; references are
unknown), outputs from the configuration's expressions; variable values are never turned into
resources (a plan holds sensitive ones in clear text). When the configuration's HCL source is also
loaded (`--tf-source`, or .tf files beside the plan), `source` gives each resource its .tf file:line
(matched by address) and the provider, variable and output blocks come from the HCL, evaluated with
the plan's variable values. Resources keep the plan file and line in `Resource.origin`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from validator.loaders import tf_policy_document
from validator.loaders.tf_relations import relations
from validator.model import SELF_ACCOUNT, Format, LoadError, Location, Reference, Resource, Template, Unknown

_ADDRESS = re.compile(r'"address"\s*:\s*("(?:[^"\\]|\\.)*")')
_INDEX = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]')
_ABSENT = object()  # an attribute the configuration does not set and the plan does not know
_NO_CONFIG = object()  # the plan has no configuration for the resource
_GONE = {"delete", "forget"}
_SENSITIVE = "sensitive value"


def parse(path: str, text: str) -> tuple[dict[str, Any] | None, LoadError | None]:
    try:
        doc = json.loads(text.lstrip("\ufeff"))
    except ValueError as exc:
        return None, LoadError(path, f"invalid JSON: {getattr(exc, 'msg', exc)}", getattr(exc, "lineno", None))
    if not isinstance(doc, dict) or not {"planned_values", "resource_changes", "configuration"} & doc.keys():
        return None, LoadError(path, "not a Terraform plan (no planned_values, resource_changes or configuration)")
    return doc, None


def variables(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The root module's variable values the plan was made with."""
    out: dict[str, Any] = {}
    raw = doc.get("variables")
    for name, entry in (raw.items() if isinstance(raw, Mapping) else ()):
        if isinstance(entry, Mapping) and "value" in entry:
            out[str(name)] = entry["value"]
    return out


def load_plan(
    path: str, text: str, doc: Mapping[str, Any] | None = None, source: Template | None = None
) -> tuple[Template | None, list[LoadError]]:
    if doc is None:
        doc, error = parse(path, text)
        if doc is None:
            return None, [error] if error else []
    try:
        return _load(path, text, doc, source)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # Terraform never writes such a file; a hand-edited one is an error, never a traceback
        return None, [LoadError(path, f"unexpected plan JSON structure ({type(exc).__name__}: {exc})")]


def _load(path: str, text: str, doc: Mapping[str, Any], source: Template | None) -> tuple[Template | None, list[LoadError]]:
    reader = _PlanReader(path, text, doc)
    resources = list(reader.resources())
    if source is None:
        resources += reader.providers()
        resources += reader.outputs()
        return Template(Format.TERRAFORM_PLAN, path, tuple(resources), (path,), relations=relations(resources)), []
    exact = {r.id: r for r in source.resources}
    shapes: dict[str, Resource] = {}
    for r in source.resources:
        shapes.setdefault(_shape(r.id), r)
    # Findings point at the .tf file:line; the plan they were judged from is named next to the address.
    origin = f"plan {os.path.basename(path)}"
    located: list[Resource] = []
    for r in resources:
        hcl = exact.get(r.id) or shapes.get(_shape(r.id))
        if hcl is not None and hcl.type == r.type:
            plan_at = {"terraform_plan": f"{path}:{r.location.line}" if r.location.line else path}
            r = replace(r, location=hcl.location, lines=hcl.lines, metadata={**hcl.metadata, **plan_at}, origin=origin)
        located.append(r)
    for r in source.resources:
        if r.type.startswith("provider.") or r.type in ("variable", "output"):
            located.append(replace(r, format=Format.TERRAFORM_PLAN, metadata={**r.metadata, "terraform_plan": path}, origin=origin))
    files = (path, *source.files)
    return Template(Format.TERRAFORM_PLAN, path, tuple(located), files, relations=relations(located)), []


def _shape(address: str) -> str:
    """An address with every instance key replaced by the [*] marker."""
    return _INDEX.sub("[*]", address)


def split_address(address: str) -> list[str]:
    """`module.a["x.y"].aws_iam_role.r[0]` → ['module', 'a["x.y"]', 'aws_iam_role', 'r[0]']."""
    parts, current, depth, quoted, escaped = [], "", 0, False, False
    for ch in address:
        if quoted:
            current += ch
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "." and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return parts


def _module_prefix(address: str) -> tuple[str, list[str]]:
    """(`module.a["k"].` prefix of the resource's module instance, module names without keys)."""
    parts = split_address(address)
    prefix, names = "", []
    i = 0
    while i + 1 < len(parts) and parts[i] == "module":
        prefix += f"module.{parts[i + 1]}."
        names.append(_INDEX.sub("", parts[i + 1]))
        i += 2
    return prefix, names


class _PlanReader:
    def __init__(self, path: str, text: str, doc: Mapping[str, Any]) -> None:
        self.path, self.text, self.doc = path, text, doc
        self.lines = _address_lines(text)
        config = doc.get("configuration")
        self.config = config if isinstance(config, Mapping) else {}
        self.has_config = bool(self.config)
        self.data: dict[str, Mapping[str, Any]] = {}  # data source address → its values
        self.self_accounts: set[str] = set()
        self.addresses: set[str] = set()

    # --- resources ----------------------------------------------------------------------------------

    def _entries(self) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]]:
        """(address, planned_values entry, resource_changes entry) for every resource, in file order."""
        changes: dict[str, Mapping[str, Any]] = {}
        for rc in _as_list(self.doc.get("resource_changes")):
            if isinstance(rc, Mapping) and isinstance(rc.get("address"), str):
                changes.setdefault(rc["address"], rc)
        seen: set[str] = set()
        planned = self.doc.get("planned_values")
        for entry in _walk(planned.get("root_module") if isinstance(planned, Mapping) else None):
            seen.add(entry["address"])
            yield entry["address"], entry, changes.get(entry["address"])
        for address, rc in changes.items():
            if address not in seen:
                seen.add(address)
                yield address, rc, rc
        prior = self.doc.get("prior_state")
        values = prior.get("values") if isinstance(prior, Mapping) else None
        for entry in _walk(values.get("root_module") if isinstance(values, Mapping) else None):
            if entry.get("mode") == "data" and entry["address"] not in seen:
                seen.add(entry["address"])
                yield entry["address"], entry, None

    def resources(self) -> list[Resource]:
        entries = []
        order: list[str] = []
        for address, entry, rc in self._entries():
            change = rc.get("change") if rc else None
            actions = change.get("actions") if isinstance(change, Mapping) else None
            if isinstance(actions, list) and actions and all(isinstance(a, str) and a in _GONE for a in actions):
                continue  # being destroyed (or forgotten): nothing to judge
            if isinstance(change, Mapping) and isinstance(change.get("after"), Mapping):
                after, unknown, sensitive = change["after"], change.get("after_unknown"), change.get("after_sensitive")
            else:
                after, unknown, sensitive = entry.get("values"), None, entry.get("sensitive_values")
            if not isinstance(after, Mapping):
                after = {}
            order.append(address)
            entries.append((address, entry, after, unknown, sensitive))
        self.addresses = set(order)
        # Data sources first: a resource whose policy is unknown may be rendered from their values.
        entries.sort(key=lambda e: e[1].get("mode") != "data")
        built: dict[str, Resource] = {}
        for address, entry, after, unknown, sensitive in entries:
            rtype = str(entry.get("type") or "")
            if not rtype:
                continue
            mode = entry.get("mode")
            prefix, modules = _module_prefix(address)
            expressions = self._expressions(modules, address, mode)
            props = _value(after, unknown, sensitive, expressions, _Context(self, prefix, entry.get("index")))
            if not isinstance(props, dict):
                props = {}
            if mode == "data":
                self.data[address] = props
                if rtype == "aws_caller_identity" and isinstance(props.get("account_id"), str):
                    self.self_accounts.add(props["account_id"])
            built[address] = Resource(
                Format.TERRAFORM_PLAN,
                f"data.{rtype}" if mode == "data" else rtype,
                address,
                props,
                Location(self.path, self.lines.get(address)),
            )
        return [self.symbolic(built[a]) for a in order if a in built]

    def symbolic(self, resource: Resource) -> Resource:
        """The deploying account (data.aws_caller_identity) as the self-account token, as in HCL."""
        if not self.self_accounts:
            return resource
        pattern = re.compile(r"(?<![0-9])(" + "|".join(sorted(self.self_accounts)) + r")(?![0-9])")

        def walk(value: Any) -> Any:
            if isinstance(value, str):
                return pattern.sub(lambda _: SELF_ACCOUNT, value)
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, Mapping):
                return {k: walk(v) for k, v in value.items()}
            return value

        return replace(resource, properties=walk(resource.properties))

    def _module_config(self, modules: list[str]) -> Mapping[str, Any] | None:
        module = self.config.get("root_module")
        for name in modules:
            if not isinstance(module, Mapping):
                return None
            call = (module.get("module_calls") or {}).get(name)
            module = call.get("module") if isinstance(call, Mapping) else None
        return module if isinstance(module, Mapping) else None

    def _expressions(self, modules: list[str], address: str, mode: Any) -> Any:
        if not self.has_config:
            return _NO_CONFIG
        module = self._module_config(modules)
        if module is None:
            return _NO_CONFIG
        parts = split_address(address)[2 * len(modules) :]
        local = _INDEX.sub("", ".".join(parts))
        for r in _as_list(module.get("resources")):
            if isinstance(r, Mapping) and r.get("address") == local:
                expressions = r.get("expressions")
                return expressions if isinstance(expressions, Mapping) else {}
        return _NO_CONFIG

    # --- providers and outputs ----------------------------------------------------------------------

    def providers(self) -> list[Resource]:
        out: list[Resource] = []
        configs = self.config.get("provider_config")
        for key, cfg in (configs.items() if isinstance(configs, Mapping) else ()):
            if not isinstance(cfg, Mapping) or not isinstance(cfg.get("name"), str):
                continue
            module = cfg.get("module_address")
            prefix = f"{module}." if isinstance(module, str) and module else ""
            rtype = f"provider.{cfg['name']}"
            alias = cfg.get("alias")
            address = prefix + (f"{rtype}.{alias}" if isinstance(alias, str) and alias else rtype)
            props = _expression_values(cfg.get("expressions"), _Context(self, prefix))
            if isinstance(alias, str) and alias:
                props["alias"] = alias
            line = _key_line(self.text, str(key), self.text.find('"provider_config"'))
            out.append(self.symbolic(Resource(Format.TERRAFORM_PLAN, rtype, address, props, Location(self.path, line))))
        return out

    def outputs(self) -> list[Resource]:
        out: list[Resource] = []

        def visit(module: Any, prefix: str) -> None:
            if not isinstance(module, Mapping):
                return
            outputs = module.get("outputs")
            for name, cfg in (outputs.items() if isinstance(outputs, Mapping) else ()):
                if not isinstance(cfg, Mapping):
                    continue
                props: dict[str, Any] = {}
                expression = cfg.get("expression")
                if isinstance(expression, Mapping):
                    props["value"] = _Context(self, prefix).expression(expression)
                if cfg.get("sensitive") is True:
                    props["sensitive"] = True
                out.append(Resource(Format.TERRAFORM_PLAN, "output", f"{prefix}output.{name}", props, Location(self.path)))
            calls = module.get("module_calls")
            for name, call in (calls.items() if isinstance(calls, Mapping) else ()):
                if isinstance(call, Mapping):
                    visit(call.get("module"), f"{prefix}module.{name}.")

        visit(self.config.get("root_module"), "")
        return out


class _Context:
    """Turns a configuration expression of one module instance into a value.

    `index` is the instance key of the resource the expression belongs to: a reference whose index
    is `each.key` or `count.index` (recorded by Terraform as the bare resource plus `each.key`) means
    the instance with the same key, when there is one.
    """

    def __init__(self, reader: _PlanReader, prefix: str, index: Any = None) -> None:
        self.reader, self.prefix, self.index = reader, prefix, index

    def expression(self, expr: Mapping[str, Any]) -> Any:
        if "constant_value" in expr:
            return expr["constant_value"]
        refs = [r for r in _as_list(expr.get("references")) if isinstance(r, str)]
        same_key = self.index is not None and any(r in ("each.key", "each.value", "count.index") for r in refs)
        for ref in refs:
            parts = split_address(ref)
            if parts[0] in ("var", "local", "each", "count", "path", "terraform", "self", "module"):
                continue
            n = 3 if parts[0] == "data" else 2
            if len(parts) < n:
                continue
            base, attr = ".".join(parts[:n]), parts[n] if len(parts) > n else None
            if same_key and "[" not in base:
                keyed = base + (f"[{self.index}]" if isinstance(self.index, int) else f"[{json.dumps(self.index)}]")
                if self.prefix + keyed in self.reader.addresses or self.prefix + keyed in self.reader.data:
                    base = keyed
            if parts[0] == "data" and parts[1] == "aws_iam_policy_document" and attr in ("json", "minified_json", None):
                document = self._document(base)
                if document is not None:
                    return document
            target = self.prefix + base
            return Reference(f"{target}{'.' + attr if attr else ''} is known only after apply", target, attr)
        if refs:
            return Unknown(f"{refs[0]}: the plan records which values this expression uses, not the expression")
        return Unknown("known only after apply")

    def _document(self, base: str) -> Any:
        address = self.prefix + base
        values = self.reader.data.get(address)
        if values is None:
            candidates = [a for a in self.reader.data if _INDEX.sub("", a) == address]
            values = self.reader.data[candidates[0]] if len(candidates) == 1 else None
        if values is None:
            return None
        rendered = values.get("json")
        if isinstance(rendered, str) and rendered:
            return rendered
        return tf_policy_document.render(values)


def _value(after: Any, unknown: Any, sensitive: Any, expr: Any, ctx: _Context) -> Any:
    if sensitive is True:
        return Unknown(_SENSITIVE)
    if unknown is True:
        if expr is _NO_CONFIG:
            return Unknown("known only after apply")
        if not isinstance(expr, Mapping) and not isinstance(expr, list):
            return _ABSENT
        if _is_leaf(expr):
            return ctx.expression(expr)
        return Unknown("known only after apply")
    if isinstance(after, Mapping):
        out: dict[str, Any] = {}
        keys = list(after) + [k for k in (unknown if isinstance(unknown, Mapping) else {}) if k not in after]
        for key in keys:
            value = _value(after.get(key), _sub(unknown, key), _sub(sensitive, key), _sub_expr(expr, key), ctx)
            if value is not _ABSENT:
                out[key] = value
        return out
    if isinstance(after, list):
        items = []
        for i, item in enumerate(after):
            value = _value(item, _item(unknown, i), _item(sensitive, i), _item_expr(expr, i), ctx)
            items.append(Unknown("known only after apply") if value is _ABSENT else value)
        return items
    return after


def _is_leaf(expr: Any) -> bool:
    return isinstance(expr, Mapping) and ("constant_value" in expr or "references" in expr or not expr)


def _sub(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _item(value: Any, i: int) -> Any:
    return value[i] if isinstance(value, list) and i < len(value) else None


def _sub_expr(expr: Any, key: str) -> Any:
    if expr is _NO_CONFIG or expr is None:
        return expr
    if _is_leaf(expr):
        return expr  # inside a configured attribute's value: the attribute's expression
    if isinstance(expr, list):
        return _sub_expr(expr[0], key) if len(expr) == 1 else _NO_CONFIG
    if isinstance(expr, Mapping):
        return expr.get(key)
    return None


def _item_expr(expr: Any, i: int) -> Any:
    if expr is _NO_CONFIG or expr is None or _is_leaf(expr):
        return expr
    if isinstance(expr, list):
        return expr[i] if i < len(expr) else _NO_CONFIG  # e.g. blocks from a dynamic block
    return expr


def _expression_values(expressions: Any, ctx: _Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, expr in (expressions.items() if isinstance(expressions, Mapping) else ()):
        if _is_leaf(expr):
            out[key] = ctx.expression(expr)
        elif isinstance(expr, list):
            out[key] = [_expression_values(e, ctx) for e in expr if isinstance(e, Mapping)]
        elif isinstance(expr, Mapping):
            out[key] = [_expression_values(expr, ctx)]
    return out


def _walk(module: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(module, Mapping):
        return
    for r in _as_list(module.get("resources")):
        if isinstance(r, Mapping) and isinstance(r.get("address"), str):
            yield r
    for child in _as_list(module.get("child_modules")):
        yield from _walk(child)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _address_lines(text: str) -> dict[str, int]:
    """Line of each resource address: its entry in resource_changes, else its first appearance."""
    changes_at = text.find('"resource_changes"')
    first: dict[str, int] = {}
    in_changes: dict[str, int] = {}
    line, pos = 1, 0
    for m in _ADDRESS.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        try:
            address = json.loads(m.group(1))
        except ValueError:
            continue
        first.setdefault(address, line)
        if 0 <= changes_at < m.start():
            in_changes.setdefault(address, line)
    return {**first, **in_changes}


def _key_line(text: str, key: str, start: int) -> int | None:
    at = text.find(json.dumps(key) + ":", max(start, 0))
    if at < 0:
        at = text.find(json.dumps(key), max(start, 0))
    return text.count("\n", 0, at) + 1 if at >= 0 else None
