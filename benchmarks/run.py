"""Benchmark iac-validator on generated corpora: throughput, memory, cold start, parse floor, Checkov.

    python benchmarks/run.py                              # 100 and 1,000 files
    python benchmarks/run.py --sizes 100,1000,10000 --checkov --out results.json
    python benchmarks/run.py --sizes 1000 --jobs 2        # pass --jobs 2 to our scans (default: not passed)
    python benchmarks/run.py --sizes 1000 --checkov --checkov-pairs 3   # Checkov verdict: median of 3 back-to-back pairs

For each size the corpus is generated (or reused) under --work-dir (default /tmp/iacv-bench) by
generate_corpus.py with --seed, then measured, each in a fresh subprocess:
  scan   `iac-validator scan DIR --format json -o FILE --fail-on none --no-cache [--jobs N]` (median of
         --repeat runs after one warm-up): wall time, CPU of the whole process tree, files/s, resources/s,
         peak memory; the report is checked against the corpus manifest. --no-cache: every scan is cold
         (the CLI's result cache is on by default and would answer repeated scans from disk).
  jobs 1 the same scan with `--jobs 1` (one process), also checked; its report must equal the other one
  floor  benchmarks/parse_floor.py DIR: only read + parse every file with the fastest parsers
         (CSafeLoader, json, hcl2.parses_to_tree), process start included; ours as a multiple of it
  cache  a re-scan with a warm cache: one scan with `--cache-dir` a fresh empty directory (cold, fills
         it), then the same scan again (warm); both walls, the speed-up, the "H of U unit(s)" note of
         --verbose, and the warm report must equal the cold one
  checkov (with --checkov) from its own virtualenv (--checkov-venv, created with pip if absent: never
         install Checkov next to iac-validator, its bc-python-hcl2 overwrites python-hcl2's `hcl2`)
         restricted to the checks closest to our policies (CHECKOV_CHECKS below)
Plus the cold start of `iac-validator --version` and of one-file scans (also --no-cache): the
median of 11 round-robin rounds (each case once per round) after one warm-up round.

Memory: "RSS max 1 proc" is the peak of the largest single process (`/usr/bin/time -v` when present,
else os.wait4's rusage: both see only one process at a time, the scan's workers included one by one).
"RSS all procs" is the peak of the sum of VmRSS over the measured process and all its descendants,
polled from /proc every 50 ms by TreeSampler (at least the single-process peak, which a short run
may finish before the first sample). Forked workers share pages with their parent until they write
them, and VmRSS counts a shared page in every process, so this sum can overstate; the sum of PSS
(shared pages split between their users), polled every ~0.5 s because it costs more to read, is kept
in the JSON and printed as a hint. CPU is user + system from the same rusage, which includes every
descendant the measured process waited for (a worker pool's processes are).
Prints the measurements, a table and the budget verdicts; --out writes everything as JSON.
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
import threading
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


class TreeSampler(threading.Thread):
    """Polls /proc every `interval` seconds for the memory of a process tree: the sum of VmRSS over `root`
    (unless include_root is False, for a wrapper such as /usr/bin/time) and all its descendants.

    Keeps the peak of that sum, the peak of the sum of PSS (read every `pss_every` samples: smaps_rollup
    walks the page tables, about 1 ms per 200 MB), the most processes seen at once, and the last CPU time
    seen per process (a lower bound of the tree's CPU, to cross-check rusage). Pure stdlib, Linux only:
    elsewhere it finds nothing and the peaks stay 0."""

    CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    HAS_CHILDREN_FILE = os.path.exists(f"/proc/self/task/{os.getpid()}/children")

    def __init__(self, root: int, include_root: bool = True, interval: float = 0.05, pss_every: int = 10) -> None:
        super().__init__(daemon=True)
        self.root, self.include_root, self.interval, self.pss_every = root, include_root, interval, pss_every
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.max_procs = 0
        self.samples = 0
        self.cpu_ticks: dict[int, int] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self._halt.wait(self.interval):
                return

    def stop(self) -> None:
        self._halt.set()
        self.join()

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_ticks.values()) / self.CLK_TCK

    def sample(self) -> None:
        pids = self.tree()
        rss = 0
        for pid in pids:
            kb = _vmrss_kb(pid)
            if kb is None:
                continue  # gone since it was listed
            rss += kb
            ticks = _cpu_ticks(pid)
            if ticks is not None:
                self.cpu_ticks[pid] = ticks
        if self.samples % self.pss_every == 0:
            self.peak_pss_kb = max(self.peak_pss_kb, sum(_pss_kb(pid) for pid in pids))
        self.samples += 1
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.max_procs = max(self.max_procs, len(pids))

    def tree(self) -> list[int]:
        """The measured pids: root (if included) and every descendant, breadth first."""
        table = None if self.HAS_CHILDREN_FILE else _children_table()
        out: list[int] = []
        seen, frontier = {self.root}, [self.root]
        while frontier:
            pid = frontier.pop(0)
            if pid != self.root or self.include_root:
                out.append(pid)
            for kid in _children(pid) if table is None else table.get(pid, []):
                if kid not in seen:
                    seen.add(kid)
                    frontier.append(kid)
        return out


def _children(pid: int) -> list[int]:
    """The children of every thread of `pid` (a pool's workers may be started by another thread)."""
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                out.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            pass
    return out


def _children_table() -> dict[int, list[int]]:
    """ppid → pids from every /proc/PID/stat: the fallback for kernels without the children file."""
    table: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields:
                table.setdefault(int(fields[1]), []).append(int(name))
    return table


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (which may hold spaces): [state, ppid, ...]."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def _cpu_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields and len(fields) > 12 else None  # utime + stime


def _vmrss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return 0  # a zombie has no memory left


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class Run:
    wall_s: float
    rss_mb: float  # peak RSS of the largest single process (GNU time / rusage)
    returncode: int
    cpu_s: float = 0.0  # user + system of the process and its waited-for descendants: robust to other load
    stdout: str = ""
    stderr: str = ""
    rss_all_mb: float = 0.0  # peak of the sum of VmRSS over the whole process tree (TreeSampler)
    pss_all_mb: float = 0.0  # peak of the sum of PSS over the tree, sampled less often (informational)
    procs: int = 0  # most processes of the tree alive at one sample
    cpu_sampled_s: float = 0.0  # CPU seen in /proc: a lower bound, to cross-check cpu_s


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> Run:
    """Run `cmd` once: wall time from the parent; CPU and the largest process's peak RSS from
    /usr/bin/time -v or wait4's rusage; the whole tree's peak RSS from a TreeSampler."""
    full_env = {**os.environ, **(env or {})}
    use_time = os.path.exists(TIME_BIN)
    timefile = ""
    if use_time:
        fd, timefile = tempfile.mkstemp(suffix=".time")
        os.close(fd)
    argv = [TIME_BIN, "-v", "-o", timefile, *cmd] if use_time else cmd
    try:
        with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
            t0 = time.perf_counter()
            child = subprocess.Popen(argv, stdout=fo, stderr=fe, text=True, env=full_env, cwd=cwd)
            sampler = TreeSampler(child.pid, include_root=not use_time)  # GNU time itself is not measured
            sampler.start()
            try:
                _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
            except BaseException:
                child.kill()
                raise
            finally:
                wall = time.perf_counter() - t0
                sampler.stop()
            child.returncode = os.waitstatus_to_exitcode(status)
            fo.seek(0)
            fe.seek(0)
            out, err = fo.read(), fe.read()
        if use_time:
            with open(timefile, encoding="utf-8") as fh:
                report = fh.read()
    finally:
        if timefile:
            os.unlink(timefile)
    if use_time:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
        rss = int(match.group(1)) / 1024 if match else 0.0
        rc_match = re.search(r"Exit status: (\d+)", report)
        rc = int(rc_match.group(1)) if rc_match else child.returncode
        cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", report))
    else:
        rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        rc, cpu = child.returncode, usage.ru_utime + usage.ru_stime
    # The tree's peak is at least its largest process's: a run shorter than one poll has no sample.
    rss_all = max(sampler.peak_rss_kb / 1024, rss)
    return Run(wall, rss, rc, cpu, out, err, rss_all, sampler.peak_pss_kb / 1024, sampler.max_procs, sampler.cpu_s)


def median_run(cmd: list[str], repeat: int, warmup: int = 0, **kw: Any) -> tuple[Run, list[float]]:
    """The median wall and CPU of `repeat` runs, the highest memory figures of any of them."""
    for _ in range(warmup):
        measure(cmd, **kw)
    runs = [measure(cmd, **kw) for _ in range(repeat)]
    walls = [r.wall_s for r in runs]
    med = statistics.median(walls)
    best = min(runs, key=lambda r: abs(r.wall_s - med))
    return Run(med, max(r.rss_mb for r in runs), best.returncode, statistics.median(r.cpu_s for r in runs),
               best.stdout, best.stderr, max(r.rss_all_mb for r in runs), max(r.pss_all_mb for r in runs),
               max(r.procs for r in runs), statistics.median(r.cpu_sampled_s for r in runs)), walls


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


def our_scan(ours: list[str], target: str, report: str, *extra: str) -> list[str]:
    """Our scan of `target` to a JSON report; `extra` adds the cache and --jobs options."""
    return [*ours, "scan", target, "--format", "json", "-o", report, "--fail-on", "none", *extra]


def jobs_options(args: argparse.Namespace) -> list[str]:
    """--jobs as given to run.py; nothing (the tool's default, one worker per CPU) when not given."""
    return ["--jobs", str(args.jobs)] if args.jobs else []


def cpus() -> int:
    """What the tool's default --jobs resolves to (validator/execute.py default_jobs)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def jobs_label(args: argparse.Namespace) -> str:
    return f"jobs {args.jobs}" if args.jobs else f"default jobs = {cpus()}"


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
    # our scan, --no-cache, with run.py's --jobs (None: not passed, the tool's default of one per CPU)
    jobs: int | None
    scan_s: float
    scan_cpu_s: float
    scan_runs_s: list[float]
    scan_rss_mb: float  # the largest single process
    files_per_s: float
    resources_per_s: float
    report_check: dict[str, Any]
    scan_rss_all_mb: float = 0.0  # all processes (the memory budget's figure)
    scan_pss_all_mb: float = 0.0
    scan_procs: int = 0
    # our scan, --no-cache --jobs 1
    jobs1_s: float | None = None
    jobs1_cpu_s: float | None = None
    jobs1_runs_s: list[float] = field(default_factory=list)
    jobs1_rss_mb: float | None = None
    jobs1_rss_all_mb: float | None = None
    jobs1_pss_all_mb: float | None = None
    jobs1_files_per_s: float | None = None
    jobs1_resources_per_s: float | None = None
    jobs1_report_check: dict[str, Any] = field(default_factory=dict)
    jobs1_report_equal: bool | None = None  # the --jobs 1 report equals the default-jobs one (parsed JSON)
    floor_s: float | None = None
    floor_cpu_s: float | None = None
    floor_rss_mb: float | None = None
    floor_detail: dict[str, Any] = field(default_factory=dict)
    floor_multiple: float | None = None  # default-jobs scan wall ÷ floor wall
    jobs1_floor_multiple: float | None = None
    # re-scan with a warm cache: cold (fresh --cache-dir) then warm (same dir), default jobs
    cache_cold_s: float | None = None
    cache_cold_cpu_s: float | None = None
    cache_warm_s: float | None = None
    cache_warm_cpu_s: float | None = None
    cache_speedup: float | None = None
    cache_cold_units_read: list[int] = field(default_factory=list)  # [read from the cache, units] on the cold run
    cache_warm_units_read: list[int] = field(default_factory=list)  # the same on the warm run
    cache_warm_equals_cold: bool | None = None
    cache_cold_equals_no_cache: bool | None = None  # the cold run's report equals the --no-cache report
    cache_note: str = ""
    checkov_s: float | None = None
    checkov_cpu_s: float | None = None
    checkov_rss_mb: float | None = None
    checkov_rss_all_mb: float | None = None
    checkov_pss_all_mb: float | None = None
    checkov_procs: int | None = None
    checkov_failed: int | None = None
    checkov_passed: int | None = None
    ours_over_checkov: float | None = None  # default-jobs scan wall ÷ Checkov wall
    jobs1_over_checkov: float | None = None
    # --checkov-pairs: (ours wall, Checkov wall) measured back to back; the verdict takes the median ratio
    checkov_pairs: list[tuple[float, float]] = field(default_factory=list)
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


def load_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        return {"unreadable report": str(exc)}


def report_diff(a_path: str, b_path: str) -> str:
    """'' when the two JSON reports are equal once parsed, else where they first differ."""
    a, b = load_json(a_path), load_json(b_path)
    if a == b:
        return ""
    return _first_difference(a, b, "$")


def _first_difference(a: Any, b: Any, where: str) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in a or key not in b:
                return f"{where}.{key}: only in the {'second' if key not in a else 'first'} report"
            if a[key] != b[key]:
                return _first_difference(a[key], b[key], f"{where}.{key}")
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
    return f"{where}: {json.dumps(a)[:200]} vs {json.dumps(b)[:200]}"


UNITS_NOTE = re.compile(r"result cache .*: (\d+) of (\d+) unit\(s\) unchanged")


def _units_read(stderr: str) -> list[int]:
    match = UNITS_NOTE.search(stderr)
    return [int(match.group(1)), int(match.group(2))] if match else []


def _mem(run: Run) -> str:
    """Peak memory: the largest single process, the whole tree (and the tree's PSS, when sampled)."""
    pss = f", PSS {run.pss_all_mb:.0f} MB" if run.pss_all_mb else ""
    return (f"RSS {run.rss_mb:.0f} MB max 1 proc, {run.rss_all_mb:.0f} MB all procs "
            f"({run.procs} proc{'s' if run.procs != 1 else ''} at most{pss})")


def _cpu_check(name: str, run: Run) -> None:
    """Warn when rusage saw less CPU than /proc did: a descendant that was not waited for."""
    if run.cpu_sampled_s > run.cpu_s * 1.05 + 0.2:
        print(f"  WARNING {name}: rusage CPU {run.cpu_s:.2f} s < {run.cpu_sampled_s:.2f} s seen in /proc "
              "(a process of the tree was not waited for; its CPU is missing)", flush=True)


def bench_size(args: argparse.Namespace, size: int, ours: list[str], checkov: str | None) -> SizeResult:
    corpus, manifest = ensure_corpus(args.work_dir, size, args.seed)
    resources = manifest["resources"]["total"]
    loadavg = [round(x, 2) for x in os.getloadavg()]
    print(f"[{size} files] {manifest['bytes'] / 1e6:.1f} MB, {resources} resources, load average {loadavg[0]}", flush=True)
    repeat = args.repeat if size < 10000 else 1
    warmup = 1 if size <= 1000 else 0

    def our_run(label: str, report_path: str, *extra: str) -> tuple[Run, list[float], dict[str, Any]]:
        run, walls = median_run(our_scan(ours, corpus, report_path, "--no-cache", *extra), repeat, warmup=warmup)
        if run.returncode != 0:
            print(f"  scan exited {run.returncode}: {run.stderr.strip()[-500:]}", flush=True)
        check = check_report(report_path, manifest)
        print(f"  {label}: {run.wall_s:7.2f} s  cpu {run.cpu_s:7.2f} s  (runs {', '.join(f'{w:.2f}' for w in walls)})  "
              f"{manifest['files'] / run.wall_s:5.0f} files/s  {resources / run.wall_s:6.0f} resources/s  {_mem(run)}  "
              f"report {'matches the manifest' if check['ok'] else 'DIFFERS: ' + json.dumps(check)}", flush=True)
        _cpu_check(label, run)
        return run, walls, check

    report_path = os.path.join(args.work_dir, f"report-{size}.json")
    scan, walls, check = our_run(f"ours ({jobs_label(args)})", report_path, *jobs_options(args))
    result = SizeResult(
        files=manifest["files"], bytes=manifest["bytes"], resources=resources, jobs=args.jobs,
        scan_s=round(scan.wall_s, 3), scan_cpu_s=round(scan.cpu_s, 2),
        scan_runs_s=[round(w, 3) for w in walls], scan_rss_mb=round(scan.rss_mb, 1),
        files_per_s=round(manifest["files"] / scan.wall_s, 1), resources_per_s=round(resources / scan.wall_s, 1),
        report_check=check, scan_rss_all_mb=round(scan.rss_all_mb, 1), scan_pss_all_mb=round(scan.pss_all_mb, 1),
        scan_procs=scan.procs, loadavg=loadavg,
    )

    if args.jobs == 1:  # the run above already is the one-process run
        one, walls1, check1, diff1 = scan, walls, check, ""
        print("  ours (jobs 1): the run above (--jobs 1)", flush=True)
    else:
        report1 = os.path.join(args.work_dir, f"report-{size}-jobs1.json")
        one, walls1, check1 = our_run("ours (jobs 1)", report1, "--jobs", "1")
        diff1 = report_diff(report_path, report1)
        print(f"  jobs 1 report {'identical to the ' + jobs_label(args) + ' report' if not diff1 else 'DIFFERS from the ' + jobs_label(args) + ' report at ' + diff1}",
              flush=True)
    result.jobs1_s, result.jobs1_cpu_s = round(one.wall_s, 3), round(one.cpu_s, 2)
    result.jobs1_runs_s = [round(w, 3) for w in walls1]
    result.jobs1_rss_mb, result.jobs1_rss_all_mb = round(one.rss_mb, 1), round(one.rss_all_mb, 1)
    result.jobs1_pss_all_mb = round(one.pss_all_mb, 1)
    result.jobs1_files_per_s = round(manifest["files"] / one.wall_s, 1)
    result.jobs1_resources_per_s = round(resources / one.wall_s, 1)
    result.jobs1_report_check, result.jobs1_report_equal = check1, not diff1

    floor, fwalls = median_run([sys.executable, os.path.join(HERE, "parse_floor.py"), corpus], repeat)
    try:
        result.floor_detail = json.loads(floor.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        result.floor_detail = {"error": floor.stderr.strip()[-300:]}
    result.floor_s, result.floor_rss_mb = round(floor.wall_s, 3), round(floor.rss_mb, 1)
    result.floor_cpu_s = round(floor.cpu_s, 2)
    result.floor_multiple = round(scan.wall_s / floor.wall_s, 2)
    result.jobs1_floor_multiple = round(one.wall_s / floor.wall_s, 2)
    print(f"  floor:   {floor.wall_s:7.2f} s  cpu {floor.cpu_s:7.2f} s  (runs {', '.join(f'{w:.2f}' for w in fwalls)})  "
          f"{floor.rss_mb:6.0f} MB  ours = {result.floor_multiple}x floor ({jobs_label(args)})"
          + (f", {result.jobs1_floor_multiple}x (jobs 1)" if args.jobs != 1 else "")
          + f"; by CPU {scan.cpu_s / floor.cpu_s:.2f}x" + (f" and {one.cpu_s / floor.cpu_s:.2f}x" if args.jobs != 1 else ""),
          flush=True)

    warm_cache(args, result, ours, corpus, report_path)

    if checkov and size in args.checkov_sizes:
        out_json = os.path.join(args.work_dir, f"checkov-{size}.json")
        cmd = [checkov, "-d", corpus, "--framework", "cloudformation,terraform", "--check", ",".join(CHECKOV_CHECKS),
               "--quiet", "--compact", "-o", "json", "--skip-download"]
        # exec: the shell is replaced by Checkov, so the measured tree is Checkov and its workers
        run = measure(["/bin/sh", "-c", "exec " + " ".join(_q(c) for c in cmd) + f" > {_q(out_json)}"], env=CHECKOV_ENV)
        result.checkov_s, result.checkov_rss_mb = round(run.wall_s, 3), round(run.rss_mb, 1)
        result.checkov_rss_all_mb, result.checkov_pss_all_mb = round(run.rss_all_mb, 1), round(run.pss_all_mb, 1)
        result.checkov_procs = run.procs
        result.checkov_cpu_s = round(run.cpu_s, 2)
        result.ours_over_checkov = round(scan.wall_s / run.wall_s, 4)
        result.jobs1_over_checkov = round(one.wall_s / run.wall_s, 4)
        result.checkov_failed, result.checkov_passed = _checkov_counts(out_json)
        if run.returncode not in (0, 1):
            result.checkov_note = f"exit {run.returncode}: {run.stderr.strip()[-300:]}"
        print(f"  checkov: {run.wall_s:7.2f} s  cpu {run.cpu_s:7.2f} s  {_mem(run)}  failed {result.checkov_failed} "
              f"passed {result.checkov_passed}{'  ' + result.checkov_note if result.checkov_note else ''}", flush=True)
        _cpu_check("checkov", run)
        print(f"  Checkov ÷ ours: {run.wall_s / scan.wall_s:.1f}x ({jobs_label(args)}), {run.wall_s / one.wall_s:.1f}x "
              f"(jobs 1); by CPU {run.cpu_s / scan.cpu_s:.1f}x and {run.cpu_s / one.cpu_s:.1f}x", flush=True)
        # A shared machine drifts over minutes: more pairs, each ours-then-Checkov back to back.
        result.checkov_pairs = [(round(scan.wall_s, 3), round(run.wall_s, 3))]
        if args.checkov_pairs > 1:  # the first pair too, back to back: ours right after that Checkov run
            after = measure(our_scan(ours, corpus, report_path, "--no-cache", *jobs_options(args)))
            result.checkov_pairs = [(round(after.wall_s, 3), round(run.wall_s, 3))]
            print(f"  pair: Checkov {run.wall_s:.2f} s, ours {after.wall_s:.2f} s = {run.wall_s / after.wall_s:.1f}x", flush=True)
        for _ in range(args.checkov_pairs - 1):
            ours_run = measure(our_scan(ours, corpus, report_path, "--no-cache", *jobs_options(args)))
            checkov_run = measure(["/bin/sh", "-c", "exec " + " ".join(_q(c) for c in cmd) + f" > {_q(out_json)}"], env=CHECKOV_ENV)
            result.checkov_pairs.append((round(ours_run.wall_s, 3), round(checkov_run.wall_s, 3)))
            print(f"  pair: ours {ours_run.wall_s:.2f} s, Checkov {checkov_run.wall_s:.2f} s = "
                  f"{checkov_run.wall_s / ours_run.wall_s:.1f}x", flush=True)
        if len(result.checkov_pairs) > 1:
            ratios = [c / o for o, c in result.checkov_pairs]
            print(f"  Checkov ÷ ours over {len(ratios)} pairs: median {statistics.median(ratios):.1f}x "
                  f"(min {min(ratios):.1f}x, max {max(ratios):.1f}x)", flush=True)
    return result


def warm_cache(args: argparse.Namespace, result: SizeResult, ours: list[str], corpus: str, no_cache_report: str) -> None:
    """A scan with a fresh cache directory (cold, fills it), then the same scan again (warm)."""
    cache_dir = tempfile.mkdtemp(prefix=f"cache-{result.files}-", dir=args.work_dir)
    cold_report = os.path.join(args.work_dir, f"report-{result.files}-cache-cold.json")
    warm_report = os.path.join(args.work_dir, f"report-{result.files}-cache-warm.json")
    try:
        # --verbose only adds notes on stderr (the JSON report does not change): the units read from the cache
        opts = ["--cache-dir", cache_dir, "--verbose", *jobs_options(args)]
        cold = measure(our_scan(ours, corpus, cold_report, *opts))
        warm = measure(our_scan(ours, corpus, warm_report, *opts))
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    for name, run in (("cold", cold), ("warm", warm)):
        if run.returncode != 0:
            result.cache_note += f"{name} scan exited {run.returncode}: {run.stderr.strip()[-300:]} "
    result.cache_cold_s, result.cache_cold_cpu_s = round(cold.wall_s, 3), round(cold.cpu_s, 2)
    result.cache_warm_s, result.cache_warm_cpu_s = round(warm.wall_s, 3), round(warm.cpu_s, 2)
    result.cache_speedup = round(cold.wall_s / warm.wall_s, 2)
    result.cache_cold_units_read, result.cache_warm_units_read = _units_read(cold.stderr), _units_read(warm.stderr)
    diff_warm = report_diff(cold_report, warm_report)
    diff_cold = report_diff(no_cache_report, cold_report)
    result.cache_warm_equals_cold, result.cache_cold_equals_no_cache = not diff_warm, not diff_cold
    if diff_warm:
        result.cache_note += f"warm report differs from the cold one at {diff_warm} "
    if diff_cold:
        result.cache_note += f"cold report (with a cache) differs from the --no-cache one at {diff_cold} "
    result.cache_note = result.cache_note.strip()

    def units(read: list[int]) -> str:
        return f"{read[0]} of {read[1]} unit(s) read from the cache" if read else "no cache note on stderr"

    print(f"  cache:   cold {cold.wall_s:7.2f} s  cpu {cold.cpu_s:7.2f} s  ({units(result.cache_cold_units_read)}); "
          f"warm {warm.wall_s:.2f} s  cpu {warm.cpu_s:.2f} s  ({units(result.cache_warm_units_read)}); "
          f"{result.cache_speedup}x faster warm; warm report "
          f"{'identical to the cold one' if not diff_warm else 'DIFFERS from the cold one at ' + diff_warm}; cold report "
          f"{'identical to the --no-cache one' if not diff_cold else 'DIFFERS from the --no-cache one at ' + diff_cold}",
          flush=True)
    if result.cache_note and not (diff_warm or diff_cold):
        print(f"  cache:   {result.cache_note}", flush=True)


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


COLD_ROUNDS = 11


def cold_start(args: argparse.Namespace, ours: list[str]) -> dict[str, Any]:
    inputs = small_inputs(args.work_dir)
    out = os.path.join(args.work_dir, "one-file-report.json")
    opts = ["--no-cache", *jobs_options(args)]  # cold: never answered from the result cache
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "iac-validator --version": [*ours, "--version"],
        "scan one CloudFormation file (5 resources)": our_scan(ours, inputs["cfn_file"], out, *opts),
        "scan one Terraform file (main.tf)": our_scan(ours, inputs["tf_file"], out, *opts),
        "scan one Terraform module (2 files)": our_scan(ours, inputs["tf_module"], out, *opts),
    }
    shim = shutil.which("iac-validator")
    if shim and shim != ours[0]:
        cases[f"iac-validator --version via {shim}"] = [shim, "--version"]
    # Round-robin (every case once per round), so a slow spell of a shared machine hits all cases
    # alike; the median of COLD_ROUNDS rounds, after one warm-up round.
    for cmd in cases.values():
        measure(cmd)
    runs: dict[str, list[Run]] = {name: [] for name in cases}
    for _ in range(COLD_ROUNDS):
        for name, cmd in cases.items():
            runs[name].append(measure(cmd))
    results: dict[str, Any] = {}
    for name, done in runs.items():
        walls = [r.wall_s for r in done]
        wall, cpu = statistics.median(walls), statistics.median(r.cpu_s for r in done)
        rss, rss_all = max(r.rss_mb for r in done), max(r.rss_all_mb for r in done)
        results[name] = {"median_s": round(wall, 4), "min_s": round(min(walls), 4), "cpu_s": round(cpu, 4),
                         "runs_s": [round(w, 4) for w in walls], "rss_mb": round(rss, 1), "rss_all_mb": round(rss_all, 1),
                         "returncode": done[-1].returncode}
        print(f"  {name:<55} {wall * 1000:7.0f} ms  (min {min(walls) * 1000:4.0f})  cpu {cpu * 1000:5.0f} ms  {rss:5.0f} MB", flush=True)
    return results


# --------------------------------------------------------------------------- verdicts and table


def verdicts(results: dict[int, SizeResult], cold: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The budgets, judged on the default-jobs scan (--no-cache); the jobs-1 figures are in the details."""
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
        if r1k.checkov_s and len(r1k.checkov_pairs) > 1:
            ratios = sorted(c / o for o, c in r1k.checkov_pairs)
            speed = statistics.median(ratios)
            row("1,000 files >= 10x faster than Checkov", speed >= BUDGETS["checkov_speedup_min"],
                f"median of {len(ratios)} back-to-back pairs {speed:.1f}x ({', '.join(f'{x:.1f}x' for x in ratios)}); "
                f"by CPU {r1k.checkov_cpu_s / r1k.scan_cpu_s:.1f}x")
        elif r1k.checkov_s:
            speed = r1k.checkov_s / r1k.scan_s
            row("1,000 files >= 10x faster than Checkov", speed >= BUDGETS["checkov_speedup_min"],
                f"{r1k.scan_s:.2f} s vs {r1k.checkov_s:.2f} s = {speed:.1f}x (jobs 1: {r1k.jobs1_s:.2f} s = "
                f"{r1k.checkov_s / r1k.jobs1_s:.1f}x; by CPU {r1k.checkov_cpu_s / r1k.scan_cpu_s:.1f}x)")
        else:
            row("1,000 files >= 10x faster than Checkov", None, "Checkov not measured")
        row("1,000 files within 3x of the parse floor", (r1k.floor_multiple or 99) <= BUDGETS["floor_multiple_max"],
            f"{r1k.scan_s:.2f} s vs floor {r1k.floor_s:.2f} s = {r1k.floor_multiple}x "
            f"(jobs 1: {r1k.jobs1_s:.2f} s = {r1k.jobs1_floor_multiple}x)")
    r10k = results.get(10000)
    if r10k and r1k:
        # CPU per file (the whole process tree): much less disturbed by other load than wall time
        per1, per10 = r1k.scan_cpu_s / r1k.files, r10k.scan_cpu_s / r10k.files
        j1, j10 = (r1k.jobs1_cpu_s or 0) / r1k.files, (r10k.jobs1_cpu_s or 0) / r10k.files
        f1, f10 = (r1k.floor_cpu_s or 0) / r1k.files, (r10k.floor_cpu_s or 0) / r10k.files
        row("10,000 files linear (CPU per file)", per10 <= per1 * BUDGETS["linear_tolerance"],
            f"{per1 * 1000:.1f} ms/file at 1k, {per10 * 1000:.1f} ms/file at 10k ({per10 / per1:.2f}x); "
            f"jobs 1: {j1 * 1000:.1f} -> {j10 * 1000:.1f} ms ({j10 / j1 if j1 else 0:.2f}x); "
            f"floor: {f1 * 1000:.1f} -> {f10 * 1000:.1f} ms ({f10 / f1 if f1 else 0:.2f}x)")
        row("10,000 files peak RSS < 500 MB (all processes)", r10k.scan_rss_all_mb < BUDGETS["rss_10k_mb"],
            f"{r10k.scan_rss_all_mb:.0f} MB all processes (largest single process {r10k.scan_rss_mb:.0f} MB, "
            f"PSS sum {r10k.scan_pss_all_mb:.0f} MB); jobs 1: {r10k.jobs1_rss_all_mb or 0:.0f} MB")
    else:
        row("10,000 files linear, peak RSS < 500 MB", None, "10,000 files not measured")
    return rows


def print_table(results: dict[int, SizeResult], args: argparse.Namespace) -> None:
    """One row per corpus size and program; "÷ floor" and "ckv ÷" are wall-time ratios."""
    head = ("files", "MB", "resources", "run", "wall s", "cpu s", "files/s", "res/s", "RSS 1 proc", "RSS all",
            "÷ floor", "ckv ÷")
    rows = []
    for size in sorted(results):
        r = results[size]
        common = (str(r.files), f"{r.bytes / 1e6:.1f}", str(r.resources))
        ckv = r.checkov_s

        def line(name: str, wall: float | None, cpu: float | None, rss: float | None, rss_all: float | None,
                 rates: tuple[float | None, float | None] = (None, None),
                 r: SizeResult = r, common: tuple[str, ...] = common, ckv: float | None = ckv) -> tuple[str, ...]:
            if not wall:
                return (*common, name, *["-"] * 8)
            fps, rps = rates[0] or r.files / wall, rates[1] or r.resources / wall
            return (*common, name, f"{wall:.2f}", f"{cpu:.2f}" if cpu is not None else "-", f"{fps:.0f}",
                    f"{rps:.0f}", f"{rss:.0f}" if rss else "-", f"{rss_all:.0f}" if rss_all else "-",
                    f"{wall / r.floor_s:.2f}" if r.floor_s else "-", f"{ckv / wall:.1f}" if ckv else "-")

        rows.append(line(f"ours ({jobs_label(args)})", r.scan_s, r.scan_cpu_s, r.scan_rss_mb, r.scan_rss_all_mb,
                         (r.files_per_s, r.resources_per_s)))
        if args.jobs != 1:  # else the row above is the jobs-1 run
            rows.append(line("ours (jobs 1)", r.jobs1_s, r.jobs1_cpu_s, r.jobs1_rss_mb, r.jobs1_rss_all_mb,
                             (r.jobs1_files_per_s, r.jobs1_resources_per_s)))
        rows.append(line("floor", r.floor_s, r.floor_cpu_s, r.floor_rss_mb, None))
        if ckv:
            rows.append(line("Checkov", ckv, r.checkov_cpu_s, r.checkov_rss_mb, r.checkov_rss_all_mb))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) if i != 3 else h.ljust(w) for i, (h, w) in enumerate(zip(head, widths, strict=True))))
    for row in rows:
        print("  ".join(c.rjust(w) if i != 3 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    print("(RSS in MB: the largest single process, and the sum over all processes of the scan; ÷ floor: wall time "
          "÷ the parse floor's; ckv ÷: Checkov's wall time ÷ this one's, i.e. how many times faster than Checkov)")
    print()
    head2 = ("files", "cold s", "warm s", "speed-up", "read from the cache (warm)", "warm = cold", "cold = --no-cache")
    rows2 = []
    for size in sorted(results):
        r = results[size]
        read = r.cache_warm_units_read
        rows2.append((str(r.files), f"{r.cache_cold_s:.2f}" if r.cache_cold_s else "-",
                      f"{r.cache_warm_s:.2f}" if r.cache_warm_s else "-", f"{r.cache_speedup:.1f}x" if r.cache_speedup else "-",
                      f"{read[0]} of {read[1]} unit(s)" if read else "?",
                      {True: "yes", False: "NO", None: "?"}[r.cache_warm_equals_cold],
                      {True: "yes", False: "NO", None: "?"}[r.cache_cold_equals_no_cache]))
    widths2 = [max(len(h), *(len(row[i]) for row in rows2)) for i, h in enumerate(head2)]
    print(f"re-scan with a warm cache ({jobs_label(args)}; fresh --cache-dir, scanned twice):")
    print("  ".join(h.rjust(w) for h, w in zip(head2, widths2, strict=True)))
    for row in rows2:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths2, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="comma-separated corpus sizes in files (default 100,1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per corpus scan and floor, median reported "
                                                                "(1 at 10,000 files and more)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="pass --jobs N to our scans (default: not passed, the tool's default of one per CPU); "
                             "every size is also scanned with --jobs 1")
    parser.add_argument("--work-dir", default="/tmp/iacv-bench")
    parser.add_argument("--checkov", action="store_true", help="also time Checkov (own virtualenv)")
    parser.add_argument("--checkov-sizes", default=None, help="sizes to run Checkov on (default: 100,1000 ∩ --sizes)")
    parser.add_argument("--checkov-pairs", type=int, default=1,
                        help="times to measure ours then Checkov back to back; the verdict takes the median ratio")
    parser.add_argument("--checkov-venv", default="/tmp/checkov-venv")
    parser.add_argument("--max-1k-seconds", type=float, default=60.0,
                        help="skip sizes above 1,000 files when the 1,000-file scan took longer (default 60)")
    parser.add_argument("--out", help="write all results as JSON to this file")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    args.checkov_sizes = ({int(s) for s in args.checkov_sizes.split(",")} if args.checkov_sizes
                          else {s for s in sizes if s <= 1000})

    ours = our_command()
    info = {"machine": machine(), "packages": package_versions(), "git": git_state(), "command": ours, "seed": args.seed,
            "budgets": BUDGETS, "checkov_checks": list(CHECKOV_CHECKS), "jobs": args.jobs, "cpus": cpus(),
            "scan_options": "--no-cache for every throughput and cold-start scan; the warm-cache re-scan uses "
                            "--cache-dir with a fresh directory"}
    print(f"machine: {info['machine']['cores']} cores, {info['machine']['cpu']}, Python {info['machine']['python']}; "
          f"load average {info['machine']['loadavg_at_start']}")
    print(f"packages: {info['packages']}; iac-validator source: {info['git']}")
    print(f"our scans: --no-cache, {jobs_label(args)} (run.py --jobs), and --jobs 1")
    checkov = checkov_bin(args.checkov_venv, install=True) if args.checkov else None
    if args.checkov:
        info["checkov_version"] = version_of([checkov, "--version"]) if checkov else "not installed"
        print(f"checkov: {info['checkov_version']} ({checkov or 'installation failed'})")

    print("cold start (median of 11 round-robin rounds after one warm-up round):")
    cold = cold_start(args, ours)
    results: dict[int, SizeResult] = {}
    for size in sizes:
        if size > 1000 and 1000 in results and results[1000].scan_s >= args.max_1k_seconds:
            print(f"[{size} files] skipped: the 1,000-file scan took {results[1000].scan_s:.1f} s "
                  f"(>= {args.max_1k_seconds:.0f} s)")
            continue
        results[size] = bench_size(args, size, ours, checkov)

    print()
    print_table(results, args)
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
