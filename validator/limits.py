"""Resource limits for hostile input: document structure (nesting, YAML aliases) and time.

A gate that crashes or hangs on one odd file blocks every merge. Parsers are safe against most of
it (PyYAML's safe loaders never run Python tags; `json` raises RecursionError), but not all:

- YAML aliases are shared, not copied, when a document is loaded, so a "billion laughs" document
  loads in milliseconds and then explodes in whatever walks it (resolving intrinsics, evaluating
  policies). `structure_problem` counts what aliases would expand to, on the parser's event stream
  (libyaml, no recursion), before anything is built, and rejects documents that would grow by more
  than MAX_ALIAS_NODES nodes, or that contain themselves.
- Deep nesting overflows the C stack in PyYAML's C composer (a segmentation fault, not an
  exception) at a few tens of thousands of levels, and the Python stack well before that.
  Documents deeper than MAX_NESTING levels are rejected, on the same event stream.
- Anything else that takes too long is stopped by `time_budget`: a watchdog (SIGALRM, POSIX main
  thread) that interrupts the load of one file, which then becomes an error record; the scan goes on.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
DEFAULT_FILE_TIMEOUT = 60.0  # seconds per file (per module directory for Terraform); 0 disables
MAX_NESTING = 100  # levels of mappings and sequences in one YAML/JSON document
MAX_ALIAS_NODES = 100_000  # nodes YAML aliases may add to a document when expanded


@dataclass(frozen=True)
class Problem:
    """Why a document is refused, and where (1-based line, when known)."""

    message: str
    line: int | None = None


def structure_problem(text: str, max_depth: int = MAX_NESTING, max_alias_nodes: int = MAX_ALIAS_NODES) -> Problem | None:
    """None when `text` is safe to decode; else what limit it exceeds.

    Text that is not valid YAML (or JSON) at all is left to the decoder, which reports the syntax
    error with its own words; everything before the syntax error is still checked.
    """
    if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        try:
            doc = json.loads(text)
        except RecursionError:  # far too deep: the event scan finds the line
            return _yaml_events(text, max_depth, max_alias_nodes) or Problem(
                f"nesting deeper than {max_depth} levels: not decoded (limit {max_depth})"
            )
        except ValueError:
            pass  # JSON with comments, or YAML flow style: the YAML scan below decides
        else:
            depth = _json_text_depth(text, max_depth) if isinstance(doc, dict | list) else 0
            if depth <= max_depth:
                return None  # valid JSON has no aliases
            return _yaml_events(text, max_depth, max_alias_nodes) or Problem(
                f"nesting {depth} levels deep: not decoded (limit {max_depth})"
            )
    if "&" not in text and _surely_shallow(text, max_depth):
        return None  # no anchor, so no alias to expand; and not deep enough to matter
    return _yaml_events(text, max_depth, max_alias_nodes)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")
_INDENT = re.compile(r"^ *", re.M)


def _json_text_depth(text: str, limit: int) -> int:
    """Nesting depth of valid JSON text (at most limit + 1), at C speed: strings out, brackets only,
    then innermost pairs removed level by level."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    while brackets and depth <= limit:
        brackets = _EMPTY_PAIR.sub("", brackets)
        depth += 1
    return depth


@lru_cache(maxsize=64)
def _indicators(count: int) -> re.Pattern[str]:
    return re.compile(rf"^(?:[^-?:\n]*[-?:]){{{count}}}", re.M)  # one way to match: no backtracking


def _surely_shallow(text: str, max_depth: int) -> bool:
    """True when a YAML document cannot nest deeper than max_depth, by a cheap upper bound. Block
    collections nest by indentation (a sequence may share its parent mapping's column, then its
    entries are indented further: at most two levels per column) or by indicators on one line
    (`- - x`, `- a: b`, `? k`); flow collections by brackets."""
    indent = max(map(len, _INDENT.findall(text)), default=0)
    # Every bracket may open a flow collection, except the brace of `${Var}` (a !Sub string's):
    # no collection starts right after a `$`.
    flow = text.count("[") + text.count("{") - text.count("${")
    room = max_depth - 2 * (indent + 1) - flow
    return room >= 0 and not _indicators(room + 1).search(text)


def json_depth(value: Any) -> int:
    """Nesting depth of decoded JSON (containers only), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return deepest


def _yaml_events(text: str, max_depth: int, max_alias_nodes: int) -> Problem | None:
    import yaml
    from yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        ScalarEvent,
    )

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    frames: list[list[Any]] = []  # [anchor, expanded size so far]
    sizes: dict[str, int] = {}  # anchor → expanded size of its node
    open_anchors: set[str] = set()
    added = 0  # nodes the aliases add
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, CollectionStartEvent):
                if len(frames) >= max_depth:
                    line = event.start_mark.line + 1
                    return Problem(f"nesting deeper than {max_depth} levels at line {line}: not decoded (limit {max_depth})", line)
                frames.append([event.anchor, 1])
                if event.anchor:
                    open_anchors.add(event.anchor)
            elif isinstance(event, CollectionEndEvent):
                anchor, size = frames.pop()
                if anchor:
                    sizes[anchor] = size
                    open_anchors.discard(anchor)
                if frames:
                    frames[-1][1] += size
            elif isinstance(event, ScalarEvent):
                if event.anchor:
                    sizes[event.anchor] = 1
                if frames:
                    frames[-1][1] += 1
            elif isinstance(event, AliasEvent):
                line = event.start_mark.line + 1
                if event.anchor in open_anchors:
                    return Problem(f"YAML alias *{event.anchor} at line {line} refers to a node that contains it (a recursive document): not decoded", line)
                size = sizes.get(event.anchor, 1)  # an undefined alias is the decoder's error to report
                added += size
                if added > max_alias_nodes:
                    return Problem(
                        f"YAML aliases expand the document by more than {max_alias_nodes} nodes (alias *{event.anchor} at line {line}; "
                        f"a 'billion laughs' document?): not expanded",
                        line,
                    )
                if frames:
                    frames[-1][1] += size
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own depth limit, reached before ours
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            where = f" at line {line}" if line else ""
            return Problem(f"nesting deeper than {max_depth} levels{where}: not decoded (limit {max_depth})", line)
        return None  # a syntax error: the decoder reports it
    return None


# --- sizes ----------------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b?)\s*$", re.I)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """Bytes from `10485760`, `10MB`, `512k`, `1.5M`, `2GiB` (binary units). Raises ValueError."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size (examples: 10MB, 512k, 1048576)")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if value < 1:
        raise ValueError(f"{text!r}: a size must be at least one byte")
    return int(value)


def show_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            amount = size / factor
            return f"{amount:.1f} {unit}" if amount % 1 else f"{int(amount)} {unit}"
    return f"{size} bytes"


# --- time -----------------------------------------------------------------------------------------


class BudgetExceeded(BaseException):  # noqa: N818 - like KeyboardInterrupt: no `except Exception` swallows it
    """Raised inside a load that ran past its time budget. A BaseException, so that the many
    `except Exception` guards inside parsers cannot swallow it and carry on."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"took longer than {seconds:g} s")
        self.seconds = seconds


_active = threading.local()


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise BudgetExceeded in the block once `seconds` have passed.

    A watchdog timer (SIGALRM), so it interrupts pure-Python loops anywhere (a parser, an
    evaluator) without their cooperation. Only on POSIX and in the main thread; elsewhere, and when
    `seconds` is 0 or None, the block runs unbounded. Nested budgets run under the outermost one.
    A previous SIGALRM handler and timer (pytest-timeout's, say) are restored afterwards.
    """
    if (
        not seconds
        or seconds <= 0
        or getattr(_active, "on", False)
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise BudgetExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, alarm)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    _active.on = True
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _active.on = False
        signal.signal(signal.SIGALRM, previous)
        if outer:  # someone else's timer was running: give it the time it has left
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))
