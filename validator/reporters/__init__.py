"""Reporters only render: `render(report) -> str`, one module per format.

Each reporter module is imported when its format is first rendered, not with this package: the
text reporter pulls in rich (about 16 ms) and the CI formats their own helpers, none of which a
`--format json` run needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from validator.model import Report

# format → module of this package that renders it
_MODULES = {
    "text": "text",
    "json": "json",
    "sarif": "sarif",
    "junit": "junit",
    "markdown": "markdown",
    "gitlab": "gitlab",
}


def _renderer(fmt: str) -> Callable[..., str]:
    render_function: Callable[..., str] = import_module(f"{__name__}.{_MODULES[fmt]}").render
    return render_function


def _lazy(fmt: str) -> Callable[[Report], str]:
    def render_format(report: Report) -> str:
        return _renderer(fmt)(report)

    render_format.__name__ = render_format.__qualname__ = f"render_{fmt}"
    render_format.__doc__ = f"Render the report as {fmt} (validator.reporters.{_MODULES[fmt]}.render)."
    return render_format


FORMATS: dict[str, Callable[[Report], str]] = {fmt: _lazy(fmt) for fmt in _MODULES}


def render_chunks(report: Report, fmt: str, color: bool = False, verbosity: int = 0) -> Iterator[str]:
    """`render`, in pieces, for writing a large report without holding it whole (JSON and SARIF
    are produced piece by piece; the other formats are capped or small, and come in one piece)."""
    module = import_module(f"{__name__}.{_MODULES[fmt]}")
    if hasattr(module, "chunks"):
        yield from module.chunks(report)
    else:
        yield render(report, fmt, color=color, verbosity=verbosity)


def render(report: Report, fmt: str, color: bool = False, verbosity: int = 0) -> str:
    """`color` and `verbosity` (-1 quiet, 0, 1 verbose) shape the text format only."""
    if fmt == "text":
        return _renderer("text")(report, color=color, verbosity=verbosity)
    return FORMATS[fmt](report)
