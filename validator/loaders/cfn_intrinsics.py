"""CloudFormation intrinsic functions, parameters and conditions, resolved statically.

A `Scope` holds what one template declares: its parameters (with the value each one has in this
scan: given on the command line or by a parent stack, else its default, else Unknown), conditions,
mappings and resources. A `Resolver` resolves nodes of that template under one *assignment*: a
value chosen for a parameter whose value is unknown but whose `AllowedValues` are listed, and a
truth value for a condition the parameters cannot decide. With the empty assignment an undecided
`Fn::If` is Unknown (unless both branches agree), which is the sound view for anyone who does not
look at variants.

`variables()` and `assignments()` find, for one resource, the choices that matter to it and the
consistent combinations of them (at most MAX_VARIANTS): the loader resolves the resource once per
combination.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from validator.model import SELF_ACCOUNT, Reference, Unknown, contains_unknown

# Pseudo parameters that stay symbolic; AWS::AccountId is "this account".
PSEUDO = {
    "AWS::AccountId": SELF_ACCOUNT,
    "AWS::Partition": "${AWS::Partition}",
    "AWS::Region": "${AWS::Region}",
    "AWS::URLSuffix": "${AWS::URLSuffix}",
    "AWS::StackName": "${AWS::StackName}",
    "AWS::StackId": "${AWS::StackId}",
}
_SYMBOLIC = "${AWS::"  # a value holding a pseudo parameter is only known at deploy time
NO_VALUE = Unknown("AWS::NoValue")  # removes the key or list item that holds it
_SUB_VAR = re.compile(r"\$\{(!?)([^}]*)\}")
_SSM = "AWS::SSM::Parameter::Value<"
_MAX_DEPTH = 100

MAX_VARIANTS = 8  # resolutions of one resource at most; choices beyond that stay Unknown

CONDITION = "condition"
PARAMETER = "parameter"
Var = tuple[str, str]  # (CONDITION, name) or (PARAMETER, name)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    value: Any  # the typed value this scan uses, or Unknown
    allowed: tuple[Any, ...] = ()  # typed AllowedValues

    @property
    def enumerable(self) -> bool:
        """Unknown value but a short list of possible ones: judged once per allowed value."""
        return (
            isinstance(self.value, Unknown)
            and not self.type.startswith(_SSM)
            and 0 < len(self.allowed) <= MAX_VARIANTS
            and not any(isinstance(v, Unknown | list) for v in self.allowed)
        )


def typed(kind: str, raw: Any, name: str) -> Any:
    """A parameter value as `Ref` gives it: lists for list types, numbers for Number, else strings."""
    if isinstance(raw, Unknown):
        return raw
    if kind.startswith(_SSM):
        return Unknown(f"parameter {name} is read from SSM Parameter Store")
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        items = raw if isinstance(raw, list) else str(_scalar_text(raw)).split(",")
        return [_typed_item(kind, _scalar_text(i).strip() if isinstance(i, str | int | float | bool) else i) for i in items]
    if kind == "Number":
        return _number(raw)
    if isinstance(raw, str | int | float | bool):
        return _scalar_text(raw)
    return raw


def _typed_item(kind: str, item: Any) -> Any:
    return _number(item) if kind == "List<Number>" else item


def _number(raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, str):
        return raw
    text = raw.strip()
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return raw


def _scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return str(value) if isinstance(value, str) else value


class Scope:
    """What a template declares, with the parameter values of this scan."""

    def __init__(self, template: Mapping[str, Any], values: Mapping[str, Any] | None = None) -> None:
        values = values or {}
        self.params: dict[str, Param] = {}
        declared = template.get("Parameters")
        for name, body in (declared.items() if isinstance(declared, Mapping) else ()):
            name = str(name)
            body = body if isinstance(body, Mapping) else {}
            kind = str(body.get("Type", "String"))
            if name in values:
                given = values[name]
                if isinstance(given, Unknown):  # a parent stack passed something unresolvable
                    given = Unknown(f"parameter {name} is set by the parent stack to an unresolved value ({given.reason})")
                value = typed(kind, given, name)
            elif "Default" in body:
                value = typed(kind, _plain(body["Default"]), name)
            else:
                value = Unknown(f"parameter {name} has no default")
            allowed = body.get("AllowedValues")
            allowed_values = tuple(typed(kind, _plain(v), name) for v in allowed) if isinstance(allowed, list) else ()
            self.params[name] = Param(name, kind, value, allowed_values)
        conditions = template.get("Conditions")
        self.conditions: Mapping[str, Any] = conditions if isinstance(conditions, Mapping) else {}
        mappings = template.get("Mappings")
        self.mappings: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}
        resources = template.get("Resources")
        self.resources: Mapping[str, Any] = resources if isinstance(resources, Mapping) else {}
        # Whether any resource can have variants at all: most templates have no choices to make.
        self.has_choices = bool(self.conditions) or any(p.enumerable for p in self.params.values())


def _plain(node: Any) -> Any:
    """A literal YAML/JSON value without cfn-lint's node subclasses."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def intrinsic(node: Any) -> tuple[str, Any] | None:
    """(function name, argument) when `node` is an intrinsic function call, else None."""
    if isinstance(node, dict) and len(node) == 1:  # decoded templates hold dicts: no ABC check on the hot path
        ((key, arg),) = node.items()
        if isinstance(key, str) and (key == "Ref" or key == "Condition" or key.startswith(("Fn::", "Rain::"))):
            return str(key), arg
    return None


class Resolver:
    """Resolves nodes of one template under one assignment of choices."""

    def __init__(self, scope: Scope, assignment: Mapping[Var, Any] | None = None) -> None:
        self.scope = scope
        self.assignment: Mapping[Var, Any] = assignment or {}
        self._conditions: dict[str, bool | None] = {}
        self._evaluating: set[str] = set()

    # -- values -------------------------------------------------------------------------------

    def resolve(self, node: Any, depth: int = 0) -> Any:
        if isinstance(node, str):
            return str(node)  # drop cfn-lint's node subclass
        if depth > _MAX_DEPTH:
            return Unknown("nesting too deep")
        if isinstance(node, dict):
            call = intrinsic(node)
            if call is not None and call[0] != "Condition":
                fn, arg = call
                if fn.startswith("Rain::"):
                    return Unknown(f"{fn} directive")
                return self._intrinsic(fn, arg, depth)
            resolved = {str(k): self.resolve(v, depth + 1) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(node, list):
            items = [self.resolve(v, depth + 1) for v in node]
            return [v for v in items if v is not NO_VALUE]
        return node

    def _intrinsic(self, fn: str, arg: Any, depth: int) -> Any:
        handler = _HANDLERS.get(fn)
        if handler is None:
            return Unknown(fn)
        return handler(self, arg, depth + 1)

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unknown("Ref")
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        param = self.scope.params.get(name)
        if param is not None:
            return self.assignment.get((PARAMETER, name), param.value)
        if name in self.scope.resources:
            return Reference(f"Ref {name}", target=name)
        return Unknown(f"Ref {name}")

    def _if(self, arg: Any, depth: int) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            return Unknown("Fn::If")
        decided = self.condition(arg[0])
        if decided is not None:
            return self.resolve(arg[1] if decided else arg[2], depth)
        first, second = self.resolve(arg[1], depth), self.resolve(arg[2], depth)
        if first is NO_VALUE and second is NO_VALUE:
            return NO_VALUE
        if first is not NO_VALUE and second is not NO_VALUE and not contains_unknown(first) and first == second:
            return first
        return Unknown(f"Fn::If on condition {arg[0]}")

    def _sub(self, arg: Any, depth: int) -> Any:
        variables: Mapping[str, Any] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], Mapping):
            source, variables = arg[0], {str(k): self.resolve(v, depth) for k, v in arg[1].items()}
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
                value = self.ref(name)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return str(value)
            unknown.append(name)
            return m.group(0)

        result = _SUB_VAR.sub(replace, source)
        return Unknown(f"Fn::Sub uses unresolved {', '.join(unknown)}") if unknown else result

    def _join(self, arg: Any, depth: int) -> Any:
        if isinstance(arg, list) and len(arg) == 2:
            sep, items = self.resolve(arg[0], depth), self.resolve(arg[1], depth)
            if isinstance(sep, str) and isinstance(items, list) and all(_is_scalar(i) for i in items):
                return sep.join(str(_scalar_text(i)) for i in items)
        return Unknown("Fn::Join of unresolved values")

    def _select(self, arg: Any, depth: int) -> Any:
        if isinstance(arg, list) and len(arg) == 2:
            index, items = self.resolve(arg[0], depth), self.resolve(arg[1], depth)
            if isinstance(items, list) and not isinstance(index, bool | Unknown):
                try:
                    position = int(index)
                except (TypeError, ValueError, OverflowError):
                    return Unknown("Fn::Select index is not a number")
                if 0 <= position < len(items):
                    return items[position]
                return Unknown("Fn::Select out of range")
        return Unknown("Fn::Select of unresolved values")

    def _split(self, arg: Any, depth: int) -> Any:
        if isinstance(arg, list) and len(arg) == 2:
            sep, source = self.resolve(arg[0], depth), self.resolve(arg[1], depth)
            if isinstance(sep, str) and sep and isinstance(source, str):
                return source.split(sep)
        return Unknown("Fn::Split of unresolved values")

    def _find_in_map(self, arg: Any, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            return Unknown("Fn::FindInMap")
        keys = [self.resolve(a, depth) for a in arg[:3]]
        default: Any = None
        if len(arg) == 4 and isinstance(arg[3], Mapping) and "DefaultValue" in arg[3]:  # AWS::LanguageExtensions
            default = arg[3]["DefaultValue"]
        node: Any = self.scope.mappings
        for key in keys:
            if isinstance(key, int | float) and not isinstance(key, bool):
                key = str(key)
            if not isinstance(key, str) or _SYMBOLIC in key:
                return Unknown("Fn::FindInMap with an unresolved key")
            if not isinstance(node, Mapping) or key not in node:
                return self.resolve(default, depth) if default is not None else Unknown(f"Fn::FindInMap: no key {key}")
            node = node[key]
        return self.resolve(node, depth)

    def _get_att(self, arg: Any, depth: int) -> Any:
        if isinstance(arg, str):
            parts = arg.split(".", 1)
        elif isinstance(arg, list) and len(arg) == 2:
            attribute = self.resolve(arg[1], depth)
            parts = [str(arg[0]), str(attribute)] if isinstance(attribute, str) else []
        else:
            parts = []
        if len(parts) == 2 and parts[0] in self.scope.resources:
            return Reference(f"Fn::GetAtt {parts[0]}.{parts[1]}", target=parts[0], attribute=parts[1])
        return Unknown("Fn::GetAtt" + (f" {parts[0]}.{parts[1]}" if len(parts) == 2 else ""))

    def _base64(self, arg: Any, depth: int) -> Any:
        # What the instance or function receives is the decoded text: judge that.
        return self.resolve(arg, depth)

    def _to_json_string(self, arg: Any, depth: int) -> Any:
        value = self.resolve(arg, depth)
        if contains_unknown(value):
            return Unknown("Fn::ToJsonString of unresolved values")
        return json.dumps(value, separators=(",", ":"))

    def _length(self, arg: Any, depth: int) -> Any:
        value = self.resolve(arg, depth)
        return len(value) if isinstance(value, list) else Unknown("Fn::Length of an unresolved list")

    def _import_value(self, arg: Any, depth: int) -> Any:
        name = self.resolve(arg, depth)
        return Unknown(f"Fn::ImportValue {name}" if isinstance(name, str) else "Fn::ImportValue")

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, name: str) -> bool | None:
        """True/False when decided by the parameters (or the assignment), None when not."""
        var = (CONDITION, name)
        if var in self.assignment:
            return bool(self.assignment[var])
        if name in self._conditions:
            return self._conditions[name]
        if name in self._evaluating or name not in self.scope.conditions:
            return None
        self._evaluating.add(name)
        try:
            value = self.evaluate_condition(self.scope.conditions[name])
        finally:
            self._evaluating.discard(name)
        self._conditions[name] = value
        return value

    def evaluate_condition(self, node: Any, depth: int = 0) -> bool | None:
        call = intrinsic(node)
        if call is None or depth > _MAX_DEPTH:
            return None
        fn, arg = call
        if fn == "Condition":
            return self.condition(arg) if isinstance(arg, str) else None
        if fn == "Fn::Equals":
            if not (isinstance(arg, list) and len(arg) == 2):
                return None
            first, second = (_comparable(self.resolve(a, depth + 1)) for a in arg)
            if first is None or second is None:
                return None
            return first == second
        if fn == "Fn::Not":
            inner = self.evaluate_condition(arg[0], depth + 1) if isinstance(arg, list) and len(arg) == 1 else None
            return None if inner is None else not inner
        if fn in ("Fn::And", "Fn::Or") and isinstance(arg, list):
            values = [self.evaluate_condition(a, depth + 1) for a in arg]
            decisive = fn == "Fn::Or"  # the value that decides the whole expression
            if decisive in values:
                return decisive
            return None if None in values else not decisive
        return None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _comparable(value: Any) -> Any:
    """Fn::Equals compares strings: 3600 and "3600" are equal. None when not known statically."""
    if isinstance(value, Unknown) or contains_unknown(value):
        return None
    if isinstance(value, list):
        items = [_comparable(v) for v in value]
        return None if None in items else tuple(items)
    if isinstance(value, str | int | float | bool):
        text = _scalar_text(value)
        return None if _SYMBOLIC in text else text
    return None


_HANDLERS = {
    "Ref": lambda self, arg, depth: self.ref(arg),
    "Fn::If": Resolver._if,
    "Fn::Sub": Resolver._sub,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Base64": Resolver._base64,
    "Fn::ToJsonString": Resolver._to_json_string,
    "Fn::Length": Resolver._length,
    "Fn::ImportValue": Resolver._import_value,
    "Fn::GetAZs": lambda self, arg, depth: Unknown("Fn::GetAZs (known only at deploy time)"),
    "Fn::Cidr": lambda self, arg, depth: Unknown("Fn::Cidr"),
    "Fn::Transform": lambda self, arg, depth: Unknown("Fn::Transform macro"),
}


# -- variants ---------------------------------------------------------------------------------


def variables(scope: Scope, nodes: Iterable[Any], resource_condition: str | None = None) -> tuple[list[Var], set[Var]]:
    """The choices that can change how `nodes` resolve: enumerable parameters first (they decide
    conditions), then the resource's own condition, then the conditions of its Fn::If, in order.

    Also the choices that name a variant: the conditions and the parameters `nodes` use directly.
    A parameter used only through conditions is chosen to decide them, but the conditions say it.
    """
    if not scope.has_choices:
        return [], set()
    conditions: list[str] = [resource_condition] if resource_condition else []
    params: list[str] = []
    for node in nodes:
        _scan(node, conditions, params, 0)
    direct = {(PARAMETER, p) for p in params}
    # Parameters that the conditions depend on (through Fn::Condition too).
    seen: set[str] = set()
    pending = list(conditions)
    while pending:
        name = pending.pop(0)
        if name in seen or name not in scope.conditions:
            continue
        seen.add(name)
        nested: list[str] = []
        _scan(scope.conditions[name], nested, params, 0)
        pending.extend(nested)
    enumerable = [p for p in dict.fromkeys(params) if p in scope.params and scope.params[p].enumerable]
    chosen = [(PARAMETER, p) for p in enumerable] + [(CONDITION, c) for c in dict.fromkeys(conditions)]
    return chosen, {v for v in chosen if v[0] == CONDITION or v in direct}


def _scan(node: Any, conditions: list[str], params: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, dict):
        call = intrinsic(node)
        if call is not None:
            fn, arg = call
            if fn == "Ref" and isinstance(arg, str):
                params.append(arg)
                return
            if fn in ("Fn::If",) and isinstance(arg, list) and arg and isinstance(arg[0], str):
                conditions.append(str(arg[0]))
            elif fn == "Condition" and isinstance(arg, str):
                conditions.append(str(arg))
                return
            elif fn == "Fn::Sub":
                source = arg[0] if isinstance(arg, list) and arg else arg
                local = set(arg[1]) if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], Mapping) else set()
                if isinstance(source, str):
                    params.extend(m.group(2).strip() for m in _SUB_VAR.finditer(source) if not m.group(1) and m.group(2).strip() not in local)
        for value in node.values():
            _scan(value, conditions, params, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _scan(value, conditions, params, depth + 1)


def assignments(scope: Scope, chosen: list[Var]) -> list[dict[Var, Any]]:
    """Every consistent combination of values for `chosen`, at most MAX_VARIANTS.

    A parameter takes each of its AllowedValues; a condition takes the value the parameters give it,
    or both when they cannot decide it. A choice that would exceed the bound is left out: it stays
    Unknown. Combinations in which a condition contradicts its own definition are dropped.
    """
    worlds: list[dict[Var, Any]] = [{}]
    for var in chosen:
        kind, name = var
        expanded: list[dict[Var, Any]] = []
        for world in worlds:
            if kind == PARAMETER:
                domain: list[Any] = list(scope.params[name].allowed)
            else:
                decided = Resolver(scope, world).condition(name)
                domain = [decided] if decided is not None else [True, False]
            expanded.extend({**world, var: value} for value in domain)
        if len(expanded) <= MAX_VARIANTS:
            worlds = expanded
    return [w for w in worlds if _consistent(scope, w)]


def _consistent(scope: Scope, world: Mapping[Var, Any]) -> bool:
    for var, value in world.items():
        if var[0] != CONDITION:
            continue
        others = {k: v for k, v in world.items() if k != var}
        node = scope.conditions.get(var[1])
        decided = Resolver(scope, others).evaluate_condition(node) if node is not None else None
        if decided is not None and decided != value:
            return False
    return True


def describe(var: Var, value: Any) -> tuple[str, str]:
    """("IsProd", "false") or ("parameter Duration", "43200"): how a choice reads in a message."""
    kind, name = var
    shown = _scalar_text(value)
    return (name, str(shown)) if kind == CONDITION else (f"parameter {name}", str(shown))
