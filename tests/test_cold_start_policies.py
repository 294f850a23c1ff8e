"""The built-in policy pack is validated against engine/schema.json here, and its digest recorded in
validator/engine/policies.py (BUILTIN_PACK_DIGEST): a run whose built-in pack still has that content
skips jsonschema (about 65 ms of start-up). Any other content, and every other directory, is validated.

After editing a built-in policy or the schema, test_the_recorded_digest_is_the_validated_pack fails and
prints the value to record."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from validator.engine import policies
from validator.engine.policies import (
    BUILTIN_PACK_DIGEST,
    builtin_pack_digest,
    builtin_policy_dir,
    load_policies,
)

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def builtin_files() -> list[Path]:
    return policies._policy_files(builtin_policy_dir())


def test_the_builtin_pack_satisfies_the_schema():
    files = builtin_files()
    assert len(files) >= 3
    for file in files:
        data = yaml.load(file.read_text("utf-8"), Loader=LOADER)  # noqa: S506 - a safe loader
        assert policies._schema_errors(data) == [], file
        assert policies.parse_policy(data, str(file)).id == file.stem


def test_the_recorded_digest_is_the_validated_pack():
    current = builtin_pack_digest()
    assert current == BUILTIN_PACK_DIGEST, (
        "The built-in policy pack (or engine/schema.json) changed. Once the pack validates "
        f"(test_the_builtin_pack_satisfies_the_schema), record in validator/engine/policies.py:\n"
        f'BUILTIN_PACK_DIGEST = "{current}"'
    )


def test_the_recorded_builtin_pack_loads_without_jsonschema(monkeypatch):
    validated = load_policies([builtin_policy_dir()])

    def no_schema(data: object) -> list[object]:
        raise AssertionError("the recorded built-in pack was validated again")

    monkeypatch.setattr(policies, "_schema_errors", no_schema)
    trusted = load_policies([builtin_policy_dir()])
    assert trusted == validated
    assert trusted[1] == []


def test_a_builtin_pack_that_differs_from_the_record_is_validated(monkeypatch):
    calls: list[object] = []
    real = policies._schema_errors

    def counting(data: object) -> list[object]:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(policies, "_schema_errors", counting)
    monkeypatch.setattr(policies, "BUILTIN_PACK_DIGEST", "something else")
    loaded, errors = load_policies([builtin_policy_dir()])
    assert errors == []
    assert len(calls) == len(loaded) == len(builtin_files())


def test_a_copy_of_the_builtin_pack_elsewhere_is_validated(monkeypatch, tmp_path):
    team = tmp_path / "team"
    shutil.copytree(builtin_policy_dir(), team)
    calls: list[object] = []
    real = policies._schema_errors

    def counting(data: object) -> list[object]:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(policies, "_schema_errors", counting)
    loaded, errors = load_policies([team])
    assert errors == []
    assert len(calls) == len(loaded) == len(builtin_files())


def test_an_invalid_file_in_a_user_directory_is_still_rejected(tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    (team / "ORG-001.yaml").write_text("id: ORG-001\ntitle: t\nseverity: urgent\n", "utf-8")
    loaded, errors = load_policies([builtin_policy_dir(), team])
    assert [p.id for p in loaded] == sorted(f.stem for f in builtin_files())
    assert len(errors) == 1 and errors[0].file.endswith("ORG-001.yaml")


@pytest.mark.parametrize("change", ["text", "path", "schema"])
def test_the_digest_covers_texts_paths_and_the_schema(monkeypatch, tmp_path, change):
    directory = builtin_policy_dir()
    files = [(f, f.read_text("utf-8")) for f in builtin_files()]
    before = policies._pack_digest(directory, files)
    assert before == BUILTIN_PACK_DIGEST or before == builtin_pack_digest()
    if change == "text":
        files[0] = (files[0][0], files[0][1] + "\n# edited\n")
    elif change == "path":
        moved = directory / "elsewhere" / files[0][0].name
        files[0] = (moved, files[0][1])
    else:
        schema = tmp_path / "schema.json"
        schema.write_bytes(policies._SCHEMA_FILE.read_bytes() + b"\n")
        monkeypatch.setattr(policies, "_SCHEMA_FILE", schema)
    assert policies._pack_digest(directory, files) != before


def _pack_copy(cache: Path) -> list[Path]:
    return sorted(cache.glob("policies-*.json"))


def test_the_recorded_pack_is_read_from_its_decoded_copy_without_yaml(monkeypatch, tmp_path):
    monkeypatch.setenv("IAC_VALIDATOR_CACHE_DIR", str(tmp_path))
    first = load_policies([builtin_policy_dir()])
    assert [p.name for p in _pack_copy(tmp_path)] == [f"policies-{BUILTIN_PACK_DIGEST[:32]}.json"]

    def no_yaml(text: str) -> object:
        raise AssertionError("the decoded copy was not used")

    monkeypatch.setattr(policies, "_yaml_load", no_yaml)
    again = load_policies([builtin_policy_dir()])
    assert again == first
    assert first[1] == []
    # the order of fields is the order they are reported in: kept as written
    assert [list(p.match.get("terraform", {}).get("fields", {})) for p in again[0]] == [
        list(p.match.get("terraform", {}).get("fields", {})) for p in first[0]
    ]


@pytest.mark.parametrize("damage", ["not json", '{"keys/KEYS-001.yaml": {}}', "[]"])
def test_a_damaged_copy_is_not_used(monkeypatch, tmp_path, damage):
    monkeypatch.setenv("IAC_VALIDATOR_CACHE_DIR", str(tmp_path))
    expected = load_policies([builtin_policy_dir()])
    copy = _pack_copy(tmp_path)[0]
    copy.write_text(damage, "utf-8")
    assert load_policies([builtin_policy_dir()]) == expected
    assert copy.read_text("utf-8") != damage  # written again, whole


def test_a_pack_that_differs_from_the_record_has_no_copy(monkeypatch, tmp_path):
    monkeypatch.setenv("IAC_VALIDATOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(policies, "BUILTIN_PACK_DIGEST", "something else")
    loaded, errors = load_policies([builtin_policy_dir()])
    assert errors == [] and len(loaded) == len(builtin_files())
    assert _pack_copy(tmp_path) == []


def test_the_builtin_pack_named_by_a_relative_path_loads_the_same(monkeypatch, tmp_path):
    monkeypatch.setenv("IAC_VALIDATOR_CACHE_DIR", str(tmp_path / "cache"))
    expected = load_policies([builtin_policy_dir()])
    monkeypatch.chdir(builtin_policy_dir().parent)
    loaded, errors = load_policies([Path(builtin_policy_dir().name)])
    assert errors == []
    assert [(p.id, p.match, p.check, p.params) for p in loaded] == [(p.id, p.match, p.check, p.params) for p in expected[0]]
