"""Units → their results, in unit order: from the result cache when a unit is unchanged, else
scanned in this process or, with --jobs N and enough work, in N worker processes. The route never
changes a result, only when it is ready.

Workers are forked where the platform can (Linux): they start with the policies already loaded and
the units in memory, and send back only results. A worker that dies takes its units back here."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from validator.cache import ResultCache
from validator.config import Config
from validator.model import Policy
from validator.units import Unit
from validator.work import UnitResult, scan

Progress = Callable[[int, int], None]  # (files done, files in total)
# Below this much input a pool costs more than it saves (starting workers, their first parse).
MIN_PARALLEL_BYTES = 256 * 1024
MIN_PARALLEL_UNITS = 4


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def results(
    units: list[Unit],
    policies: tuple[Policy, ...],
    config: Config,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
) -> Iterator[UnitResult]:
    """Consumes `units`: each entry is set to None once its result is out."""
    keys = [cache.key(u) if cache else None for u in units]
    cached = [cache.get(k) if cache and k else None for k in keys]
    todo = [i for i, c in enumerate(cached) if c is None]
    jobs = config.jobs if config.jobs is not None else default_jobs()
    size = sum(s.chars for i in todo for s in units[i].sources())
    parallel = jobs > 1 and len(todo) >= MIN_PARALLEL_UNITS and size >= MIN_PARALLEL_BYTES
    fresh = _parallel(units, todo, policies, config, jobs) if parallel else (scan(units[i], policies, config) for i in todo)
    sizes = [u.files for u in units]
    total, done = sum(sizes), 0
    for i in range(len(units)):
        result = cached[i]
        if result is None:
            result = next(fresh)
            if cache is not None and keys[i] is not None:
                cache.put(keys[i], result)
        done += sizes[i]
        # Its files' text is no longer needed here (a worker has its own copy): at 10,000 files
        # that is 110 MB the main process does not hold to the end.
        units[i] = cached[i] = None  # type: ignore[call-overload]
        if progress is not None:
            progress(done, total)
        yield result


@dataclass(frozen=True)
class _Work:
    units: list[Unit]
    policies: tuple[Policy, ...]
    config: Config


_work: _Work | None = None  # a worker process's own copy, set once by _start


def _start(work: _Work) -> None:
    global _work
    _work = work


def _scan_one(index: int) -> UnitResult:
    assert _work is not None
    return scan(_work.units[index], _work.policies, _work.config)


def _parallel(units: list[Unit], todo: list[int], policies: tuple[Policy, ...], config: Config, jobs: int) -> Iterator[UnitResult]:
    import multiprocessing  # only when a pool is used: a one-file scan never pays for it
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    work = _Work(units, policies, config)
    got = 0
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context, initializer=_start, initargs=(work,)) as pool:
            for result in pool.map(_scan_one, todo, chunksize=1):
                got += 1
                yield result
    except BrokenProcessPool:
        pass  # a worker died (killed, out of memory): the units it did not return are scanned here
    for i in todo[got:]:
        yield scan(units[i], policies, config)
