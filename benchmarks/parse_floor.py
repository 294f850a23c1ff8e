"""The parse floor: read and parse every template under DIR with the fastest parsers, nothing else.

    python benchmarks/parse_floor.py DIR [--hcl tree|loads]

CloudFormation YAML (.yaml/.yml/.template) with PyYAML's CSafeLoader plus a multi-constructor for `!`
tags, JSON with the stdlib, Terraform .tf with python-hcl2 (`parses_to_tree` by default: Lark parse
only, which is what iac-validator's loader uses; `--hcl loads` adds python-hcl2's dict transform).
Prints one JSON line: per-format file counts and seconds, import seconds and the process total, so
the caller can time the whole process (interpreter start included) against a full scan.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

START = time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--hcl", choices=("tree", "loads"), default="tree")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    import yaml

    t_yaml = time.perf_counter()
    import hcl2

    t_hcl = time.perf_counter()

    class Loader(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
        pass

    def tagged(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return {suffix: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {suffix: loader.construct_sequence(node, deep=True)}
        return {suffix: loader.construct_mapping(node, deep=True)}

    Loader.add_multi_constructor("!", tagged)
    parse_hcl = hcl2.parses_to_tree if args.hcl == "tree" else hcl2.loads

    seconds = {"yaml": 0.0, "json": 0.0, "hcl": 0.0, "read": 0.0}
    files = {"yaml": 0, "json": 0, "hcl": 0}
    nbytes = 0
    paths: list[str] = []
    for directory, dirnames, filenames in os.walk(args.dir):
        dirnames.sort()
        paths.extend(os.path.join(directory, n) for n in sorted(filenames))
    for path in paths:
        ext = os.path.splitext(path)[1]
        kind = {".yaml": "yaml", ".yml": "yaml", ".template": "yaml", ".json": "json", ".tf": "hcl"}.get(ext)
        if kind is None:
            continue
        r0 = time.perf_counter()
        with open(path, "rb") as fh:
            data = fh.read()
        text = data.decode("utf-8-sig")
        r1 = time.perf_counter()
        if kind == "yaml":
            yaml.load(text, Loader=Loader)  # noqa: S506 - CSafeLoader subclass
        elif kind == "json":
            json.loads(text)
        else:
            parse_hcl(text if text.endswith("\n") else text + "\n")
        seconds["read"] += r1 - r0
        seconds[kind] += time.perf_counter() - r1
        files[kind] += 1
        nbytes += len(data)
    print(json.dumps({
        "files": files,
        "bytes": nbytes,
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "import_seconds": {"yaml": round(t_yaml - t0, 4), "hcl2": round(t_hcl - t_yaml, 4)},
        "in_process_seconds": round(time.perf_counter() - START, 4),
        "hcl": args.hcl,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
