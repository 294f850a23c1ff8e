"""Fast CloudFormation decoding: PyYAML's C parser, cfn-lint's node shapes, no cfn-lint import.

cfn-lint's decoder is the reference (`cfnlint.decode.cfn_yaml`): same short-form intrinsics
(`!Ref x` → `{"Ref": x}`, `!GetAtt a.b` → `{"Fn::GetAtt": ["a", "b"]}`, `!Sub` → `{"Fn::Sub": ...}`),
same duplicate-key errors, and a `start_mark` on every key, string and list. What this module
does not do the same way it does not do at all: `decode()` returns None and the caller falls back to
cfn-lint (YAML that the C parser rejects, JSON that is not also YAML). That keeps results exact
while the common case avoids importing cfn-lint (0.3 s and 60 MiB) and its Python-level decoding
(5× slower; 44× on JSON). tests/test_cfn_decode.py compares both decoders over the corpus.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_UNCONVERTED = ("Ref", "Condition")
_PYTHON_TAG = "tag:yaml.org,2002:python/"


class Mark:
    __slots__ = ("line", "column")

    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


class StrNode(str):
    start_mark: Any
    end_mark: Any


class DictNode(dict):  # type: ignore[type-arg]
    start_mark: Any
    end_mark: Any


class ListNode(list):  # type: ignore[type-arg]
    start_mark: Any
    end_mark: Any


def _marked(obj: Any, node: Any) -> Any:
    obj.start_mark, obj.end_mark = node.start_mark, node.end_mark
    return obj


class DecodeError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line  # 1-based


def _check_key(key: Any, key_node: Any, seen: dict[Any, Any], repeats: bool = False) -> None:
    """cfn-lint's errors for a mapping key: null, unhashable, or seen before (unless merge keys
    let keys repeat); records the key's node in `seen`."""
    line = key_node.start_mark.line + 1
    if key is None:
        raise DecodeError(f"Null key {key_node.value!r} not supported", line)
    try:
        hash(key)
    except TypeError as exc:
        raise DecodeError(f'Unhashable type "{key}"', line) from exc
    if key in seen and not repeats:
        raise DecodeError(f"Duplicate found {key!r} (lines {seen[key].start_mark.line + 1} and {line})", line)
    seen[key] = key_node


class _CfnLoader(_Loader):  # type: ignore[misc, valid-type]
    def construct_yaml_map(self, node: MappingNode) -> Any:
        self.flatten_mapping(node)
        mapping = DictNode()
        seen: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            _check_key(key, key_node, seen, repeats=getattr(node, "merged", False))
            mapping[key] = self.construct_object(value_node, deep=True)
        return _marked(mapping, node)

    def flatten_mapping(self, node: MappingNode) -> None:
        if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
            node.merged = True  # type: ignore[attr-defined]  # merged keys may repeat, as in cfn-lint
        super().flatten_mapping(node)

    def construct_yaml_str(self, node: ScalarNode) -> Any:
        return _marked(StrNode(super().construct_scalar(node)), node)

    def construct_yaml_seq(self, node: SequenceNode) -> Any:
        return _marked(ListNode(self.construct_object(child, deep=True) for child in node.value), node)


def _intrinsic(loader: _CfnLoader, suffix: str, node: Any) -> Any:
    name = suffix if suffix in _UNCONVERTED else f"Fn::{suffix}"
    if name == "Fn::GetAtt" and isinstance(node, ScalarNode):
        value: Any = _marked(ListNode(str(node.value).split(".", 1)), node)
    elif isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, SequenceNode):
        value = loader.construct_yaml_seq(node)
    elif isinstance(node, MappingNode):
        value = loader.construct_yaml_map(node)
    else:  # pragma: no cover - PyYAML has no other node kinds
        raise DecodeError(f"Bad tag: !{suffix}", node.start_mark.line + 1)
    return _marked(DictNode({name: value}), node)


_CfnLoader.add_constructor("tag:yaml.org,2002:map", _CfnLoader.construct_yaml_map)
_CfnLoader.add_constructor("tag:yaml.org,2002:str", _CfnLoader.construct_yaml_str)
_CfnLoader.add_constructor("tag:yaml.org,2002:seq", _CfnLoader.construct_yaml_seq)
_CfnLoader.add_multi_constructor("!", _intrinsic)


def decode(text: str) -> Any:
    """The decoded template, or None when only cfn-lint's decoder can say (fall back to it).

    Raises DecodeError for the mistakes both decoders report the same way (duplicate keys).
    """
    try:
        loader = _CfnLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if "&" in text:  # anchors: shared nodes, built once by PyYAML's own constructor
                return loader.construct_document(node)
            try:
                return _build(loader, node)
            except _Unusual:  # merge keys, !!set, !!omap...: PyYAML's constructor, as before
                return loader.construct_document(node)
        finally:
            loader.dispose()
    except DecodeError:
        raise
    except yaml.constructor.ConstructorError as exc:
        tag = str(getattr(exc, "problem", "")).partition("for the tag ")[2].strip("'")
        mark = getattr(exc, "problem_mark", None)
        if tag.startswith(_PYTHON_TAG) and mark is not None:  # never constructed, let alone run
            shown = "!!" + tag.removeprefix("tag:yaml.org,2002:")
            raise DecodeError(f"YAML tag {shown} is not allowed: templates are loaded safely, nothing is executed", mark.line + 1) from None
        return None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


class _Unusual(Exception):
    """A node the direct builder leaves to PyYAML's constructor."""


def _build(loader: _CfnLoader, node: Any) -> Any:
    """What `_CfnLoader` constructs from a composed node, without PyYAML's per-node bookkeeping
    (about a third of decoding). Plain strings, mappings and sequences, and short-form
    intrinsics, are built here; other scalars (numbers, booleans, dates) by the loader."""
    tag = node.tag
    kind = node.__class__
    if tag[:1] == "!":
        if kind is ScalarNode:
            return _intrinsic(loader, tag[1:], node)
        if kind is SequenceNode:
            value: Any = _marked(ListNode(_build(loader, child) for child in node.value), node)
        elif kind is MappingNode:
            value = _build_map(loader, node)
        else:  # pragma: no cover - PyYAML has no other node kinds
            raise _Unusual
        suffix = tag[1:]
        return _marked(DictNode({suffix if suffix in _UNCONVERTED else f"Fn::{suffix}": value}), node)
    if kind is ScalarNode:
        if tag == _STR:
            return _marked(StrNode(node.value), node)
        return loader.construct_object(node)
    if kind is MappingNode and tag == _MAP:
        return _build_map(loader, node)
    if kind is SequenceNode and tag == _SEQ:
        return _marked(ListNode(_build(loader, child) for child in node.value), node)
    raise _Unusual


def _build_map(loader: _CfnLoader, node: Any) -> Any:
    mapping = DictNode()
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            raise _Unusual
        key = _build(loader, key_node)
        _check_key(key, key_node, seen)
        mapping[key] = _build(loader, value_node)
    return _marked(mapping, node)
