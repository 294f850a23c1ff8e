"""Benchmark iac-validator on generated corpora: throughput, memory, cold start, parse floor, Checkov.

    python benchmarks/run.py                              # 100 and 1,000 files
    python benchmarks/run.py --sizes 100,1000,10000 --checkov --out results.json

For each size the corpus is generated (or reused) under --work-dir (default /tmp/iacv-bench) by
generate_corpus.py with --seed, then measured, each in a fresh subprocess:
  scan   `iac-validator scan DIR --format json -o FILE --fail-on none` (median of --repeat runs):
         wall time, files/s, resources/s, peak RSS; the report is checked against the corpus manifest
  floor  benchmarks/parse_floor.py DIR: only read + parse every file with the fastest parsers
         (CSafeLoader, json, hcl2.parses_to_tree), process start included; ours as a multiple of it
  checkov (with --checkov) from its own virtualenv (--checkov-venv, created with pip if absent: never
         install Checkov next to iac-validator, its bc-python-hcl2 overwrites python-hcl2's `hcl2`)
         restricted to the checks closest to our policies (CHECKOV_CHECKS below)
Plus the cold start (median of 5 after one warm-up) of `iac-validator --version` and of one-file
scans. Peak RSS comes from `/usr/bin/time -v` when present, else from os.wait4's rusage.
Prints a table and the budget verdicts; --out writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import generate_corpus  # noqa: E402  (sibling script)

# Checkov checks closest to our policy pack, as listed by `checkov --list` (checkov 3.3.x):
#   CKV2_AWS_41  aws_instance: "Ensure an IAM role is attached to EC2 instance"       ~ WORKLOAD-001 (Terraform only)
#   CKV_AWS_60   AWS::IAM::Role / aws_iam_role: "IAM role allows only specific services or principals to assume it"
#   CKV_AWS_61   AWS::IAM::Role / aws_iam_role: "does not allow assume role permission across all services"
#                                                                                      ~ TRUST-001 (trust policies)
#   CKV_AWS_79   EC2 instance / launch template: "Instance Metadata Service Version 1 is not enabled"
#                                                                                      (how instance credentials are served)
# Checkov has no check for sts:ExternalId on cross-account trust nor for MaxSessionDuration.
CHECKOV_CHECKS = ("CKV2_AWS_41", "CKV_AWS_60", "CKV_AWS_61", "CKV_AWS_79")
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",  # do not fetch guideline mappings from the vendor's API (no network here)
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",  # no "new version available" look-up
    "LOG_LEVEL": "ERROR",
}

TIME_BIN = "/usr/bin/time"  # GNU time; without it, os.wait4 gives the same figures

BUDGETS = {
    "version_s": 0.2,
    "one_file_s": 0.5,
    "checkov_speedup_min": 10.0,
    "floor_multiple_max": 3.0,
    "rss_10k_mb": 500.0,
    "linear_tolerance": 1.10,  # seconds per file at 10k within this factor of the 1k figure (the floor: 1.00)
}


# --------------------------------------------------------------------------- measuring processes


@dataclass
class Run:
    wall_s: float
    rss_mb: float
    returncode: int
    cpu_s: float = 0.0  # user + system of the process and its children: robust to other load on the machine
    stdout: str = ""
    stderr: str = ""


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> Run:
    """Run `cmd` once; wall time from the parent, peak RSS from /usr/bin/time -v or wait4's rusage."""
    full_env = {**os.environ, **(env or {})}
    if os.path.exists(TIME_BIN):
        with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
            timefile = tf.name
        try:
            t0 = time.perf_counter()
            proc = subprocess.run([TIME_BIN, "-v", "-o", timefile, *cmd], capture_output=True, text=True,
                                  env=full_env, cwd=cwd)
            wall = time.perf_counter() - t0
            with open(timefile, encoding="utf-8") as fh:
                report = fh.read()
        finally:
            os.unlink(timefile)
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
        rss_kb = int(match.group(1)) if match else 0
        rc_match = re.search(r"Exit status: (\d+)", report)
        rc = int(rc_match.group(1)) if rc_match else proc.returncode
        cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", report))
        return Run(wall, rss_kb / 1024, rc, cpu, proc.stdout, proc.stderr)
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, env=full_env, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Run(wall, rss, child.returncode, usage.ru_utime + usage.ru_stime, out, err)


def median_run(cmd: list[str], repeat: int, warmup: int = 0, **kw: Any) -> tuple[Run, list[float]]:
    for _ in range(warmup):
        measure(cmd, **kw)
    runs = [measure(cmd, **kw) for _ in range(repeat)]
    walls = [r.wall_s for r in runs]
    med = statistics.median(walls)
    best = min(runs, key=lambda r: abs(r.wall_s - med))
    cpu = statistics.median(r.cpu_s for r in runs)
    return Run(med, max(r.rss_mb for r in runs), best.returncode, cpu, best.stdout, best.stderr), walls


# --------------------------------------------------------------------------- corpora


def ensure_corpus(work_dir: str, files: int, seed: int) -> tuple[str, dict[str, Any]]:
    """The corpus for (files, seed) under work_dir, generated unless a complete one is already there."""
    corpus = os.path.join(work_dir, f"corpus-{files}-s{seed}")
    manifest_path = corpus + ".manifest.json"
    if os.path.isfile(manifest_path) and os.path.isdir(corpus):
        with open(manifest_path, encoding="utf-8") as fh:
            manifest = json.load(fh)
        if manifest.get("files") == files and manifest.get("seed") == seed:
            return corpus, manifest
    shutil.rmtree(corpus, ignore_errors=True)
    os.makedirs(work_dir, exist_ok=True)
    t0 = time.perf_counter()
    manifest = generate_corpus.manifest_dict(generate_corpus.generate(files, seed, corpus), files, seed)
    print(f"  generated {corpus} in {time.perf_counter() - t0:.1f} s", flush=True)
    with open(manifest_path, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
    return corpus, manifest


def small_inputs(work_dir: str) -> dict[str, str]:
    """One small CloudFormation template (5 resources) and one small Terraform module for cold starts."""
    out = os.path.join(work_dir, "one-file")
    cfn_path = os.path.join(out, "cfn", "stack.yaml")
    tf_dir = os.path.join(out, "tf")
    if not os.path.exists(cfn_path):
        import random

        unit = generate_corpus.Unit(random.Random(5), "cfn", "orders", "platform")
        generate_corpus.fill(unit, 5, dirty=False)
        os.makedirs(os.path.dirname(cfn_path), exist_ok=True)
        with open(cfn_path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(generate_corpus.render_cfn_yaml(generate_corpus.cfn_template(unit), True, "small stack"))
        unit = generate_corpus.Unit(random.Random(5), "tf", "orders", "platform")
        unit.has_iam_file = False
        generate_corpus.fill(unit, 5, dirty=False)
        os.makedirs(tf_dir, exist_ok=True)
        files = generate_corpus.tf_files(unit)
        files.pop("outputs.tf", None)
        files["main.tf"] = "\n".join([files["main.tf"], files.pop("versions.tf", "")]).rstrip("\n") + "\n"
        for name, text in files.items():
            with open(os.path.join(tf_dir, name), "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
    return {"cfn_file": cfn_path, "tf_file": os.path.join(tf_dir, "main.tf"), "tf_module": tf_dir}


# --------------------------------------------------------------------------- tools


def our_command() -> list[str]:
    """The installed console script next to this interpreter (not a pyenv shim, which adds its own start-up)."""
    found = shutil.which("iac-validator", path=os.path.dirname(sys.executable)) or shutil.which("iac-validator")
    return [found] if found else [sys.executable, "-m", "validator"]


def checkov_bin(venv: str, install: bool) -> str | None:
    exe = os.path.join(venv, "bin", "checkov")
    if os.path.exists(exe):
        return exe
    if not install:
        return None
    print(f"  creating {venv} and installing checkov (a few minutes) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "checkov"], check=True)
    except subprocess.CalledProcessError as exc:
        print(f"  checkov installation failed: {exc}", flush=True)
        return None
    return exe if os.path.exists(exe) else None


def version_of(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, **CHECKOV_ENV})
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[-1] if lines else "?"


def git_state() -> str:
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "validator", "policies"],
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"
    return f"{head}{' + uncommitted changes in validator/ or policies/' if dirty else ''}"


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("iac-validator", "python-hcl2", "cfn-lint", "PyYAML", "lark"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            mem = fh.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


# --------------------------------------------------------------------------- one size


@dataclass
class SizeResult:
    files: int
    bytes: int
    resources: int
    scan_s: float
    scan_cpu_s: float
    scan_runs_s: list[float]
    scan_rss_mb: float
    files_per_s: float
    resources_per_s: float
    report_check: dict[str, Any]
    floor_s: float | None = None
    floor_cpu_s: float | None = None
    floor_rss_mb: float | None = None
    floor_detail: dict[str, Any] = field(default_factory=dict)
    floor_multiple: float | None = None
    checkov_s: float | None = None
    checkov_cpu_s: float | None = None
    checkov_rss_mb: float | None = None
    checkov_failed: int | None = None
    checkov_passed: int | None = None
    ours_over_checkov: float | None = None
    checkov_note: str = ""
    loadavg: list[float] = field(default_factory=list)


def check_report(path: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """Compare the scan's JSON report with the corpus manifest: every file scanned, the expected findings."""
    with open(path, encoding="utf-8") as fh:
        report = json.load(fh)
    summary = report["summary"]
    failing: dict[str, set[tuple[str, str]]] = {}  # findings are per violation; the manifest counts resources
    for finding in report.get("findings", []):
        key = (finding.get("location", {}).get("file", ""), finding.get("resource", {}).get("id", ""))
        failing.setdefault(finding.get("policy_id", "?"), set()).add(key)
    # only the policies the generator plants violations for are compared; the others are listed
    found = {pid: len(keys) for pid, keys in sorted(failing.items()) if pid in manifest["expected_fail"]}
    other = {pid: len(keys) for pid, keys in sorted(failing.items()) if pid not in manifest["expected_fail"]}
    expected = {k: v for k, v in sorted(manifest["expected_fail"].items()) if v}
    # The report may count more than the manifest's resources (provider blocks, template parameters and
    # outputs, depending on the validator version): informational, not part of `ok`.
    resources_expected = manifest["resources"]["total"]
    ok = summary["files"]["scanned"] == manifest["files"] and found == expected and not summary["errors"]
    return {"ok": ok, "files_scanned": summary["files"]["scanned"], "resources": summary["resources"],
            "resources_expected": resources_expected, "findings": found, "findings_expected": expected,
            "other_policies_failing_resources": other, "policies": summary.get("policies"),
            "unresolved": summary.get("unresolved"), "errors": summary["errors"]}


def bench_size(args: argparse.Namespace, size: int, ours: list[str], checkov: str | None) -> SizeResult:
    corpus, manifest = ensure_corpus(args.work_dir, size, args.seed)
    report_path = os.path.join(args.work_dir, f"report-{size}.json")
    resources = manifest["resources"]["total"]
    loadavg = [round(x, 2) for x in os.getloadavg()]
    print(f"[{size} files] {manifest['bytes'] / 1e6:.1f} MB, {resources} resources, load average {loadavg[0]}", flush=True)

    repeat = args.repeat if size < 10000 else 1
    scan, walls = median_run([*ours, "scan", corpus, "--format", "json", "-o", report_path, "--fail-on", "none"],
                             repeat, warmup=1 if size <= 1000 else 0)
    if scan.returncode != 0:
        print(f"  scan exited {scan.returncode}: {scan.stderr.strip()[-500:]}", flush=True)
    check = check_report(report_path, manifest)
    print(f"  ours:    {scan.wall_s:7.2f} s  cpu {scan.cpu_s:7.2f} s  (runs {', '.join(f'{w:.2f}' for w in walls)})  {scan.rss_mb:6.0f} MB  "
          f"report {'matches the manifest' if check['ok'] else 'DIFFERS: ' + json.dumps(check)}", flush=True)
    result = SizeResult(
        files=manifest["files"], bytes=manifest["bytes"], resources=resources, scan_s=round(scan.wall_s, 3),
        scan_cpu_s=round(scan.cpu_s, 2),
        scan_runs_s=[round(w, 3) for w in walls], scan_rss_mb=round(scan.rss_mb, 1),
        files_per_s=round(manifest["files"] / scan.wall_s, 1), resources_per_s=round(resources / scan.wall_s, 1),
        report_check=check, loadavg=loadavg,
    )

    floor, fwalls = median_run([sys.executable, os.path.join(HERE, "parse_floor.py"), corpus], repeat)
    try:
        result.floor_detail = json.loads(floor.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        result.floor_detail = {"error": floor.stderr.strip()[-300:]}
    result.floor_s, result.floor_rss_mb = round(floor.wall_s, 3), round(floor.rss_mb, 1)
    result.floor_cpu_s = round(floor.cpu_s, 2)
    result.floor_multiple = round(scan.wall_s / floor.wall_s, 2)
    print(f"  floor:   {floor.wall_s:7.2f} s  cpu {floor.cpu_s:7.2f} s  (runs {', '.join(f'{w:.2f}' for w in fwalls)})  {floor.rss_mb:6.0f} MB  "
          f"ours = {result.floor_multiple}x floor", flush=True)

    if checkov and size in args.checkov_sizes:
        out_json = os.path.join(args.work_dir, f"checkov-{size}.json")
        cmd = [checkov, "-d", corpus, "--framework", "cloudformation,terraform", "--check", ",".join(CHECKOV_CHECKS),
               "--quiet", "--compact", "-o", "json", "--skip-download"]
        run = measure(["/bin/sh", "-c", " ".join(_q(c) for c in cmd) + f" > {_q(out_json)}"], env=CHECKOV_ENV)
        result.checkov_s, result.checkov_rss_mb = round(run.wall_s, 3), round(run.rss_mb, 1)
        result.checkov_cpu_s = round(run.cpu_s, 2)
        result.ours_over_checkov = round(scan.wall_s / run.wall_s, 4)
        result.checkov_failed, result.checkov_passed = _checkov_counts(out_json)
        if run.returncode not in (0, 1):
            result.checkov_note = f"exit {run.returncode}: {run.stderr.strip()[-300:]}"
        print(f"  checkov: {run.wall_s:7.2f} s  cpu {run.cpu_s:7.2f} s  {run.rss_mb:6.0f} MB  failed {result.checkov_failed} passed "
              f"{result.checkov_passed}  ours/checkov = {result.ours_over_checkov} "
              f"({run.wall_s / scan.wall_s:.1f}x faster){'  ' + result.checkov_note if result.checkov_note else ''}",
              flush=True)
    return result


def _q(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _checkov_counts(path: str) -> tuple[int | None, int | None]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None, None
    reports = data if isinstance(data, list) else [data]
    failed = passed = 0
    for rep in reports:
        summary = rep.get("summary", {}) if isinstance(rep, dict) else {}
        failed += int(summary.get("failed", 0))
        passed += int(summary.get("passed", 0))
    return failed, passed


# --------------------------------------------------------------------------- cold start


def cold_start(args: argparse.Namespace, ours: list[str]) -> dict[str, Any]:
    inputs = small_inputs(args.work_dir)
    out = os.path.join(args.work_dir, "one-file-report.json")
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "iac-validator --version": [*ours, "--version"],
        "scan one CloudFormation file (5 resources)": [*ours, "scan", inputs["cfn_file"], "--format", "json", "-o", out,
                                                       "--fail-on", "none"],
        "scan one Terraform file (main.tf)": [*ours, "scan", inputs["tf_file"], "--format", "json", "-o", out,
                                              "--fail-on", "none"],
        "scan one Terraform module (2 files)": [*ours, "scan", inputs["tf_module"], "--format", "json", "-o", out,
                                                "--fail-on", "none"],
    }
    shim = shutil.which("iac-validator")
    if shim and shim != ours[0]:
        cases[f"iac-validator --version via {shim}"] = [shim, "--version"]
    results: dict[str, Any] = {}
    for name, cmd in cases.items():
        run, walls = median_run(cmd, 5, warmup=1)
        results[name] = {"median_s": round(run.wall_s, 4), "cpu_s": round(run.cpu_s, 4), "runs_s": [round(w, 4) for w in walls],
                         "rss_mb": round(run.rss_mb, 1), "returncode": run.returncode}
        print(f"  {name:<55} {run.wall_s * 1000:7.0f} ms  cpu {run.cpu_s * 1000:5.0f} ms  {run.rss_mb:5.0f} MB", flush=True)
    return results


# --------------------------------------------------------------------------- verdicts and table


def verdicts(results: dict[int, SizeResult], cold: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []

    def row(name: str, ok: bool | None, detail: str) -> None:
        rows.append((name, "n/a" if ok is None else "MET" if ok else "NOT MET", detail))

    v = cold.get("iac-validator --version", {}).get("median_s")
    row("--version < 0.2 s", None if v is None else v < BUDGETS["version_s"], f"{v:.3f} s" if v is not None else "")
    one = [(k, c["median_s"]) for k, c in cold.items() if k.startswith("scan one")]
    for name, sec in one:
        row(f"{name} < 0.5 s", sec < BUDGETS["one_file_s"], f"{sec:.3f} s")
    r1k = results.get(1000)
    if r1k:
        if r1k.checkov_s:
            speed = r1k.checkov_s / r1k.scan_s
            row("1,000 files >= 10x faster than Checkov", speed >= BUDGETS["checkov_speedup_min"],
                f"{r1k.scan_s:.2f} s vs {r1k.checkov_s:.2f} s = {speed:.1f}x")
        else:
            row("1,000 files >= 10x faster than Checkov", None, "Checkov not measured")
        row("1,000 files within 3x of the parse floor", (r1k.floor_multiple or 99) <= BUDGETS["floor_multiple_max"],
            f"{r1k.scan_s:.2f} s vs floor {r1k.floor_s:.2f} s = {r1k.floor_multiple}x")
    r10k = results.get(10000)
    if r10k and r1k:
        per1, per10 = r1k.scan_s / r1k.files, r10k.scan_s / r10k.files
        row("10,000 files linear", per10 <= per1 * BUDGETS["linear_tolerance"],
            f"{per1 * 1000:.1f} ms/file at 1k, {per10 * 1000:.1f} ms/file at 10k ({per10 / per1:.2f}x)")
        row("10,000 files peak RSS < 500 MB", r10k.scan_rss_mb < BUDGETS["rss_10k_mb"], f"{r10k.scan_rss_mb:.0f} MB")
    else:
        row("10,000 files linear, peak RSS < 500 MB", None, "10,000 files not measured")
    return rows


def print_table(results: dict[int, SizeResult]) -> None:
    head = ("files", "MB", "resources", "ours s", "cpu s", "files/s", "res/s", "RSS MB", "floor s", "x floor",
            "checkov s", "ckv cpu", "ckv RSS", "ours/ckv")
    rows = []
    for size in sorted(results):
        r = results[size]
        rows.append((str(r.files), f"{r.bytes / 1e6:.1f}", str(r.resources), f"{r.scan_s:.2f}", f"{r.scan_cpu_s:.2f}",
                     f"{r.files_per_s:.0f}", f"{r.resources_per_s:.0f}", f"{r.scan_rss_mb:.0f}", f"{r.floor_s:.2f}",
                     f"{r.floor_multiple:.2f}", f"{r.checkov_s:.1f}" if r.checkov_s else "-",
                     f"{r.checkov_cpu_s:.1f}" if r.checkov_cpu_s else "-", f"{r.checkov_rss_mb:.0f}" if r.checkov_rss_mb else "-",
                     f"{r.ours_over_checkov:.3f}" if r.ours_over_checkov else "-"))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="comma-separated corpus sizes in files (default 100,1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per corpus scan and floor, median reported "
                                                                "(1 at 10,000 files and more)")
    parser.add_argument("--work-dir", default="/tmp/iacv-bench")
    parser.add_argument("--checkov", action="store_true", help="also time Checkov (own virtualenv)")
    parser.add_argument("--checkov-sizes", default=None, help="sizes to run Checkov on (default: 100,1000 ∩ --sizes)")
    parser.add_argument("--checkov-venv", default="/tmp/checkov-venv")
    parser.add_argument("--max-1k-seconds", type=float, default=60.0,
                        help="skip sizes above 1,000 files when the 1,000-file scan took longer (default 60)")
    parser.add_argument("--out", help="write all results as JSON to this file")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    args.checkov_sizes = ({int(s) for s in args.checkov_sizes.split(",")} if args.checkov_sizes
                          else {s for s in sizes if s <= 1000})

    ours = our_command()
    info = {"machine": machine(), "packages": package_versions(), "git": git_state(), "command": ours, "seed": args.seed,
            "budgets": BUDGETS, "checkov_checks": list(CHECKOV_CHECKS)}
    print(f"machine: {info['machine']['cores']} cores, {info['machine']['cpu']}, Python {info['machine']['python']}; "
          f"load average {info['machine']['loadavg_at_start']}")
    print(f"packages: {info['packages']}; iac-validator source: {info['git']}")
    checkov = checkov_bin(args.checkov_venv, install=True) if args.checkov else None
    if args.checkov:
        info["checkov_version"] = version_of([checkov, "--version"]) if checkov else "not installed"
        print(f"checkov: {info['checkov_version']} ({checkov or 'installation failed'})")

    print("cold start (median of 5 after one warm-up):")
    cold = cold_start(args, ours)
    results: dict[int, SizeResult] = {}
    for size in sizes:
        if size > 1000 and 1000 in results and results[1000].scan_s >= args.max_1k_seconds:
            print(f"[{size} files] skipped: the 1,000-file scan took {results[1000].scan_s:.1f} s "
                  f"(>= {args.max_1k_seconds:.0f} s)")
            continue
        results[size] = bench_size(args, size, ours, checkov)

    print()
    print_table(results)
    print()
    table = verdicts(results, cold)
    width = max(len(name) for name, _, _ in table)
    for name, verdict, detail in table:
        print(f"{name:<{width}}  {verdict:<8} {detail}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({**info, "cold_start": cold, "sizes": {str(k): asdict(v) for k, v in results.items()},
                       "verdicts": [{"budget": n, "verdict": v, "detail": d} for n, v, d in table]}, fh, indent=2)
        print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
