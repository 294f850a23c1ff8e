"""Our HCL parser is python-hcl2's (grammar, post-lexer, options) without Lark's position
propagation, which ran on every rule reduction and cost about a fifth of a Terraform scan. The lines
we report come from `line_of` instead: they must be the lines python-hcl2's own parser gives."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
from hcl2 import parser as hcl2_parser
from lark import Token, Tree

from validator.loaders import hcl_eval
from validator.loaders.terraform import parse_file

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLES = sorted((ROOT / "fixtures").rglob("*.tf"))[::3] + sorted(CORPUS.rglob("*.tf"))[::7]


def shape(tree: Tree) -> list[object]:
    """Rule names, token types, texts and positions: everything the loaders read but meta."""
    out: list[object] = []
    for node in tree.iter_subtrees_topdown():
        out.append(node.data)
        out.extend((c.type, str(c), c.line, c.column, c.end_line) for c in node.children if isinstance(c, Token))
    return out


def outcome(parse: object, text: str) -> object:
    try:
        return shape(parse(text))  # type: ignore[operator]
    except Exception as exc:  # lark's errors; the order of their "Expected one of" sets is arbitrary
        expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
        return ("error", type(exc).__name__, str(exc).splitlines()[0], getattr(exc, "line", None), expected)


@pytest.fixture
def ours(monkeypatch, tmp_path):
    hcl_eval._parse_function.cache_clear()
    monkeypatch.setenv("IAC_VALIDATOR_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path / "cache"
    hcl_eval._parse_function.cache_clear()


def test_the_parser_is_python_hcl2s_without_position_propagation(tmp_path):
    ours = dict(hcl_eval.build_parser(str(tmp_path / "parser.bin"), positions=False).options.options)
    theirs = dict(hcl2_parser.parser().options.options)
    assert type(ours.pop("postlex")) is type(theirs.pop("postlex"))
    assert ours.pop("cache") != theirs.pop("cache")
    assert (ours.pop("propagate_positions"), theirs.pop("propagate_positions")) == (False, True)
    assert ours == theirs


def test_it_parses_as_python_hcl2_and_every_line_we_read_is_the_same(ours):
    assert len(SAMPLES) > 20
    parse = hcl_eval._parse_function()
    assert parse is not hcl2.parses_to_tree
    compared = 0
    for sample in SAMPLES:
        text = sample.read_text("utf-8")
        assert outcome(parse, text) == outcome(hcl2.parses_to_tree, text), sample
        try:
            theirs = hcl2.parses_to_tree(text)
        except Exception:
            continue
        for node in theirs.iter_subtrees_topdown():
            if node.data in ("block", "attribute"):
                assert hcl_eval.line_of(node) == node.meta.line, (sample, node.data)
                compared += 1
    assert compared > 1000


def test_it_is_cached_in_the_users_private_folder_and_loaded_from_there(ours):
    hcl_eval._parse_function()
    lark_cache = f"hcl2-{hcl2.__version__}-lark-parser-lines.bin"
    snapshot = Path(hcl_eval.snapshot_file(str(ours / lark_cache)))
    assert sorted(f.name for f in ours.iterdir()) == sorted([lark_cache, snapshot.name])
    assert snapshot.name.startswith(f"hcl2-{hcl2.__version__}-lark-")
    assert oct(ours.stat().st_mode & 0o777) == oct(0o700)
    stamps = {f.name: f.stat().st_mtime_ns for f in ours.iterdir()}
    hcl_eval._parse_function.cache_clear()
    again = hcl_eval._parse_function()
    assert {f.name: f.stat().st_mtime_ns for f in ours.iterdir()} == stamps  # read, not rewritten
    for sample in SAMPLES[:10]:
        text = sample.read_text("utf-8")
        assert outcome(again, text) == outcome(hcl2.parses_to_tree, text), sample


def test_a_damaged_snapshot_is_rebuilt(ours):
    hcl_eval._parse_function()
    snapshot = Path(hcl_eval.snapshot_file(str(hcl_eval.user_parser_cache())))
    snapshot.write_bytes(b"not a pickle")
    hcl_eval._parse_function.cache_clear()
    parse = hcl_eval._parse_function()
    assert parse is not hcl2.parses_to_tree
    text = SAMPLES[0].read_text("utf-8")
    assert outcome(parse, text) == outcome(hcl2.parses_to_tree, text)
    assert snapshot.read_bytes() != b"not a pickle"


def test_syntax_errors_read_as_python_hcl2s(ours):
    bad = 'resource "aws_iam_role" "x" {\n  name = \n}\n'
    ours_error = parse_file("bad.tf", bad)[1]
    with pytest.raises(Exception) as theirs:
        hcl2.parses_to_tree(bad)
    assert ours_error is not None
    assert ours_error.message == f"invalid HCL: {str(theirs.value).strip().splitlines()[0]}"
    assert ours_error.line == theirs.value.line


def test_without_a_writable_cache_folder_python_hcl2_parses(monkeypatch, tmp_path):
    hcl_eval._parse_function.cache_clear()
    blocker = tmp_path / "file"
    blocker.write_text("", "utf-8")
    monkeypatch.setenv("IAC_VALIDATOR_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created
    try:
        assert hcl_eval.user_parser_cache() is None
        assert hcl_eval._parse_function() is hcl2.parses_to_tree
        # Its trees carry positions; line_of reads the same lines from them.
        tree = hcl2.parses_to_tree('resource "aws_iam_role" "x" {\n\n  name = "x"\n}\n')
        attribute = next(tree.find_data("attribute"))
        assert hcl_eval.line_of(attribute) == attribute.meta.line == 3
    finally:
        hcl_eval._parse_function.cache_clear()


def test_a_parser_that_cannot_be_built_the_same_way_leaves_parsing_to_python_hcl2(ours, monkeypatch):
    def broken(cache_file: str, positions: bool = True) -> object:
        raise ImportError("hcl2.postlexer")

    monkeypatch.setattr(hcl_eval, "build_parser", broken)
    assert hcl_eval._parse_function() is hcl2.parses_to_tree
