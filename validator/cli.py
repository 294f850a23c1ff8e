"""Command line: flags → Config → run → render → exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    import datetime

    from validator.config import Config
    from validator.repo_config import RepoConfig

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
    params: dict[str, dict[str, object]] = {}
    if not values:
        return params
    import yaml  # values are read as YAML scalars

    for item in values:
        key, sep, raw = item.partition("=")
        policy_id, dot, name = key.partition(".")
        if not sep or not dot or not name:
            raise typer.BadParameter(f"{item!r}: expected POLICY-ID.param=value, e.g. SESSION-001.max_seconds=7200")
        params.setdefault(policy_id, {})[name] = yaml.safe_load(raw)
    return params


def _parse_tf_vars(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r}: expected name=value, e.g. --var max_session_seconds=3600")
        out[name.strip()] = value
    return out


@app.command()
def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files and directories to scan (directories recursively); - reads one template or plan from stdin."),
    ] = None,
    fmt: Annotated[
        OutputFormat | None, typer.Option("--format", "-f", help="Output format (default: text, or the configuration's).")
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option("--output", "-o", help="Write the report to PATH; FORMAT=PATH writes another report too (repeatable)."),
    ] = None,
    fail_on: Annotated[
        FailOn | None, typer.Option(help="Fail the gate on findings at or above this severity (default: high).")
    ] = None,
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
    config_file: Annotated[
        Path | None,
        typer.Option("--config", help="Configuration file (default: .iac-validator.yaml or pyproject.toml, searched upward)."),
    ] = None,
    no_inline_waivers: Annotated[
        bool, typer.Option("--no-inline-waivers", help="Audit mode: ignore waivers written in templates.")
    ] = False,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Fail only on findings not in this baseline; report fixed ones.")
    ] = None,
    baseline_write: Annotated[
        Path | None, typer.Option("--baseline-write", help="Record the current failing findings in this baseline file.")
    ] = None,
    changed_since: Annotated[
        str | None,
        typer.Option("--changed-since", metavar="REF", help="Scan only files changed since this git ref, and what they belong to."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Failing findings and the verdict only; no progress bar.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Every list in full, passing checks too; notes on stderr.")] = False,
    today: Annotated[str | None, typer.Option("--today", hidden=True, help="Pretend today is YYYY-MM-DD (tests).")] = None,
    parameters_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--parameters",
            metavar="FILE",
            help='CloudFormation parameter values: AWS CLI JSON [{"ParameterKey": ..., "ParameterValue": ...}] or {"Parameters": {...}} (repeatable).',
        ),
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", metavar="KEY=VALUE", help="A CloudFormation parameter value (repeatable; wins over --parameters)."),
    ] = None,
    cfn_lint: Annotated[
        bool, typer.Option("--cfn-lint", help="Add cfn-lint's error-level findings (cfn-lint:E....) to the report and the gate.")
    ] = False,
    var_file: Annotated[
        list[Path] | None,
        typer.Option("--var-file", metavar="FILE", help="Terraform variable values for root modules (repeatable, in order)."),
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option("--var", metavar="NAME=VALUE", help="A Terraform variable value (repeatable; wins over --var-file)."),
    ] = None,
    tf_source: Annotated[
        Path | None,
        typer.Option("--tf-source", metavar="DIR", help="The Terraform configuration of the plan JSON being scanned (for .tf file:line)."),
    ] = None,
    max_file_size: Annotated[
        str | None,
        typer.Option("--max-file-size", metavar="SIZE", help="Skip larger files (default 10MB; 512k, 2MB, or bytes)."),
    ] = None,
    file_timeout: Annotated[
        float | None,
        typer.Option(
            "--file-timeout",
            metavar="SECONDS",
            min=0,
            help="Time one file (a Terraform module directory) may take to load or judge; past it, it is an error (default 60; 0: no limit).",
        ),
    ] = None,
    follow_symlinks: Annotated[
        bool, typer.Option("--follow-symlinks", help="Follow symbolic links that lead out of the scanned tree (skipped by default).")
    ] = False,
    allow_errors: Annotated[
        bool,
        typer.Option("--allow-errors", help="Files that cannot be read are reported but do not fail the run (no exit code 2)."),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, metavar="N", help="Worker processes (default: one per CPU); the report is the same for any N."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", metavar="DIR", help="The result cache (default: $IAC_VALIDATOR_CACHE_DIR, else ~/.cache/iac-validator)."),
    ] = None,
) -> None:
    """Scan templates and print a scored report. Exit 0 passed, 1 gate failed, 2 usage error or unreadable input."""
    from validator.reporters import render_chunks
    from validator.run import run

    if quiet and verbose:
        _usage("--quiet and --verbose exclude each other")
    verbosity = -1 if quiet else 1 if verbose else 0
    main_output, extra_outputs = _parse_outputs(output or [])
    repo = _repo_config(config_file, paths or [])
    config = _scan_config(
        paths, repo, fail_on, fail_under, policy_dir, no_builtin, param, no_inline_waivers, baseline, changed_since, today
    )
    config = _cloudformation_options(config, parameters_file or [], parameter or [], cfn_lint)
    config = _terraform_options(config, var_file or [], var or [], tf_source)
    config = _limit_options(config, max_file_size, file_timeout, follow_symlinks, allow_errors)
    fmt_name = fmt.value if fmt else (repo.format if repo and repo.format else OutputFormat.text.value)
    extras = {**(dict(repo.outputs) if repo else {}), **extra_outputs}
    config = _speed_options(config, jobs, no_cache, cache_dir, keeps_passes({fmt_name, *extras}, verbosity))
    _quiet_libraries(verbose=verbosity > 0)
    if verbosity > 0:
        _note(f"configuration: {repo.source}" if repo else "configuration: none found (defaults)")
    bar = _LazyProgress() if progress_wanted(sys.stderr, os.environ, quiet) else None
    try:
        report = run(config, progress=bar)
    finally:
        if bar is not None:
            bar.close()

    if verbosity > 0 and config.cache_dir is not None:
        _note(f"result cache {config.cache_dir}: {report.from_cache[0]} of {report.from_cache[1]} unit(s) unchanged, read from it")
    if color is None:
        color = main_output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    pieces = render_chunks(report, fmt_name, color=color, verbosity=verbosity)
    if main_output is not None:
        _write(Path(main_output), pieces)
    else:
        sys.stdout.writelines(pieces)
    for extra_fmt, path in extras.items():
        _write(Path(path), render_chunks(report, extra_fmt, verbosity=verbosity))
        if verbosity > 0:
            _note(f"wrote the {extra_fmt} report to {path}")
    if baseline_write is not None:
        from validator.suppress import baseline_entries, dump_baseline

        entries = baseline_entries((*report.findings, *report.baselined))
        _write(baseline_write, dump_baseline(entries, report.tool_version))
        if verbosity >= 0:
            _note(f"wrote {len(entries)} finding(s) to the baseline {baseline_write}")
    from validator.run import blocking_errors

    if blocking_errors(report, config.allow_errors):
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_PASSED if report.gate_passed else EXIT_GATE_FAILED)


def keeps_passes(formats: set[str], verbosity: int) -> bool:
    """JUnit lists every check as a test case, verbose text every pass; the others count them."""
    return "junit" in formats or ("text" in formats and verbosity > 0)


def _speed_options(config: Config, jobs: int | None, no_cache: bool, cache_dir: Path | None, keep_passes: bool) -> Config:
    """--jobs, --no-cache, --cache-dir (validator/execute.py, validator/cache.py)."""
    from dataclasses import replace

    from validator.cachedir import user_cache_dir

    directory = None if no_cache else str(cache_dir or user_cache_dir(os.environ))
    return replace(config, jobs=jobs, cache_dir=directory, keep_passes=keep_passes)


def _limit_options(
    config: Config, max_file_size: str | None, file_timeout: float | None, follow_symlinks: bool, allow_errors: bool
) -> Config:
    """--max-file-size, --file-timeout, --follow-symlinks, --allow-errors (validator/limits.py)."""
    from dataclasses import replace

    from validator.limits import parse_size

    changes: dict[str, object] = {}
    if max_file_size is not None:
        try:
            changes["max_file_size"] = parse_size(max_file_size)
        except ValueError as exc:
            _usage(f"--max-file-size {exc}")
    if file_timeout is not None:
        changes["file_timeout"] = file_timeout or None
    if follow_symlinks:
        changes["follow_symlinks"] = True
    if allow_errors:
        changes["allow_errors"] = True
    return replace(config, **changes) if changes else config


class _MaskingFilter:
    """Log records leave through `mask`: a library logging a line of a template cannot leak a key."""

    def filter(self, record: object) -> bool:
        import logging

        from validator.secrets import mask

        if isinstance(record, logging.LogRecord):
            record.msg, record.args = mask(record.getMessage()), None
        return True


def _quiet_libraries(verbose: bool) -> None:
    """Library logs (cfn-lint, samtranslator) go to stderr masked: warnings only, info with --verbose.
    Without a handler of ours, Python's last-resort handler would print them unmasked."""
    import logging

    class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
        """Writes to whatever sys.stderr is when a record comes (a test runner swaps it)."""

        @property  # type: ignore[override]
        def stream(self) -> object:
            return sys.stderr

        @stream.setter
        def stream(self, value: object) -> None:
            pass

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_iac_validator", False)]:
        root.removeHandler(old)
    handler = StderrHandler()
    handler._iac_validator = True  # type: ignore[attr-defined]
    handler.addFilter(_MaskingFilter())
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    root.addHandler(handler)


def _cloudformation_options(config: Config, files: list[Path], items: list[str], cfn_lint: bool) -> Config:
    """--parameters FILE (later files win), then --parameter Key=Value, and --cfn-lint."""
    from dataclasses import replace

    from validator.loaders.cfn_params import ParameterError, parse_file, parse_option

    values: dict[str, str] = {}
    try:
        for file in files:
            try:
                text = file.read_text(encoding="utf-8-sig")
            except OSError as exc:
                raise ParameterError(f"{file}: cannot read ({exc.strerror or exc})") from None
            values.update(parse_file(text, str(file)))
        values.update(parse_option(item) for item in items)
    except ParameterError as exc:
        _usage(str(exc))
    if not values and not cfn_lint:
        return config
    return replace(config, cfn_parameters={**config.cfn_parameters, **values}, cfn_lint=cfn_lint or config.cfn_lint)


def _terraform_options(config: Config, var_files: list[Path], items: list[str], tf_source: Path | None) -> Config:
    """--var-file FILE (in order), --var name=value (wins), --tf-source DIR."""
    from dataclasses import replace

    if tf_source is not None and not tf_source.is_dir():
        _usage(f"--tf-source {tf_source}: no such directory")
    try:
        variables = _parse_tf_vars(items)
    except typer.BadParameter as exc:
        _usage(f"--var {exc}")
    if not var_files and not variables and tf_source is None:
        return config
    return replace(
        config,
        var_files=tuple(str(f) for f in var_files),
        tf_variables=variables,
        tf_source=str(tf_source) if tf_source is not None else None,
    )


def _usage(message: str) -> NoReturn:
    from validator.secrets import mask

    typer.echo(f"error: {mask(message)}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _note(message: str) -> None:
    from validator.secrets import mask

    typer.echo(mask(message), err=True)


def _write(path: Path, text: str | Iterable[str]) -> None:
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:  # a large report is written piece by piece
            fh.writelines([text] if isinstance(text, str) else text)
    except OSError as exc:
        _usage(f"cannot write {path}: {exc.strerror or exc}")


def _parse_outputs(values: list[str]) -> tuple[str | None, dict[str, str]]:
    """`--output PATH` (the main report) and `--output FORMAT=PATH` (more reports)."""
    from validator.repo_config import parse_output

    main: str | None = None
    extra: dict[str, str] = {}
    for value in values:
        fmt_name, path = parse_output(value, tuple(f.value for f in OutputFormat))
        if fmt_name is None:
            if main is not None:
                _usage(f"--output {value!r}: the main report already goes to {main!r}; use FORMAT=PATH for more")
            main = path
        else:
            extra[fmt_name] = path
    return main, extra


def _repo_config(config_file: Path | None, paths: list[str]) -> RepoConfig | None:
    from validator.repo_config import ConfigError, find_config, load_config

    if config_file is None:
        start = next((p for p in paths if p != "-"), ".")
        found = find_config(start if os.path.exists(start) else ".")
        if found is None:
            return None
        config_file = found
    elif not config_file.is_file():
        _usage(f"--config {config_file}: no such file")
    try:
        return load_config(config_file)
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _parse_day(value: str | None) -> datetime.date:
    import datetime

    if value is None:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        _usage(f"--today {value!r}: expected YYYY-MM-DD")


def _scan_config(
    paths: list[str] | None,
    repo: RepoConfig | None,
    fail_on: FailOn | None,
    fail_under: int | None,
    policy_dir: list[Path] | None,
    no_builtin: bool,
    param: list[str] | None,
    no_inline_waivers: bool,
    baseline: Path | None,
    changed_since: str | None,
    today: str | None,
) -> Config:
    from validator.config import Config
    from validator.model import Severity

    paths = list(paths or [])
    if not paths:
        if changed_since is None:
            _usage("give a PATH to scan (or - to read a template or plan from standard input)")
        paths = ["."]
    if paths.count("-") > 1:
        _usage("- (standard input) can be given once")
    stdin = sys.stdin.read() if "-" in paths else None
    scope = None
    if changed_since is not None:
        from validator.changed import GitError, changed_files
        from validator.changed import scope as build_scope

        if "-" in paths:
            _usage("--changed-since cannot be combined with - (standard input)")
        try:
            first = paths[0]
            changed = changed_files(changed_since, first if os.path.isdir(first) else os.path.dirname(first) or ".")
        except GitError as exc:
            _usage(f"--changed-since {changed_since}: {exc}")
        scope = build_scope(changed_since, changed, paths)
        paths = [entry.path for entry in scope.scanned]
    entries = None
    if baseline is not None:
        from validator.suppress import load_baseline

        try:
            raw = baseline.read_text("utf-8")
        except OSError as exc:
            _usage(f"--baseline {baseline}: {exc.strerror or exc} (write one with --baseline-write)")
        entries, problem = load_baseline(raw, str(baseline))
        if problem is not None:
            _usage(str(problem))
    if fail_on is not None:
        severity = None if fail_on is FailOn.none else Severity(fail_on.value)
    elif repo is not None and repo.fail_on_set:
        severity = repo.fail_on
    else:
        severity = Severity.HIGH
    params: dict[str, dict[str, object]] = {k: dict(v) for k, v in (repo.params.items() if repo else ())}
    for policy_id, values in _parse_params(param or []).items():
        params.setdefault(policy_id, {}).update(values)
    return Config(
        paths=tuple(paths),
        policy_dirs=tuple((*(repo.policy_dirs if repo else ()), *(policy_dir or ()))),
        builtin_policies=not no_builtin,
        fail_on=severity,
        fail_under=fail_under if fail_under is not None else (repo.fail_under if repo else None),
        params=params,
        enable=repo.enable if repo else (),
        disable=repo.disable if repo else (),
        severity=dict(repo.severity) if repo else {},
        exclude=repo.exclude if repo else (),
        base_dir=repo.base_dir if repo else None,
        config_file=repo.source if repo else None,
        today=_parse_day(today),
        inline_waivers=not no_inline_waivers,
        waivers=repo.waivers if repo else (),
        allow_open_ended_waivers=repo.allow_open_ended_waivers if repo else False,
        config_errors=repo.waiver_errors if repo else (),
        baseline=entries,
        baseline_file=str(baseline) if baseline is not None else None,
        scope=scope,
        stdin=stdin,
    )


def progress_wanted(stream: object, environ: Mapping[str, str], quiet: bool = False) -> bool:
    """A progress bar only for a person at a terminal: not when quiet, piped, or under CI=true."""
    if quiet or environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _LazyProgress:
    """A rich progress bar on stderr that appears only once the run has taken `delay` seconds."""

    def __init__(self, delay: float = 1.0) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._delay = delay
        self._bar: object | None = None
        self._task: object | None = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if self._clock() - self._start < self._delay or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("scanning"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()  # type: ignore[attr-defined]
            self._task = self._bar.add_task("scan", total=total)  # type: ignore[attr-defined]
        self._bar.update(self._task, completed=done, total=total)  # type: ignore[attr-defined]

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()  # type: ignore[attr-defined]


waivers_app = typer.Typer(no_args_is_help=True, help="List the waivers in a tree: owner, reason, expiry, status.")
app.add_typer(waivers_app, name="waivers")


@waivers_app.command("list")
def waivers_list(
    paths: Annotated[list[str] | None, typer.Argument(help="Files and directories (default: the current directory).")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="text or json.")] = OutputFormat.text,
    config_file: Annotated[Path | None, typer.Option("--config", help="Configuration file (default: searched upward).")] = None,
    policy_dir: Annotated[
        list[Path] | None, typer.Option("--policy-dir", help="Extra policy directory (repeatable).")
    ] = None,
    today: Annotated[str | None, typer.Option("--today", hidden=True, help="Pretend today is YYYY-MM-DD (tests).")] = None,
) -> None:
    """Every waiver (inline and configuration) with owner, reason, expiry, status (active, expired,
    stale) and how many failing findings it still names. Exit 2 when a waiver is malformed."""
    import json

    from validator.run import run
    from validator.suppress import target

    paths = list(paths or ["."])
    repo = _repo_config(config_file, paths)
    config = _scan_config(paths, repo, FailOn.none, None, policy_dir, False, None, False, None, None, today)
    report = run(config)
    malformed = [e for e in report.errors if e.message.startswith("malformed waiver")]
    if fmt is OutputFormat.json:
        from validator.reporters.json import waiver_use

        doc = {
            "waivers": [waiver_use(u) | {"target": target(u.waiver)} for u in report.waivers],
            "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in malformed],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        for u in report.waivers:
            w = u.waiver
            expires = w.expires.isoformat() if w.expires else "never"
            typer.echo(f"{u.status.value:<8} {w.policy_id:<14} {w.location}  ({w.source.value})")
            typer.echo(
                f"         target: {target(w)} · owner: {w.owner or '-'} · expires: {expires} · "
                f"matches: {u.matches} finding(s){'' if u.matches else ' (matches nothing)'}"
            )
            typer.echo(f"         reason: {w.reason}")
        for e in malformed:
            typer.echo(f"error    {e}")
        counts = {s: sum(1 for u in report.waivers if u.status.value == s) for s in ("active", "expired", "stale")}
        typer.echo(
            f"{len(report.waivers)} waiver(s): {counts['active']} active, {counts['expired']} expired, "
            f"{counts['stale']} stale; {len(malformed)} malformed"
        )
    raise typer.Exit(EXIT_USAGE if malformed else EXIT_PASSED)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write .iac-validator.yaml.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing configuration.")] = False,
) -> None:
    """Write a commented starter configuration (.iac-validator.yaml)."""
    from validator.repo_config import CONFIG_NAMES, starter_config

    target_file = directory / CONFIG_NAMES[0]
    if target_file.exists() and not force:
        _usage(f"{target_file} exists; --force overwrites it")
    if not directory.is_dir():
        _usage(f"{directory}: no such directory")
    _write(target_file, starter_config())
    typer.echo(f"wrote {target_file}")


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
    import gc

    # The imported modules live for the whole run: keep the collector from walking them again and
    # again as findings accumulate (-14 % CPU on 1,000 files, same peak memory; docs/performance.md).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    app(prog_name="iac-validator")
