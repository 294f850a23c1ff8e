"""Load policy files, validate them against engine/schema.json, build the policy set.

jsonschema costs about 45 ms to import and 20 ms to run over the built-in pack, on every run, for
a pack that does not change between runs. So the built-in pack is checked against the schema only
when its content differs from the content recorded in BUILTIN_PACK_DIGEST, which
tests/test_cold_start_policies.py keeps equal to the pack it has just validated with jsonschema.
Any other policy directory is always validated.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from validator.cachedir import user_cache_dir, write_atomic
from validator.engine.operators import OPERATORS
from validator.limits import structure_problem
from validator.model import LoadError, Policy, Remediation, Severity


class _YamlError(Exception):
    """PyYAML's error (its __cause__), raised where `yaml` need not be imported to catch it."""


def _yaml_load(text: str) -> Any:
    import yaml  # not for a Terraform scan whose built-in pack comes from the decoded copy below

    try:
        # The C loader: 10× faster than yaml.safe_load on the pack, which every run reads.
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise _YamlError(str(exc)) from exc


class PolicyError(Exception):
    """A policy file that cannot be used; the message names the file and the JSON path."""


def builtin_policy_dir() -> Path:
    """The shipped pack: `policies/` in a checkout, `validator/policies` in an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "policies"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parents[1] / "policies"


# sha256 of schema.json and of every built-in policy file (path and text), as `_pack_digest` computes
# it. After editing a policy or the schema, run tests/test_cold_start_policies.py: it validates the
# pack with jsonschema and prints the new value to record here. A stale value costs only speed (the
# pack is then validated on every run), never correctness.
BUILTIN_PACK_DIGEST = "109ff236e6e7c11de2d5beef1c887f69d1bc38c31f3f8319e6206096cbf975f2"

_SCHEMA_FILE = Path(__file__).with_name("schema.json")


def _pack_digest(directory: Path, files: list[tuple[Path, str]]) -> str | None:
    """The digest of schema.json and the files' relative paths and texts; None when the schema cannot be read."""
    try:
        schema = _SCHEMA_FILE.read_bytes()
    except OSError:
        return None
    digest = hashlib.sha256(schema)
    for file, text in files:
        for part in (file.relative_to(directory).as_posix(), text):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(b"%d:" % len(data))
            digest.update(data)
    return digest.hexdigest()


def builtin_pack_digest() -> str | None:
    """The digest of the built-in pack as it is now (what BUILTIN_PACK_DIGEST should record)."""
    directory = builtin_policy_dir()
    texts = [(file, _read(file)) for file in _policy_files(directory)]
    readable = [(file, text) for file, text in texts if isinstance(text, str)]
    return _pack_digest(directory, readable) if len(readable) == len(texts) else None


def _is_builtin_pack(directory: Path) -> bool:
    try:
        return directory.resolve() == builtin_policy_dir()
    except OSError:
        return False


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(_SCHEMA_FILE.read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _schema_errors(data: Any) -> list[Any]:
    return sorted(_validator().iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))


def _json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def parse_policy(data: Any, source: str, validated: bool = False) -> Policy:
    """The policy of one file's data; PolicyError when it is invalid.

    `validated` skips the JSON schema, for data known to satisfy it (the recorded built-in pack);
    the checks the schema cannot express still run.
    """
    errors = [] if validated else _schema_errors(data)
    if errors:
        best = next((e for e in errors if e.context), errors[0])
        while best.context:  # a oneOf: descend into the alternative that fits best, to the real mistake
            branches: dict[Any, list[Any]] = {}
            for error in best.context:
                branches.setdefault(error.relative_schema_path[0], []).append(error)
            branch = min(branches.values(), key=lambda es: (len(es), -max(len(e.absolute_path) for e in es)))
            best = max(branch, key=lambda e: len(e.absolute_path))
        raise PolicyError(f"{source}: {_json_path(best.absolute_path)}: {best.message}")
    stem = Path(source).stem
    if stem != data["id"] and not source.startswith("<"):
        raise PolicyError(f"{source}: $.id: id {data['id']!r} must equal the file name {stem!r}")
    params = {name: spec["default"] for name, spec in data.get("params", {}).items()}
    for path, check in _leaves(data["check"], ("check",)):
        for fmt, match in data["match"].items():
            if check["field"] not in match["fields"]:
                raise PolicyError(f"{source}: {_json_path(path)}.field: field {check['field']!r} is not declared in match.{fmt}.fields")
        value = check.get("value")
        if isinstance(value, Mapping) and "param" in value and value["param"] not in params:
            raise PolicyError(f"{source}: {_json_path(path)}.value: unknown param {value['param']!r}")
        if check["op"] in _REGEX_OPS:
            patterns = params.get(value["param"]) if isinstance(value, Mapping) and "param" in value else value
            for pattern in patterns if isinstance(patterns, list) else [] if patterns is None else [patterns]:
                problem = _regex_problem(str(pattern))
                if problem:
                    raise PolicyError(f"{source}: {_json_path(path)}.value: {problem}")
        if "message" in check:
            problem = _message_problem(check["message"])
            if problem:
                raise PolicyError(f"{source}: {_json_path(path)}.message: {problem}")
    for i, example in enumerate(data["examples"]):
        for fmt in ("cloudformation", "terraform"):
            if fmt in example and fmt not in data["match"]:
                raise PolicyError(f"{source}: $.examples[{i}].{fmt}: the policy does not match {fmt}")
    remediation = data["remediation"]
    return Policy(
        id=data["id"],
        title=data["title"],
        severity=Severity(data["severity"]),
        group=data["id"].split("-")[0],
        rationale=data["rationale"].strip(),
        remediation=Remediation(
            remediation["text"].strip(),
            remediation.get("cloudformation", "").strip(),
            remediation.get("terraform", "").strip(),
        ),
        references=tuple(data["references"]),
        params=params,
        match=data["match"],
        check=data["check"],
        examples=tuple(data["examples"]),
        source=source,
        param_descriptions={name: spec["description"] for name, spec in data.get("params", {}).items()},
    )


_REGEX_OPS = ("matches", "not_literal")  # operators whose value is a regular expression (or a list of them)
MAX_PATTERN = 1000  # characters of one regular expression


def _regex_problem(pattern: str) -> str | None:
    """Why a policy's regular expression is refused at load time. Searches run under a timeout
    anyway (operators.REGEX_TIMEOUT): a pattern that backtracks catastrophically cannot hang a run."""
    if len(pattern) > MAX_PATTERN:
        return f"regular expression longer than {MAX_PATTERN} characters"
    try:  # the syntax, with the stdlib (imported already); searches compile with `regex` on first use
        re.compile(pattern)
    except (re.error, ValueError, OverflowError, RecursionError) as exc:
        return f"invalid regular expression: {exc}"
    return None


_MESSAGE_FIELDS = {"label", "value", "limit"}
_SPEC = re.compile(r"[<>^]?[0-9]{0,3}")


def _message_problem(message: str) -> str | None:
    """A check's message is a template with {label}, {value} and {limit} only: no attribute or
    index access, no huge padding."""
    try:
        parts = list(string.Formatter().parse(message))
    except ValueError as exc:
        return f"invalid message template: {exc}"
    for _, name, spec, _ in parts:
        if name is None:
            continue
        if name not in _MESSAGE_FIELDS:
            return f"unknown placeholder {{{name}}} (use {{label}}, {{value}} or {{limit}})"
        if spec and not _SPEC.fullmatch(spec):
            return f"format spec {spec!r} of {{{name}}} is not allowed (alignment and up to 3 digits of width only)"
    return None


def _leaves(check: Mapping[str, Any], path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Mapping[str, Any]]]:
    for key in ("all", "any"):
        if key in check:
            for i, sub in enumerate(check[key]):
                yield from _leaves(sub, (*path, key, i))
            return
    yield path, check


def _policy_files(directory: Path) -> list[Path]:
    """`*.yaml` below the directory, in order, except under `fixtures/` (a team's fixtures may live
    beside its policies, for `policies test`)."""
    return [file for file in sorted(directory.rglob("*.yaml")) if "fixtures" not in file.relative_to(directory).parts[:-1]]


def _read(file: Path) -> str | OSError | UnicodeDecodeError:
    try:
        return file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return exc


def _read_error(file: Path, exc: Exception) -> LoadError:
    line = getattr(getattr(exc, "problem_mark", None), "line", None)
    return LoadError(str(file), f"cannot read policy: {exc}".splitlines()[0], line + 1 if line is not None else None)


def load_policies(directories: list[Path]) -> tuple[tuple[Policy, ...], list[LoadError]]:
    """Every `*.yaml` policy below the directories (not under `fixtures/`); a bad file is an error, the others still load."""
    policies: dict[str, Policy] = {}
    errors: list[LoadError] = []
    for directory in directories:
        if not directory.is_dir():
            errors.append(LoadError(str(directory), "policy directory does not exist"))
            continue
        texts = [(file, _read(file)) for file in _policy_files(directory)]
        readable = [(file, text) for file, text in texts if isinstance(text, str)]
        # The built-in pack exactly as recorded: known to satisfy the schema and the structure limits.
        trusted = (
            len(readable) == len(texts)
            and _is_builtin_pack(directory)
            and _pack_digest(directory, readable) == BUILTIN_PACK_DIGEST
        )
        decoded = _decoded_pack(directory, readable) if trusted else None
        for file, text in texts:
            if not isinstance(text, str):
                errors.append(_read_error(file, text))
                continue
            try:
                if not trusted:
                    problem = structure_problem(text)  # aliases and nesting (validator/limits.py)
                    if problem is not None:
                        errors.append(LoadError(str(file), f"cannot read policy: {problem.message}", problem.line))
                        continue
                data = decoded[str(file.relative_to(directory))] if decoded else _yaml_load(text)
                policy = parse_policy(data, str(file), validated=trusted)
            except PolicyError as exc:
                errors.append(LoadError(str(file), str(exc).removeprefix(f"{file}: ")))
                continue
            except _YamlError as exc:
                errors.append(_read_error(file, exc.__cause__ or exc))
                continue
            if policy.id in policies:
                errors.append(LoadError(str(file), f"duplicate policy id {policy.id} (also in {policies[policy.id].source})"))
                continue
            policies[policy.id] = policy
    return tuple(policies[k] for k in sorted(policies)), errors


def _decoded_pack(directory: Path, files: list[tuple[Path, str]]) -> dict[str, Any] | None:
    """The built-in pack decoded, by relative path: from a JSON copy in the user's cache folder,
    written on the first run. Reading it skips PyYAML (import and decoding, about 35 ms of a
    one-file scan). The copy is named after BUILTIN_PACK_DIGEST: it only serves that exact pack."""
    copy = os.path.join(user_cache_dir(os.environ), f"policies-{BUILTIN_PACK_DIGEST[:32]}.json")
    names = [str(file.relative_to(directory)) for file, _ in files]
    try:
        with open(copy, encoding="utf-8") as fh:
            decoded = json.load(fh)
        if isinstance(decoded, dict) and sorted(decoded) == sorted(names):
            return decoded
    except (OSError, ValueError):
        pass
    try:
        decoded = {name: _yaml_load(text) for name, (_, text) in zip(names, files, strict=True)}
    except _YamlError:
        return None  # each file is read again, and reported, on its own
    try:
        data = json.dumps(decoded)  # key order kept: it is the order fields are reported in
    except (TypeError, ValueError):
        return decoded
    if json.loads(data) == decoded:  # else something JSON cannot hold exactly (a YAML date): no copy
        write_atomic(copy, data.encode("utf-8"))
    return decoded


def operator_names() -> list[str]:
    return sorted(OPERATORS)
