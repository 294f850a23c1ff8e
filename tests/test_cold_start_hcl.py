"""python-hcl2 loads its Lark parser from a cache in its own install folder (about 45 ms); without the
cache it builds the parser from the grammar (1-1.5 s). Where that folder is read-only and the cache
missing, the validator caches the same parser in the user's cache folder instead."""

from __future__ import annotations

import os
from pathlib import Path

import hcl2
import pytest
from hcl2 import parser as hcl2_parser
from lark import Token, Tree

from validator.loaders import hcl_eval
from validator.loaders.terraform import parse_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "fixtures").rglob("*.tf"))[::4]


def shape(tree: Tree) -> list[object]:
    """Everything of a tree the loaders read: rule names, token types, texts and positions."""
    out: list[object] = []
    for node in tree.iter_subtrees_topdown():
        out.append((node.data, node.meta.line if not node.meta.empty else None))
        out.extend((c.type, str(c), c.line, c.column, c.end_line) for c in node.children if isinstance(c, Token))
    return out


def outcome(parse: object, text: str) -> object:
    try:
        return shape(parse(text))  # type: ignore[operator]
    except Exception as exc:  # lark's errors; the order of their "Expected one of" sets is arbitrary
        expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
        return ("error", type(exc).__name__, str(exc).splitlines()[0], getattr(exc, "line", None), expected)


@pytest.fixture
def fallback(monkeypatch, tmp_path):
    """python-hcl2's folder treated as read-only without a cache; the user's cache folder in tmp_path."""
    hcl_eval._parse_function.cache_clear()
    monkeypatch.setenv("IAC_VALIDATOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(hcl_eval, "hcl2_cache_usable", lambda cache_file: False)
    yield tmp_path / "cache"
    hcl_eval._parse_function.cache_clear()


def test_with_its_own_cache_python_hcl2_parses():
    hcl_eval._parse_function.cache_clear()
    assert hcl_eval.hcl2_cache_usable(str(hcl2_parser.PARSER_FILE))
    assert hcl_eval._parse_function() is hcl2.parses_to_tree


def test_its_cache_is_unusable_only_when_missing_in_a_read_only_folder(monkeypatch, tmp_path):
    cache_file = tmp_path / ".lark_cache.bin"
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert not hcl_eval.hcl2_cache_usable(str(cache_file))
    cache_file.write_bytes(b"")
    assert hcl_eval.hcl2_cache_usable(str(cache_file))
    monkeypatch.undo()
    assert hcl_eval.hcl2_cache_usable(str(tmp_path / "missing-but-writable.bin"))


def test_the_fallback_parser_is_python_hcl2s_parser(tmp_path):
    ours = hcl_eval.build_parser(str(tmp_path / "parser.bin")).options.options
    theirs = hcl2_parser.parser().options.options
    assert type(ours.pop("postlex")) is type(theirs.pop("postlex"))
    assert ours.pop("cache") != theirs.pop("cache")
    assert ours == theirs


def test_the_fallback_parses_as_python_hcl2_does_and_is_cached_in_the_users_folder(fallback):
    assert SAMPLES
    parse = hcl_eval._parse_function()
    assert parse is not hcl2.parses_to_tree
    cached = list(fallback.iterdir())
    assert [f.name for f in cached] == [f"hcl2-{hcl2.__version__}-lark-parser.bin"]
    assert oct(fallback.stat().st_mode & 0o777) == oct(0o700)
    for sample in SAMPLES:
        text = sample.read_text("utf-8")
        assert outcome(parse, text) == outcome(hcl2.parses_to_tree, text), sample
    # A second run loads the cached parser (the file is left as it is) and parses the same.
    stamp = cached[0].stat().st_mtime_ns
    hcl_eval._parse_function.cache_clear()
    again = hcl_eval._parse_function()
    assert again is not parse and cached[0].stat().st_mtime_ns == stamp
    text = SAMPLES[0].read_text("utf-8")
    assert shape(again(text)) == shape(hcl2.parses_to_tree(text))


def test_the_fallback_reports_syntax_errors_as_python_hcl2_does(fallback):
    bad = 'resource "aws_iam_role" "x" {\n  name = \n}\n'
    ours = parse_file("bad.tf", bad)[1]
    assert hcl_eval._parse_function() is not hcl2.parses_to_tree
    with pytest.raises(Exception) as theirs:
        hcl2.parses_to_tree(bad)
    assert ours is not None
    assert ours.message == f"invalid HCL: {str(theirs.value).strip().splitlines()[0]}"
    assert ours.line == theirs.value.line


def test_without_a_writable_cache_folder_python_hcl2_parses(monkeypatch, tmp_path):
    hcl_eval._parse_function.cache_clear()
    blocker = tmp_path / "file"
    blocker.write_text("", "utf-8")
    monkeypatch.setenv("IAC_VALIDATOR_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created
    monkeypatch.setattr(hcl_eval, "hcl2_cache_usable", lambda cache_file: False)
    try:
        assert hcl_eval.user_parser_cache() is None
        assert hcl_eval._parse_function() is hcl2.parses_to_tree
    finally:
        hcl_eval._parse_function.cache_clear()


def test_a_parser_that_cannot_be_built_the_same_way_leaves_parsing_to_python_hcl2(fallback, monkeypatch):
    def broken(cache_file: str) -> object:
        raise ImportError("hcl2.postlexer")

    monkeypatch.setattr(hcl_eval, "build_parser", broken)
    assert hcl_eval._parse_function() is hcl2.parses_to_tree
