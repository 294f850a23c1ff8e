"""CloudFormation parameter values for a scan: `--parameters FILE` and `--parameter Key=Value`.

Files in the forms deployments already use are accepted:
- the AWS CLI's `--parameters file://params.json`: `[{"ParameterKey": "Env", "ParameterValue": "prod"}]`
  (an entry with `UsePreviousValue: true` has no value here and is left out);
- a CodePipeline / CloudFormation template configuration file: `{"Parameters": {"Env": "prod"}}`;
- a plain mapping `{"Env": "prod"}` (JSON or YAML).
Values are kept as text, as CloudFormation receives them; the loader types them by the parameter's
declared Type (Number, CommaDelimitedList, List<...>).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class ParameterError(ValueError):
    """A parameter file or option that cannot be read; the message names the file and the problem."""


def parse_file(text: str, source: str) -> dict[str, str]:
    try:
        data: Any = json.loads(text)
    except ValueError:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParameterError(f"{source}: not JSON or YAML ({exc})") from None
    if isinstance(data, list):
        return _from_cli_list(data, source)
    if isinstance(data, Mapping):
        if "Parameters" in data:
            if not isinstance(data["Parameters"], Mapping):
                raise ParameterError(f"{source}: Parameters must be a mapping of names to values")
            return _from_mapping(data["Parameters"], source)
        return _from_mapping(data, source)
    raise ParameterError(
        f"{source}: expected a list of {{ParameterKey, ParameterValue}} (AWS CLI) or {{\"Parameters\": {{...}}}} (template configuration)"
    )


def parse_option(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ParameterError(f"{item!r}: expected Key=Value, e.g. --parameter Environment=prod")
    return key.strip(), value


def _from_cli_list(items: list[Any], source: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("ParameterKey"), str):
            raise ParameterError(f"{source}: item {i} has no ParameterKey")
        if "ParameterValue" not in item:
            if item.get("UsePreviousValue"):
                continue  # the deployed value: not known here, so the template's default or Unknown applies
            raise ParameterError(f"{source}: item {i} ({item['ParameterKey']}) has no ParameterValue")
        out[item["ParameterKey"]] = _text(item["ParameterValue"], source, item["ParameterKey"])
    return out


def _from_mapping(mapping: Mapping[Any, Any], source: str) -> dict[str, str]:
    return {str(k): _text(v, source, str(k)) for k, v in mapping.items()}


def _text(value: Any, source: str, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
        return ",".join(str(v) for v in value)  # a list parameter, as CloudFormation takes it
    raise ParameterError(f"{source}: the value of {key} must be a string, a number or a list of them")
