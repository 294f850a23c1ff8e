"""Measure the optimisations proposed in docs/performance.md, without changing iac-validator.

    python benchmarks/experiments.py --files 1000                 # all experiments
    python benchmarks/experiments.py --files 1000 --only gc,parallel

Experiments (each in fresh interpreters; CPU seconds are reported next to wall seconds because CPU
time is much less disturbed by other load on a shared machine):
  gc        a full in-process scan with the garbage collector as is, with gc.freeze() after the imports
            plus a larger generation-0 threshold, and with the collector off
  parallel  python-hcl2 parsing of every .tf file with 1 and with 2 worker processes
  decode    CloudFormation decoding: cfn-lint's decode_str against PyYAML's C composer plus a small
            Python construction step that keeps each key's line (what a replacement would do)
  imports   the import cost of cfnlint.decode against yaml, in a fresh interpreter
  passes    a full scan as is, and with the PASS findings dropped as soon as they are made (the
            memory and time that keeping only counts of passing checks would save)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as bench  # noqa: E402  (sibling script: corpus handling)


def child(code: str, *args: str) -> dict[str, Any]:
    """Run `code` (a function name in this module) in a fresh interpreter; it prints one JSON line."""
    proc = subprocess.run([sys.executable, __file__, "--child", code, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _files(corpus: str, suffixes: tuple[str, ...]) -> list[str]:
    out = []
    for directory, dirnames, names in os.walk(corpus):
        dirnames.sort()
        out.extend(os.path.join(directory, n) for n in sorted(names) if n.endswith(suffixes))
    return out


# --------------------------------------------------------------------------- children


def child_scan(mode: str, corpus: str) -> dict[str, Any]:
    import gc
    import resource

    import validator.loaders.terraform  # noqa: F401
    from validator.config import Config
    from validator.reporters import render
    from validator.run import run

    if mode == "freeze":
        gc.freeze()  # everything imported so far is never scanned again
        gc.set_threshold(50_000, 20, 100)
    elif mode == "off":
        gc.disable()
    elif mode == "drop-pass":  # what dropping passes at the source would save (they are counted since aa6c1e0)
        import validator.work as work_mod
        from validator.model import Outcome

        evaluate = work_mod.evaluate

        def without_passes(*a: Any, **kw: Any) -> Any:
            return [f for f in evaluate(*a, **kw) if f.outcome is not Outcome.PASS]

        work_mod.evaluate = without_passes
    w0, c0 = time.perf_counter(), time.process_time()
    render(run(Config(paths=(corpus,), fail_on=None)), "json")
    return {"mode": mode, "wall_s": round(time.perf_counter() - w0, 2), "cpu_s": round(time.process_time() - c0, 2),
            "gen2_collections": gc.get_stats()[2]["collections"],
            "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _parse_tf(path: str) -> int:
    import hcl2

    with open(path, encoding="utf-8") as fh:
        hcl2.parses_to_tree(fh.read())
    return 1


def child_parallel(workers: str, corpus: str) -> dict[str, Any]:
    import resource
    from concurrent.futures import ProcessPoolExecutor

    import hcl2  # noqa: F401

    paths = _files(corpus, (".tf",))
    n = int(workers)
    w0 = time.perf_counter()
    if n == 1:
        for p in paths:
            _parse_tf(p)
    else:
        with ProcessPoolExecutor(n) as pool:
            list(pool.map(_parse_tf, paths, chunksize=8))
    wall = time.perf_counter() - w0
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return {"workers": n, "files": len(paths), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def child_decode(which: str, corpus: str) -> dict[str, Any]:
    paths = _files(corpus, (".yaml", ".yml", ".template", ".json"))
    texts = []
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            texts.append(fh.read())
    if which == "cfnlint":
        from cfnlint.decode import decode_str

        c0, w0 = time.process_time(), time.perf_counter()
        for t in texts:
            decode_str(t)
    else:
        import yaml

        class Loader(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
            pass

        def build(node: Any) -> Any:
            """Plain values plus the line of every mapping key: what the loader needs from cfn-lint."""
            if isinstance(node, yaml.MappingNode):
                out: dict[str, Any] = {}
                lines: dict[str, int] = {}
                for k, v in node.value:
                    out[k.value] = build(v)
                    lines[k.value] = k.start_mark.line + 1
                if node.tag.startswith("!"):
                    return {"Fn::" + node.tag[1:]: out}
                out["__lines__"] = lines
                return out
            if isinstance(node, yaml.SequenceNode):
                seq = [build(v) for v in node.value]
                return {("Ref" if node.tag == "!Ref" else "Fn::" + node.tag[1:]): seq} if node.tag.startswith("!") else seq
            if node.tag.startswith("!"):
                return {("Ref" if node.tag == "!Ref" else "Fn::" + node.tag[1:]): node.value}
            return SCALARS.get(node.tag, str)(node.value)

        booleans = {"true": True, "false": False, "True": True, "False": False, "yes": True, "no": False}
        SCALARS: dict[str, Any] = {  # noqa: N806 - a constant table, local to this experiment
            "tag:yaml.org,2002:int": int, "tag:yaml.org,2002:float": float,
            "tag:yaml.org,2002:bool": lambda v: booleans.get(v, v), "tag:yaml.org,2002:null": lambda v: None,
        }
        c0, w0 = time.process_time(), time.perf_counter()
        for t in texts:
            build(yaml.compose(t, Loader=Loader))  # noqa: S506 - composing with the C safe loader
    return {"decoder": which, "files": len(texts), "wall_s": round(time.perf_counter() - w0, 2),
            "cpu_s": round(time.process_time() - c0, 2)}


def child_imports(module: str) -> dict[str, Any]:
    c0, w0 = time.process_time(), time.perf_counter()
    __import__(module)
    return {"module": module, "wall_s": round(time.perf_counter() - w0, 3), "cpu_s": round(time.process_time() - c0, 3),
            "modules_loaded": len(sys.modules)}


CHILDREN = {"scan": child_scan, "parallel": child_parallel, "decode": child_decode, "imports": child_imports}


# --------------------------------------------------------------------------- driver


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(CHILDREN[argv[1]](*argv[2:])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", default="/tmp/iacv-bench")
    parser.add_argument("--only", default="imports,decode,parallel,gc,passes")
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args(argv)
    corpus, manifest = bench.ensure_corpus(args.work_dir, args.files, args.seed)
    print(f"corpus {corpus}: {manifest['files']} files, {manifest['resources']['total']} resources; "
          f"load average {os.getloadavg()[0]:.2f}")
    results: dict[str, list[dict[str, Any]]] = {}
    wanted = set(args.only.split(","))
    plan = [
        ("imports", [("imports", ("yaml",)), ("imports", ("hcl2",)), ("imports", ("cfnlint.decode",)),
                     ("imports", ("validator.cli",))]),
        ("decode", [("decode", ("cfnlint", corpus)), ("decode", ("csafe", corpus))]),
        ("parallel", [("parallel", ("1", corpus)), ("parallel", ("2", corpus))]),
        ("gc", [("scan", ("default", corpus)), ("scan", ("freeze", corpus)), ("scan", ("off", corpus))]),
        ("passes", [("scan", ("default", corpus)), ("scan", ("drop-pass", corpus))]),
    ]
    for name, runs in plan:
        if name not in wanted:
            continue
        print(f"== {name}")
        results[name] = []
        for code, cargs in runs:
            r = child(code, *cargs)
            results[name].append(r)
            print("  " + json.dumps(r), flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"manifest": {k: manifest[k] for k in ("files", "bytes", "resources")}, **results}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
