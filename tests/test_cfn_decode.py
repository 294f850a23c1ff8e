"""The fast CloudFormation decoder gives what cfn-lint's decoder gives, or steps aside."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str

from validator.loaders import cfn_decode
from validator.loaders.cloudformation import load

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus" / "cloudformation"


def plain(value: Any) -> Any:
    """Structure and every key's line: what the loader reads from a decoded template."""
    if isinstance(value, dict):
        return {(str(k), getattr(getattr(k, "start_mark", None), "line", None)): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


def test_same_result_as_cfn_lint_on_every_corpus_template():
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    compared = fell_back = 0
    for path in sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json")):
        text = path.read_text(encoding="utf-8")
        fast = cfn_decode.decode(text)
        reference, matches = decode_str(text)
        if fast is None:
            fell_back += 1
            continue
        assert not matches, path
        assert plain(fast) == plain(reference), path
        compared += 1
    assert compared > 250 and fell_back < 20, (compared, fell_back)


def test_short_form_intrinsics_and_lines():
    text = textwrap.dedent(
        """\
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              RoleName: !Sub "${AWS::StackName}-app"
              Arn: !GetAtt Other.Arn
              List: !GetAtt [Other, Arn]
              Ref: !Ref Param
              If: !If [IsProd, 1, !Ref AWS::NoValue]
        """
    )
    decoded = cfn_decode.decode(text)
    props = decoded["Resources"]["Role"]["Properties"]
    assert props["RoleName"] == {"Fn::Sub": "${AWS::StackName}-app"}
    assert props["Arn"] == {"Fn::GetAtt": ["Other", "Arn"]} == props["List"]
    assert props["Ref"] == {"Ref": "Param"}
    assert props["If"] == {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}
    assert [k.start_mark.line + 1 for k in props] == [5, 6, 7, 8, 9]


def test_duplicate_keys_are_an_error_with_both_lines():
    text = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n  Role:\n    Type: AWS::S3::Bucket\n"
    template, errors = load("t.yaml", text)
    assert template is None
    assert errors[0].line == 4 and "Duplicate found 'Role' (lines 2 and 4)" in errors[0].message


def test_yaml_the_c_parser_rejects_falls_back_to_cfn_lint_for_its_error():
    template, errors = load("t.yaml", "Resources:\n  Role: [\n")
    assert template is None and errors and errors[0].line is not None


def test_python_tags_are_never_executed():
    text = "Resources:\n  R:\n    Type: !!python/object/apply:os.system ['echo hacked']\n"
    with pytest.raises(cfn_decode.DecodeError, match=r"YAML tag !!python/object/apply:os.system is not allowed"):
        cfn_decode.decode(text)  # refused, never constructed (issue 8: said in so many words, with the line)
    template, errors = load("t.yaml", text)
    assert template is None and errors and errors[0].line == 3


@pytest.mark.parametrize(
    "text",
    [
        # every kind of node the direct builder makes: strings, numbers, booleans, dates, nulls,
        # intrinsics on scalars, sequences and mappings, nested in both
        "Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties:\n      A: 1\n      B: 1.5\n      C: true\n"
        "      D: 2024-01-01\n      E: ~\n      F: !Ref X\n      G: !GetAtt R.Arn\n      H: !Join ['', [a, !Ref Y]]\n"
        "      I: !If [C, {K: !Sub '${AWS::Region}'}, !Ref AWS::NoValue]\n      J: [1, 'two', {three: 3}]\n",
        # left to PyYAML's constructor: merge keys, anchors, sets
        "Base: &base {Type: AWS::S3::Bucket}\nResources:\n  R:\n    <<: *base\n    Properties: {}\n",
        "Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties:\n      S: !!set {a, b}\n",
    ],
)
def test_the_direct_builder_gives_what_the_loader_constructs(text):
    import yaml

    expected = yaml.load(text, Loader=cfn_decode._CfnLoader)  # noqa: S506 - a SafeLoader subclass
    assert plain(cfn_decode.decode(text)) == plain(expected)


def test_duplicate_keys_are_reported_by_the_direct_builder_too():
    with pytest.raises(cfn_decode.DecodeError) as found:
        cfn_decode.decode("Resources:\n  R:\n    Type: A\n  R:\n    Type: B\n")
    assert found.value.line == 4 and "Duplicate found 'R' (lines 2 and 4)" in str(found.value)
