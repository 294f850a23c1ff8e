"""Policy files: the built-in pack loads; a mistake is rejected naming the file and where it is."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from validator.engine.operators import OPERATORS
from validator.engine.policies import PolicyError, builtin_policy_dir, load_policies, parse_policy
from validator.model import Severity

BUILTIN_FILES = sorted(builtin_policy_dir().rglob("*.yaml"))

POLICY = """\
id: ORG-001
title: Roles are bounded
severity: medium
rationale: Every role carries the organization's session limit.
remediation:
  text: Lower MaxSessionDuration.
references: [https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html]
params:
  limit:
    default: 3600
    description: Longest session in seconds.
match:
  cloudformation: {types: [AWS::IAM::Role], fields: {duration: MaxSessionDuration, name: RoleName}}
  terraform: {types: [aws_iam_role], fields: {duration: max_session_duration, name: name}}
check:
  all:
    - {field: duration, op: max, value: {param: limit}, unit: duration}
    - {field: name, op: matches, value: "^[a-z-]+$"}
examples:
  - name: long
    expect: fail
    cloudformation: |
      Resources:
        R: {Type: AWS::IAM::Role, Properties: {MaxSessionDuration: 43200}}
  - name: short
    expect: pass
    terraform: |
      resource "aws_iam_role" "r" {
        max_session_duration = 3600
      }
"""


def base() -> dict[str, Any]:
    return yaml.safe_load(POLICY)


def rejected(mutate: Callable[[dict[str, Any]], None], source: str = "team/ORG-001.yaml") -> str:
    data = base()
    mutate(data)
    with pytest.raises(PolicyError) as excinfo:
        parse_policy(data, source)
    message = str(excinfo.value)
    assert message.startswith(f"{source}: $"), message
    return message


def test_the_base_policy_is_valid():
    policy = parse_policy(base(), "team/ORG-001.yaml")
    assert policy.id == "ORG-001"
    assert policy.severity is Severity.MEDIUM
    assert policy.group == "ORG"
    assert policy.params == {"limit": 3600}
    assert policy.source == "team/ORG-001.yaml"


@pytest.mark.parametrize("file", BUILTIN_FILES, ids=lambda f: f.stem)
def test_every_builtin_policy_file_parses(file):
    policy = parse_policy(yaml.safe_load(file.read_text("utf-8")), str(file))
    assert policy.id == file.stem
    assert policy.title and policy.rationale and policy.remediation.text


def test_the_builtin_pack_loads_every_file_without_errors():
    assert len(BUILTIN_FILES) >= 3
    policies, errors = load_policies([builtin_policy_dir()])
    assert errors == []
    assert [p.id for p in policies] == sorted(f.stem for f in BUILTIN_FILES)


def test_bad_severity():
    message = rejected(lambda d: d.update(severity="urgent"))
    assert "$.severity:" in message and "urgent" in message


def test_missing_check():
    message = rejected(lambda d: d.pop("check"))
    assert "$:" in message and "'check' is a required property" in message


def test_unknown_op_at_the_top():
    message = rejected(lambda d: d.update(check={"field": "duration", "op": "between"}))
    assert "$.check.op:" in message and "'between'" in message


def test_unknown_op_inside_all_and_any_names_the_op():
    message = rejected(lambda d: d["check"]["all"][1].update(op="between"))
    assert "$.check.all[1].op:" in message and "'between'" in message
    message = rejected(lambda d: d.update(check={"any": [{"all": [{"field": "name", "op": "frob"}]}]}))
    assert "$.check.any[0].all[0].op:" in message and "'frob'" in message


def test_missing_op_says_so():
    message = rejected(lambda d: d["check"]["all"][0].pop("op"))
    assert "$.check.all[0]:" in message and "'op' is a required property" in message


def test_field_not_declared_in_match_fields():
    message = rejected(lambda d: d["check"]["all"][0].update(field="nope"))
    assert "$.check.all[0].field:" in message and "'nope'" in message and "match.cloudformation.fields" in message


def test_field_declared_for_one_format_only():
    message = rejected(lambda d: d["match"]["terraform"]["fields"].pop("name"))
    assert "$.check.all[1].field:" in message and "match.terraform.fields" in message


def test_unknown_param():
    message = rejected(lambda d: d["check"]["all"][0].update(value={"param": "limt"}))
    assert "$.check.all[0].value:" in message and "'limt'" in message


def test_invalid_regex():
    message = rejected(lambda d: d["check"]["all"][1].update(value="^[a-z"))
    assert "$.check.all[1].value:" in message and "regular expression" in message


def test_id_that_differs_from_the_file_name():
    message = rejected(lambda d: d.update(id="ORG-002"))
    assert "$.id:" in message and "ORG-002" in message and "ORG-001" in message


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.update(id="org one"), "$.id:"),
        (lambda d: d.update(extra=True), "$:"),
        (lambda d: d["check"]["all"][0].update(unit="hours"), "$.check.all[0].unit:"),
        (lambda d: d["examples"][0].update(expect="maybe"), "$.examples[0].expect:"),
        (lambda d: d.update(examples=d["examples"][:1]), "$.examples:"),
        (lambda d: d["references"].append("http://insecure.example"), "$.references[1]:"),
        (lambda d: d["match"].pop("cloudformation"), "$.examples[0].cloudformation:"),
        (lambda d: d["params"]["limit"].pop("description"), "$.params.limit:"),
    ],
)
def test_other_mistakes_name_their_json_path(mutate, where):
    assert where in rejected(mutate)


@pytest.mark.parametrize("data", [None, [], "text"])
def test_a_document_that_is_not_a_mapping_is_rejected(data):
    with pytest.raises(PolicyError, match=r"^x/ORG-001.yaml: \$: "):
        parse_policy(data, "x/ORG-001.yaml")


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, "utf-8")
    return path


def test_duplicate_ids_across_two_directories_are_an_error(tmp_path):
    first = write(tmp_path / "a", "ORG-001.yaml", POLICY)
    second = write(tmp_path / "b" / "nested", "ORG-001.yaml", POLICY)
    policies, errors = load_policies([tmp_path / "a", tmp_path / "b"])
    assert [p.id for p in policies] == ["ORG-001"]
    assert policies[0].source == str(first)
    assert len(errors) == 1
    assert errors[0].file == str(second)
    assert "duplicate" in errors[0].message and "ORG-001" in errors[0].message and str(first) in errors[0].message


def test_a_bad_file_does_not_stop_the_others(tmp_path):
    directory = tmp_path / "team"
    write(directory, "ORG-001.yaml", POLICY)
    write(directory, "ORG-002.yaml", POLICY.replace("id: ORG-001", "id: ORG-002").replace("severity: medium", "severity: urgent"))
    write(directory, "ORG-003.yaml", "id: ORG-003\ntitle: [unclosed\n")
    write(directory, "ORG-004.yaml", POLICY.replace("id: ORG-001", "id: ORG-004"))
    write(directory, "notes.txt", "not a policy")
    policies, errors = load_policies([directory, tmp_path / "missing"])
    assert [p.id for p in policies] == ["ORG-001", "ORG-004"]
    by_file = {Path(e.file).name: e for e in errors}
    assert set(by_file) == {"ORG-002.yaml", "ORG-003.yaml", "missing"}
    assert by_file["ORG-002.yaml"].message.startswith("$.severity:")
    assert by_file["ORG-003.yaml"].line is not None
    assert "does not exist" in by_file["missing"].message


def test_builtin_and_team_policies_load_together(tmp_path):
    write(tmp_path / "team", "ORG-001.yaml", POLICY)
    policies, errors = load_policies([builtin_policy_dir(), tmp_path / "team"])
    assert errors == []
    assert "ORG-001" in {p.id for p in policies}
    assert len(policies) == len(BUILTIN_FILES) + 1


def test_a_builtin_policy_copied_into_a_team_directory_is_a_duplicate(tmp_path):
    original = BUILTIN_FILES[0]
    write(tmp_path / "team", original.name, original.read_text("utf-8"))
    _, errors = load_policies([builtin_policy_dir(), tmp_path / "team"])
    assert len(errors) == 1 and f"duplicate policy id {original.stem}" in errors[0].message


def test_schema_op_enum_equals_the_operator_table():
    schema = json.loads(resources.files("validator.engine").joinpath("schema.json").read_text("utf-8"))
    leaf = next(b for b in schema["$defs"]["check"]["oneOf"] if "op" in b["properties"])
    assert sorted(leaf["properties"]["op"]["enum"]) == sorted(OPERATORS)


def test_parse_policy_does_not_modify_its_input():
    data = base()
    before = copy.deepcopy(data)
    parse_policy(data, "team/ORG-001.yaml")
    assert data == before
