"""Command line: flags → Config → run → render → exit code."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from validator import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Policy-as-code gate for CloudFormation and Terraform (AWS SEC02-BP02: use temporary credentials).",
)

EXIT_PASSED, EXIT_GATE_FAILED, EXIT_USAGE = 0, 1, 2


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    markdown = "markdown"
    gitlab = "gitlab"


class FailOn(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    none = "none"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"iac-validator {__version__}")
        raise typer.Exit(EXIT_PASSED)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


def _parse_params(values: list[str]) -> dict[str, dict[str, object]]:
    import yaml

    params: dict[str, dict[str, object]] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        policy_id, dot, name = key.partition(".")
        if not sep or not dot or not name:
            raise typer.BadParameter(f"{item!r}: expected POLICY-ID.param=value, e.g. SESSION-001.max_seconds=7200")
        params.setdefault(policy_id, {})[name] = yaml.safe_load(raw)
    return params


@app.command()
def scan(
    paths: Annotated[list[str], typer.Argument(help="Files and directories to scan (directories recursively).")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    fail_on: Annotated[FailOn, typer.Option(help="Fail the gate on findings at or above this severity.")] = FailOn.high,
    fail_under: Annotated[
        int | None, typer.Option(min=0, max=100, help="Fail the gate when the score is under this value.")
    ] = None,
    policy_dir: Annotated[
        list[Path] | None, typer.Option("--policy-dir", help="Extra policy directory (repeatable).")
    ] = None,
    no_builtin: Annotated[bool, typer.Option("--no-builtin", help="Do not load the built-in policy pack.")] = False,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Override a policy param: POLICY-ID.name=value (repeatable).")
    ] = None,
    color: Annotated[bool | None, typer.Option("--color/--no-color", help="Colour text output (default: on a terminal).")] = None,
) -> None:
    """Scan templates and print a scored report. Exit 0 passed, 1 gate failed, 2 usage error or unreadable input."""
    from validator.config import Config
    from validator.model import Severity
    from validator.reporters import render
    from validator.run import run

    config = Config(
        paths=tuple(paths),
        policy_dirs=tuple(policy_dir or ()),
        builtin_policies=not no_builtin,
        fail_on=None if fail_on is FailOn.none else Severity(fail_on.value),
        fail_under=fail_under,
        params=_parse_params(param or []),
    )
    report = run(config)
    if color is None:
        color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = render(report, fmt.value, color=color)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if report.errors or any(f.outcome.value == "error" for f in report.findings):
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_PASSED if report.gate_passed else EXIT_GATE_FAILED)


policies_app = typer.Typer(no_args_is_help=True, help="List, explain and test policies.")
app.add_typer(policies_app, name="policies")


def _load_policy_set(policy_dir: list[Path] | None, no_builtin: bool) -> tuple:
    from validator.engine.policies import builtin_policy_dir, load_policies

    dirs = ([] if no_builtin else [builtin_policy_dir()]) + list(policy_dir or [])
    policies, errors = load_policies(dirs)
    for error in errors:
        typer.echo(f"error: {error}", err=True)
    return policies, errors


PolicyDirOption = Annotated[list[Path] | None, typer.Option("--policy-dir", help="Extra policy directory (repeatable).")]


@policies_app.command("list")
def policies_list(
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    policy_dir: PolicyDirOption = None,
    no_builtin: Annotated[bool, typer.Option("--no-builtin", help="Only the policies from --policy-dir.")] = False,
) -> None:
    """List the policies: id, severity, title and the resource types they apply to."""
    import json

    policies, errors = _load_policy_set(policy_dir, no_builtin)
    if fmt is OutputFormat.json:
        rows = [
            {
                "id": p.id,
                "severity": p.severity.value,
                "title": p.title,
                "types": {fmt_: list(m["types"]) for fmt_, m in p.match.items()},
                "params": dict(p.params),
                "source": p.source,
            }
            for p in policies
        ]
        typer.echo(json.dumps(rows, indent=2))
    else:
        for p in policies:
            typer.echo(f"{p.id:<14}{p.severity.value:<10}{p.title}")
    raise typer.Exit(EXIT_USAGE if errors else EXIT_PASSED)


@policies_app.command("show")
def policies_show(
    policy_id: Annotated[str, typer.Argument(help="Policy id, e.g. TRUST-001.")],
    policy_dir: PolicyDirOption = None,
) -> None:
    """Explain one policy: what it checks, why, how to fix it, params, an example and references."""
    from validator.docs import policy_markdown

    policies, _ = _load_policy_set(policy_dir, False)
    found = next((p for p in policies if p.id.upper() == policy_id.upper()), None)
    if found is None:
        typer.echo(f"error: no policy {policy_id!r}; `iac-validator policies list` shows them", err=True)
        raise typer.Exit(EXIT_USAGE)
    typer.echo(policy_markdown(found, level=1))


@policies_app.command("test")
def policies_test(
    directory: Annotated[Path | None, typer.Argument(help="A policy directory to test (default: the built-in pack).")] = None,
    policy_dir: PolicyDirOption = None,
    fixtures: Annotated[
        Path | None,
        typer.Option(help="Fixture root with <ID>/ folders and expected.yaml files (default: DIR/fixtures, or the repo's fixtures/policies)."),
    ] = None,
) -> None:
    """Run every policy's examples and fixtures, like `cfn-guard test`: exit 1 when one does not behave as it says."""
    from validator.selftest import fixture_cases, run_example, run_fixture

    dirs = list(policy_dir or []) + ([directory] if directory else [])
    policies, errors = _load_policy_set(dirs, no_builtin=directory is not None)
    if fixtures is None:
        from validator.engine.policies import builtin_policy_dir

        fixtures = directory / "fixtures" if directory else builtin_policy_dir().parent / "fixtures" / "policies"
    by_id = {p.id: p for p in policies}
    passed = failed = 0

    def report(ok: bool, name: str, detail: str) -> None:
        nonlocal passed, failed
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
        typer.echo(f"ok    {name}  {detail}" if ok else f"FAIL  {name}: {detail}")

    for policy in policies:
        for i, example in enumerate(policy.examples):
            result = run_example(policy, i)
            report(result.ok, f"{policy.id}-{example['expect']}-{i}", example["name"] if result.ok else f"{example['name']}: {result.detail}")
    for case in fixture_cases(fixtures, set(by_id)) if fixtures.is_dir() else []:
        if case.policy_id in by_id:
            result = run_fixture(by_id[case.policy_id], case)
            report(result.ok, case.name, result.detail)
    typer.echo(f"{passed} passed, {failed} failed")
    if errors:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_GATE_FAILED if failed else EXIT_PASSED)


@policies_app.command("docs")
def policies_docs(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")] = None,
) -> None:
    """Generate the policy reference (docs/policies.md) from the policies' metadata."""
    from validator.docs import catalog_markdown

    policies, errors = _load_policy_set(None, False)
    text = catalog_markdown(policies)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    raise typer.Exit(EXIT_USAGE if errors else EXIT_PASSED)


def main() -> None:
    app(prog_name="iac-validator")
