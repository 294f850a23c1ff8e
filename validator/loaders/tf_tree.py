"""Every Terraform input of one scan: which directories are roots, plans with their sources, records.

- A directory that no `module` block of the scanned tree points at is a *root*: it is loaded with its
  tfvars and the --var-file / --var values, and the local modules it calls are loaded through it.
- A directory that some module block points at is judged *through its callers*, with their inputs,
  and not again on its own with default inputs. If no caller actually instantiates it (the call has
  `count = 0`, or the caller failed to parse), it is loaded on its own after all, so nothing is lost.
- A plan JSON is judged from the plan. When its configuration is known (`--tf-source DIR`, or .tf files
  in the plan's own directory) that configuration is loaded with the plan's variable values to give
  findings their .tf file:line, and its directories are not judged a second time from the HCL alone.

Every .tf, .tfvars and plan file gets exactly one record (scanned or error); module calls that were
not analysed (remote sources, outside the scanned tree, too deep) get a skipped record each, named
`<caller file>:<line> module.<name>`.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from validator import limits
from validator.loaders import plan as plan_json
from validator.loaders import terraform
from validator.model import FileRecord, FileStatus, Format, LoadError, Template, is_pseudo

if TYPE_CHECKING:
    from validator.discover import Plan, SourceFile

# `module "x" {` ... `source = "./y"`: enough to know which directories are called, before parsing.
_MODULE_CALL = re.compile(r'^\s*module\s+"[^"]*"\s*\{[^}]*?\bsource\s*=\s*"(\.{1,2}(?:/[^"]*)?)"', re.M | re.S)
_CACHE_SIZE = 16  # parsed directories kept for the next caller (parse trees are large)

Loaded = tuple[Template | None, list[LoadError], list[FileRecord]]


def load_terraform(
    plan: Plan,
    var_files: tuple[str, ...] = (),
    variables: Mapping[str, str] | None = None,
    tf_source: str | None = None,
    budget: float | None = None,
) -> Iterator[Loaded]:
    """`budget`: seconds one root module (with its local modules) or one plan may take to load;
    past it, its files are errors (validator/limits.py)."""
    yield from _Tree(plan, var_files, dict(variables or {}), tf_source, budget).run()


def _key(directory: str) -> str:
    return os.path.realpath(directory)


class _Tree:
    def __init__(
        self, plan: Plan, var_files: tuple[str, ...], variables: dict[str, str], tf_source: str | None, budget: float | None = None
    ) -> None:
        self.plan = plan
        self.budget = budget
        self.variables = variables
        self.tf_source = tf_source
        self.dirs: dict[str, str] = {}  # realpath → directory as discovered
        self.sources: dict[str, list[SourceFile]] = {}  # realpath → its .tf files
        for directory, files in plan.terraform.items():
            self.dirs[_key(directory)] = directory
            self.sources[_key(directory)] = files
        self.tfvars: dict[str, list[SourceFile]] = {}
        for directory, files in plan.tfvars.items():
            self.dirs.setdefault(_key(directory), directory)
            self.tfvars[_key(directory)] = files
        self.roots = tuple(plan.roots) or tuple(sorted({os.path.dirname(f.path) or "." for f in plan.terraform_plans}))
        self.parsed: OrderedDict[str, terraform.ModuleFiles] = OrderedDict()
        self.parse_errors: dict[str, LoadError] = {}
        self.errors_seen: set[tuple[str, int | None, str]] = set()
        self.per_file: dict[str, int] = defaultdict(int)
        self.skipped: dict[str, FileRecord] = {}
        self.declared: set[str] = set()
        self.extra_files: dict[str, Format] = {}  # files read outside discovery (a --tf-source tree)
        self.extra_tfvars: list[str] = []
        self.tfvars_errors: dict[str, LoadError] = {}
        self.plan_errors: dict[str, LoadError | None] = {}
        self.plan_resources: dict[str, int] = {}
        self.var_files: list[tuple[str, str]] = []
        self.var_file_errors: list[LoadError] = []
        for path in var_files:
            try:
                with open(path, encoding="utf-8-sig") as fh:
                    self.var_files.append((path, fh.read()))
            except (OSError, UnicodeDecodeError) as exc:
                self.var_file_errors.append(LoadError(path, f"cannot read variable file: {getattr(exc, 'strerror', None) or exc}"))

    # --- parsing ------------------------------------------------------------------------------------

    def module(self, directory: str) -> terraform.ModuleFiles | None:
        key = _key(directory)
        if key in self.parsed:
            self.parsed.move_to_end(key)
            return self.parsed[key]
        files = self.sources.get(key)
        if files is None:
            return None
        module = terraform.parse_module(self.dirs[key], [(f.path, f.text) for f in files])
        for error in module.errors:
            self.parse_errors.setdefault(error.file, error)
        self.parsed[key] = module
        if len(self.parsed) > _CACHE_SIZE:
            self.parsed.popitem(last=False)
        return module

    def called(self) -> dict[str, set[str]]:
        """realpath of each directory → realpaths of the directories whose module blocks call it."""
        callers: dict[str, set[str]] = defaultdict(set)
        for key, files in self.sources.items():
            for f in files:
                if "module" not in f.text:
                    continue
                for m in _MODULE_CALL.finditer(f.text):
                    target = _key(os.path.join(self.dirs[key], m.group(1)))
                    if target != key and target in self.sources:
                        callers[target].add(key)
        return callers

    # --- the run ------------------------------------------------------------------------------------

    def run(self) -> Iterator[Loaded]:
        pending: Loaded | None = None
        errors: list[LoadError] = list(self.var_file_errors)
        covered: set[str] = set()
        for loaded in self._plans(covered):
            if pending is not None:
                yield pending
            pending = loaded
        callers = self.called()
        roots = [k for k in self.sources if k not in callers]
        roots += [k for k in self.tfvars if k not in self.sources]  # tfvars with no .tf beside them
        done: set[str] = set(covered)
        for key in sorted(roots, key=lambda k: self.dirs.get(k, k)):
            if key in done:
                continue
            loaded = self._root(key, done)
            if pending is not None:
                yield pending
            pending = loaded
        # Called directories that no caller instantiated (count = 0, a broken caller, a cycle).
        for key in sorted(self.sources, key=lambda k: self.dirs[k]):
            if key not in done:
                loaded = self._root(key, done)
                if pending is not None:
                    yield pending
                pending = loaded
        records = self._records()
        if pending is None:
            if errors or records:
                yield None, errors, records
            return
        template, template_errors, template_records = pending
        yield template, [*errors, *template_errors], [*template_records, *records]

    def _new_errors(self, errors: list[LoadError]) -> list[LoadError]:
        out = []
        for e in errors:
            key = (e.file, e.line, e.message)
            if key not in self.errors_seen:
                self.errors_seen.add(key)
                out.append(e)
        return out

    def _count(self, template: Template | None) -> None:
        for r in template.resources if template else ():
            if not is_pseudo(r.type):
                self.per_file[r.location.file] += 1

    def _root(self, key: str, done: set[str], values: Mapping[str, object] | None = None) -> Loaded:
        done.add(key)
        tfvars = [(f.path, f.text) for f in self.tfvars.get(key, [])]
        module = terraform.ModuleFiles(self.dirs.get(key, key), (), (), ())
        try:
            with limits.time_budget(self.budget):
                module = self.module(key) or module
                result = terraform.load_root(
                    module,
                    tfvars=tfvars,
                    var_files=self.var_files,
                    variables=values,
                    cli_variables=self.variables,
                    roots=self.roots,
                    sources=self.module,
                    declared=self.declared,
                )
        except limits.BudgetExceeded as exc:  # every file of the directory is an error, the scan goes on
            files = [f.path for f in self.sources.get(key, [])] + [p for p, _ in tfvars]
            reason = f"loading the module in {self.dirs.get(key, key)} {exc} (the per-file time budget, --file-timeout): not analysed"
            errors = [LoadError(f, reason) for f in files] or [LoadError(self.dirs.get(key, key), reason)]
            for e in errors:
                self.parse_errors.setdefault(e.file, e)
                self.tfvars_errors.setdefault(e.file, e)
            return None, self._new_errors(errors), []
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            # our own failure on an odd configuration: reported against the module, the scan goes on
            where = module.files[0] if module.files else module.directory
            why = "nested too deeply to evaluate" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"
            error = LoadError(where, f"could not evaluate the module in {module.directory} ({why})")
            for f in module.files:  # its files are errors, not scanned: every input file is accounted for
                self.parse_errors.setdefault(f, error)
            return None, self._new_errors([error]), []
        done.update(_key(d) for d in result.modules)
        for error in result.errors:
            if error.file in {p for p, _ in tfvars}:
                self.tfvars_errors.setdefault(error.file, error)
        for record in result.skipped:
            self.skipped.setdefault(record.path, record)
        if values is None:
            self._count(result.template)
        return result.template, self._new_errors(result.errors), []

    def _plans(self, covered: set[str]) -> Iterator[Loaded]:
        for source in self.plan.terraform_plans:
            doc, error = plan_json.parse(source.path, source.text)
            if doc is None:
                self.plan_errors[source.path] = error
                yield None, self._new_errors([error] if error else []), []
                continue
            hcl = self._plan_source(source.path, doc, covered)
            try:
                with limits.time_budget(self.budget):
                    template, errors = plan_json.load_plan(source.path, source.text, doc, hcl)
            except limits.BudgetExceeded as exc:
                error = LoadError(source.path, f"loading the plan {exc} (the per-file time budget, --file-timeout): not analysed")
                self.plan_errors[source.path] = error
                yield None, self._new_errors([error]), []
                continue
            self.plan_resources[source.path] = sum(1 for r in template.resources if not is_pseudo(r.type)) if template else 0
            self._count_plan(template)
            yield template, self._new_errors(errors), []

    def _plan_source(self, plan_path: str, doc: Mapping[str, object], covered: set[str]) -> Template | None:
        """The plan's configuration loaded as HCL with the plan's variable values, when it is known."""
        directory = self.tf_source or os.path.dirname(plan_path) or "."
        key = _key(directory)
        if key not in self.sources:
            if self.tf_source is None and not any(n.endswith(".tf") for n in _listdir(directory)):
                return None
            self._add_outside(directory)
            if key not in self.sources:
                return None
        template, _, _ = self._root(key, covered, plan_json.variables(doc))
        return template

    def _add_outside(self, directory: str) -> None:
        """A configuration directory that was not part of the scan (`--tf-source`, a plan given alone)."""
        from validator.discover import discover

        found = discover([directory])
        for d, files in found.terraform.items():
            k = _key(d)
            if k not in self.sources:
                self.dirs[k] = d
                self.sources[k] = files
                for f in files:
                    self.extra_files[f.path] = Format.TERRAFORM
        for d, files in found.tfvars.items():
            k = _key(d)
            if k not in self.tfvars:
                self.dirs.setdefault(k, d)
                self.tfvars[k] = files
                self.extra_tfvars.extend(f.path for f in files)
        if not any(_key(directory) == os.path.realpath(r) or _key(directory).startswith(os.path.realpath(r) + os.sep) for r in self.roots):
            self.roots = (*self.roots, directory)

    def _count_plan(self, template: Template | None) -> None:
        for r in template.resources if template else ():
            if not is_pseudo(r.type) and r.location.file != template.path:
                self.per_file[r.location.file] += 1

    # --- records ------------------------------------------------------------------------------------

    def _records(self) -> list[FileRecord]:
        records: list[FileRecord] = []
        tf_files = [f.path for files in self.plan.terraform.values() for f in files]
        tf_files += [p for p in self.extra_files if p not in set(tf_files)]
        for path in tf_files:
            error = self.parse_errors.get(path)
            if error is not None:
                records.append(FileRecord(path, FileStatus.ERROR, Format.TERRAFORM, error.message))
            else:
                records.append(FileRecord(path, FileStatus.SCANNED, Format.TERRAFORM, resources=self.per_file[path]))
        tfvars = [f.path for files in self.plan.tfvars.values() for f in files]
        for path in [*tfvars, *(p for p in self.extra_tfvars if p not in set(tfvars))]:
            error = self.tfvars_errors.get(path)
            if error is not None:
                records.append(FileRecord(path, FileStatus.ERROR, Format.TERRAFORM, error.message))
            else:
                records.append(FileRecord(path, FileStatus.SCANNED, Format.TERRAFORM))
        for source in self.plan.terraform_plans:
            plan_error = self.plan_errors.get(source.path)
            if source.path in self.plan_errors:
                reason = plan_error.message if plan_error else "not a Terraform plan"
                records.append(FileRecord(source.path, FileStatus.ERROR, Format.TERRAFORM_PLAN, reason))
            else:
                count = self.plan_resources.get(source.path, 0)
                records.append(FileRecord(source.path, FileStatus.SCANNED, Format.TERRAFORM_PLAN, resources=count))
        records.extend(self.skipped.values())
        return records


def _listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []
