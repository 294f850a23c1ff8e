"""CloudFormation YAML/JSON → model.Template, decoded by cfn-lint (line numbers for every key)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from validator.model import (
    SELF_ACCOUNT,
    Format,
    LoadError,
    Location,
    Path,
    Reference,
    Resource,
    Template,
    Unknown,
)

PARAMETER = "AWS::CloudFormation::Parameter"  # a template parameter, judged like a resource
OUTPUT = "AWS::CloudFormation::Output"

# Pseudo parameters that stay symbolic; AWS::AccountId is "this account".
_PSEUDO = {
    "AWS::AccountId": SELF_ACCOUNT,
    "AWS::Partition": "${AWS::Partition}",
    "AWS::Region": "${AWS::Region}",
    "AWS::URLSuffix": "${AWS::URLSuffix}",
    "AWS::StackName": "${AWS::StackName}",
    "AWS::StackId": "${AWS::StackId}",
}
_NO_VALUE = Unknown("AWS::NoValue")  # removes the key that holds it
_SUB_VAR = re.compile(r"\$\{(!?)([^}]*)\}")


def load(path: str, text: str) -> tuple[Template | None, list[LoadError]]:
    from cfnlint.decode import decode_str  # heavy import: only when a template is loaded

    try:
        decoded, matches = decode_str(text)
    except Exception as exc:  # the decoder's own failure is still a per-file error
        return None, [LoadError(path, f"cannot decode template: {exc}")]
    if matches:
        return None, [_decode_error(path, m) for m in matches]
    if not isinstance(decoded, Mapping):
        return None, [LoadError(path, "template is not a mapping")]
    resources_node = decoded.get("Resources")
    if not isinstance(resources_node, Mapping):
        return None, [LoadError(path, "template has no Resources mapping", _line(decoded, "Resources"))]

    resolver = _Resolver(decoded)
    resources: list[Resource] = []
    for logical_id, body in resources_node.items():
        if not isinstance(body, Mapping) or not isinstance(body.get("Type"), str):
            continue  # cfn-lint reports malformed resources; we only judge typed ones
        resource = _resource(path, resources_node, str(logical_id), str(body["Type"]), body.get("Properties", {}), resolver)
        metadata = body.get("Metadata")
        if isinstance(metadata, Mapping):
            resolved = resolver.resolve(metadata)
            resource = replace(resource, metadata=resolved if isinstance(resolved, Mapping) else {})
        resources.append(resource)
    # Parameters and Outputs are judged too (hard-coded keys in defaults, secrets in outputs).
    for section, rtype in (("Parameters", PARAMETER), ("Outputs", OUTPUT)):
        entries = decoded.get(section)
        if isinstance(entries, Mapping):
            for name, body in entries.items():
                if isinstance(body, Mapping):
                    resources.append(_resource(path, entries, str(name), rtype, body, resolver))
    return Template(Format.CLOUDFORMATION, path, tuple(resources), (path,)), []


def _resource(path: str, parent: Mapping[str, Any], name: str, rtype: str, node: Any, resolver: _Resolver) -> Resource:
    lines: dict[Path, int] = {}
    props: Any = {}
    if isinstance(node, Mapping):
        _collect_lines(node, (), lines)
        props = resolver.resolve(node)
    return Resource(
        format=Format.CLOUDFORMATION,
        type=rtype,
        id=name,
        properties=props if isinstance(props, Mapping) else {},
        location=Location(path, _line(parent, name)),
        lines=lines,
    )


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


def _collect_lines(node: Any, path: Path, out: dict[Path, int]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            mark = getattr(key, "start_mark", None)
            sub = (*path, str(key))
            if mark is not None:
                out[sub] = mark.line + 1
            _collect_lines(value, sub, out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            mark = getattr(value, "start_mark", None)
            sub = (*path, i)
            if mark is not None:
                out[sub] = mark.line + 1
            _collect_lines(value, sub, out)


class _Resolver:
    """Resolves the intrinsics whose value is knowable from the template alone; others are Unknown."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        params = template.get("Parameters")
        self.params: Mapping[str, Any] = params if isinstance(params, Mapping) else {}
        resources = template.get("Resources")
        self.resources: Mapping[str, Any] = resources if isinstance(resources, Mapping) else {}
        mappings = template.get("Mappings")
        self.mappings: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}

    def resolve(self, node: Any, depth: int = 0) -> Any:
        if depth > 100:
            return Unknown("nesting too deep")
        if isinstance(node, Mapping):
            if len(node) == 1:
                (key, arg), = node.items()
                key = str(key)
                if key == "Ref" or key.startswith("Fn::"):
                    return self._intrinsic(key, arg, depth)
                if key.startswith("Rain::"):
                    return Unknown(f"{key} directive")
            resolved = {str(k): self.resolve(v, depth + 1) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
        if isinstance(node, list):
            items = [self.resolve(v, depth + 1) for v in node]
            return [v for v in items if v is not _NO_VALUE]
        if isinstance(node, str):
            return str(node)  # drop cfn-lint's node subclass
        return node

    def _intrinsic(self, fn: str, arg: Any, depth: int) -> Any:
        if fn == "Ref":
            return self._ref(arg)
        if fn == "Fn::Sub":
            return self._sub(arg, depth)
        if fn == "Fn::Join":
            if isinstance(arg, list) and len(arg) == 2:
                sep, items = self.resolve(arg[0], depth + 1), self.resolve(arg[1], depth + 1)
                if isinstance(sep, str) and isinstance(items, list) and all(isinstance(i, str | int | float) for i in items):
                    return sep.join(str(i) for i in items)
            return Unknown("Fn::Join of unresolved values")
        if fn == "Fn::Select":
            if isinstance(arg, list) and len(arg) == 2:
                index, items = self.resolve(arg[0], depth + 1), self.resolve(arg[1], depth + 1)
                try:
                    return items[int(index)] if isinstance(items, list) else Unknown("Fn::Select")
                except (ValueError, IndexError, TypeError):
                    return Unknown("Fn::Select out of range")
            return Unknown("Fn::Select")
        if fn == "Fn::Split":
            if isinstance(arg, list) and len(arg) == 2:
                sep, source = self.resolve(arg[0], depth + 1), self.resolve(arg[1], depth + 1)
                if isinstance(sep, str) and sep and isinstance(source, str):
                    return source.split(sep)
            return Unknown("Fn::Split")
        if fn == "Fn::Base64":
            return self.resolve(arg, depth + 1)
        if fn == "Fn::FindInMap":
            return self._find_in_map(arg, depth)
        if fn == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else [str(a) for a in arg] if isinstance(arg, list) else []
            if len(parts) == 2:
                return Reference(f"Fn::GetAtt {parts[0]}.{parts[1]}", target=parts[0], attribute=parts[1])
            return Unknown("Fn::GetAtt")
        return Unknown(fn)

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unknown("Ref")
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name == "AWS::NoValue":
            return _NO_VALUE
        param = self.params.get(name)
        if isinstance(param, Mapping):
            if "Default" in param:
                default = param["Default"]
                if not isinstance(default, str):
                    return self.resolve(default)
                kind = str(param.get("Type", ""))
                if kind == "CommaDelimitedList" or kind.startswith("List<"):  # Ref gives the list
                    return [item.strip() for item in default.split(",")]
                return str(default)
            return Unknown(f"parameter {name} has no default")
        if name in self.resources:
            return Reference(f"Ref {name}", target=name)
        return Unknown(f"Ref {name}")

    def _sub(self, arg: Any, depth: int) -> Any:
        variables: Mapping[str, Any] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], Mapping):
            source, variables = arg[0], {str(k): self.resolve(v, depth + 1) for k, v in arg[1].items()}
        else:
            source = arg
        if not isinstance(source, str):
            return Unknown("Fn::Sub")
        unknown: list[str] = []

        def replace(m: re.Match[str]) -> str:
            if m.group(1):  # ${!Literal}
                return "${" + m.group(2) + "}"
            name = m.group(2).strip()
            if name in variables:
                value = variables[name]
            elif "." in name:
                value = Unknown(f"Fn::GetAtt {name}")
            else:
                value = self._ref(name)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return str(value)
            unknown.append(name)
            return m.group(0)

        result = _SUB_VAR.sub(replace, source)
        return Unknown(f"Fn::Sub uses unresolved {', '.join(unknown)}") if unknown else result

    def _find_in_map(self, arg: Any, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 3:
            return Unknown("Fn::FindInMap")
        keys = [self.resolve(a, depth + 1) for a in arg]
        node: Any = self.mappings
        for key in keys:
            if not isinstance(key, str) or not isinstance(node, Mapping) or key not in node:
                return Unknown("Fn::FindInMap")
            node = node[key]
        return self.resolve(node, depth + 1)
