"""Where a scan's time goes: import costs, per-stage wall time, and a cProfile summary by package.

    python benchmarks/profile_scan.py --files 1000            # all three sections
    python benchmarks/profile_scan.py --files 1000 --section stages

Sections (the corpus comes from generate_corpus.py, reused from --work-dir like run.py does):
  imports  `python -X importtime` of a one-file CloudFormation scan and a one-file Terraform scan;
           the top-level packages by cumulative import time.
  stages   one in-process scan with light timers around each stage (no profiler overhead):
           discover, policy loading, CloudFormation decoding, our CloudFormation resolution, python-hcl2
           parsing, our Terraform evaluation, policy evaluation, report build, JSON rendering. Loading
           is timed around each step of work.load_all, so it survives loader refactorings.
  profile  the same scan under cProfile: the top functions by cumulative time, and the self time
           summed per package (lark, hcl2, cfnlint, yaml, validator.loaders, ...).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import os
import pstats
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as bench  # noqa: E402  (sibling script: corpus and small inputs)

# --------------------------------------------------------------------------- imports


def importtime(cmd_args: list[str]) -> list[tuple[str, float, float]]:
    """(module, self ms, cumulative ms) for every import of `python -X importtime -m validator ...`."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "validator", *cmd_args],
                          capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            rows.append((m.group(3) + m.group(4), int(m.group(1)) / 1000, int(m.group(2)) / 1000))
    return rows


def section_imports(work_dir: str, top: int) -> None:
    inputs = bench.small_inputs(work_dir)
    out = os.path.join(work_dir, "profile-one.json")
    for label, target in (("one CloudFormation file", inputs["cfn_file"]), ("one Terraform file", inputs["tf_file"])):
        # --no-cache: a result read from the cache would skip the loaders' lazy imports
        rows = importtime(["scan", target, "--format", "json", "-o", out, "--fail-on", "none", "--no-cache"])
        total = sum(s for _, s, _ in rows)
        print(f"\n== imports: scan of {label}: {len(rows)} modules, {total:.0f} ms of import time in all")
        # imports at depth 0 partition the total; group them by top-level package
        per_root: dict[str, float] = defaultdict(float)
        for name, _, cum in rows:
            if not name.startswith(" "):
                per_root[name.split(".")[0]] += cum
        print("  by top-level package (outermost imports, these add up to the total):")
        for root, cum in sorted(per_root.items(), key=lambda r: -r[1])[:top]:
            print(f"    {cum:8.1f} ms  {root}")
        heavy = sorted(rows, key=lambda r: -r[2])[:top]
        print("  heaviest single imports (cumulative):")
        for name, self_ms, cum in heavy:
            print(f"    {cum:8.1f} ms  (self {self_ms:6.1f})  {name.strip()}")


# --------------------------------------------------------------------------- stages


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._restore: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr, None)
        if original is None:
            print(f"  (no {getattr(owner, '__name__', owner)}.{attr} in this version: {label} not timed)")
            return

        @functools.wraps(original)
        def timed(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                self.seconds[label] += time.perf_counter() - t0
                self.calls[label] += 1

        setattr(owner, attr, timed)
        self._restore.append((owner, attr, original))

    def wrap_loader(self, owner: Any, attr: str) -> None:
        """Time every step of the load_all generator, per format of what it yields."""
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*a: Any, **kw: Any) -> Any:
            iterator = iter(original(*a, **kw))
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    self.seconds["loading: between templates"] += time.perf_counter() - t0
                    return
                template, _, records = item
                fmt = getattr(getattr(template, "format", None), "value", None) if template is not None else None
                if fmt is None:
                    fmt = next((getattr(r.format, "value", None) for r in records if getattr(r, "format", None)), "other")
                label = "terraform" if "terraform" in str(fmt) else "cloudformation" if "cloudformation" in str(fmt) else str(fmt)
                self.seconds[f"{label} loading total"] += time.perf_counter() - t0
                self.calls[f"{label} loading total"] += 1
                yield item

        setattr(owner, attr, timed)
        self._restore.append((owner, attr, original))

    def restore(self) -> None:
        for owner, attr, original in reversed(self._restore):
            setattr(owner, attr, original)
        self._restore.clear()


def scan_in_process(corpus: str) -> tuple[Any, str]:
    from validator.config import Config
    from validator.reporters import render
    from validator.run import run

    report = run(Config(paths=(corpus,), fail_on=None))
    return report, render(report, "json")


def section_stages(corpus: str, manifest: dict[str, Any]) -> dict[str, float]:
    t0 = time.perf_counter()
    import validator.cli  # noqa: F401  (what the console script imports first)

    t_cli = time.perf_counter() - t0
    t0 = time.perf_counter()
    importlib.import_module("hcl2")
    importlib.import_module("validator.loaders.terraform")
    t_hcl = time.perf_counter() - t0

    import validator.loaders.cloudformation as cfn
    import validator.loaders.terraform as tf
    import validator.reporters as reporters
    import validator.run as run_mod
    import validator.work as work_mod

    decode = "CloudFormation decoding (YAML/JSON -> nodes with line marks)"
    parse = "python-hcl2 parses_to_tree (Lark)"
    timers = Timers()
    timers.wrap(run_mod, "discover", "discover (walk, read, classify)")
    timers.wrap(run_mod, "load_policies", "load + validate policies")
    if hasattr(cfn, "_decode"):  # fast path with cfn-lint fallback: do not import cfn-lint ourselves
        timers.wrap(cfn, "_decode", decode)
    else:  # older versions: cfn-lint decodes every template
        timers.wrap(importlib.import_module("cfnlint.decode"), "decode_str", decode)
    timers.wrap(tf, "parse_file", parse)
    timers.wrap_loader(work_mod, "load_all")
    timers.wrap(work_mod, "evaluate", "policy evaluation")
    timers.wrap(run_mod, "build_report", "build report (sort, score, mask)")
    timers.wrap(reporters, "render", "render JSON")
    t0 = time.perf_counter()
    try:
        from validator.config import Config

        report = run_mod.run(Config(paths=(corpus,), fail_on=None, jobs=1))  # in this process, for the timers
        reporters.render(report, "json")
    finally:
        timers.restore()
    total = time.perf_counter() - t0
    s = timers.seconds
    derived = {
        "our CloudFormation resolution (loading - decoding)": s.pop("cloudformation loading total", 0.0) - s[decode],
        "our Terraform evaluation (loading - parse)": s.pop("terraform loading total", 0.0) - s[parse],
    }
    rows = list(s.items()) + list(derived.items())
    accounted = sum(v for _, v in rows)
    print(f"\n== stages: in-process scan of {manifest['files']} files, {manifest['resources']['total']} resources "
          f"({manifest['file_kinds']})")
    print(f"  imports before the scan: validator.cli {t_cli * 1000:.0f} ms, hcl2 + terraform loader {t_hcl * 1000:.0f} ms "
          "(anything else, e.g. cfn-lint for a fallback, is imported inside the scan, as in the CLI)")
    print(f"  scan total {total:.2f} s")
    for label, sec in sorted(rows, key=lambda r: -r[1]):
        calls = timers.calls.get(label)
        print(f"    {sec:7.2f} s  {sec / total * 100:5.1f} %  {label}" + (f"  ({calls} calls)" if calls else ""))
    print(f"    {total - accounted:7.2f} s  {(total - accounted) / total * 100:5.1f} %  other (run loop: masking, waivers, records)")
    return {label: round(sec, 3) for label, sec in rows} | {"total": round(total, 3)}


# --------------------------------------------------------------------------- cProfile


def bucket(filename: str, funcname: str) -> str:
    if filename == "~":
        if "_yaml" in funcname or "yaml" in funcname:
            return "yaml (C)"
        if "re.Pattern" in funcname or "_sre" in funcname:
            return "re (C)"
        return "builtins (C)"
    m = re.search(r"site-packages/([^/]+)/", filename)
    if m:
        return m.group(1)
    m = re.search(r"/validator/(?:([^/]+)/)?([^/]+)\.py$", filename)
    if m:
        return "validator." + (m.group(1) or m.group(2))
    if "/lib/python3" in filename:
        base = os.path.basename(filename)
        return "stdlib: " + (os.path.basename(os.path.dirname(filename)) if base == "__init__.py" else base)
    return os.path.basename(filename)


def section_profile(corpus: str, top: int, out: str | None) -> None:
    from validator.config import Config  # noqa: F401  (imports outside the profile)

    importlib.import_module("validator.loaders.terraform")
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    scan_in_process(corpus)
    profiler.disable()
    wall = time.perf_counter() - t0
    if out:
        profiler.dump_stats(out)
    stats = pstats.Stats(profiler)
    stream = io.StringIO()
    stats.stream = stream  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\n== cProfile: in-process scan, {wall:.2f} s under the profiler (self time summed {total:.2f} s)")
    print(f"  top {top} by cumulative time:")
    for line in stream.getvalue().splitlines():
        if re.match(r"\s*\d", line) or "ncalls" in line:
            print("  " + line.rstrip()[:160])
    per: dict[str, float] = defaultdict(float)
    for (filename, _, funcname), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        per[bucket(filename, funcname)] += tottime
    print("  self time by package:")
    for name, sec in sorted(per.items(), key=lambda r: -r[1])[:top]:
        print(f"    {sec:7.2f} s  {sec / total * 100:5.1f} %  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", default="/tmp/iacv-bench")
    parser.add_argument("--section", choices=("imports", "stages", "profile", "all"), default="all")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--pstats", help="also write the raw cProfile stats to this file")
    args = parser.parse_args(argv)
    corpus, manifest = bench.ensure_corpus(args.work_dir, args.files, args.seed)
    sections: dict[str, Callable[[], Any]] = {
        "imports": lambda: section_imports(args.work_dir, args.top),
        "stages": lambda: section_stages(corpus, manifest),
        "profile": lambda: section_profile(corpus, args.top, args.pstats),
    }
    for name, fn in sections.items():
        if args.section in (name, "all"):
            fn()
    return 0


if __name__ == "__main__":
    sys.exit(main())
