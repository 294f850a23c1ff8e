"""Reporters only render: `render(report) -> str`, one module per format."""

from __future__ import annotations

from collections.abc import Callable

from validator.model import Report
from validator.reporters import gitlab as gitlab_reporter
from validator.reporters import json as json_reporter
from validator.reporters import junit as junit_reporter
from validator.reporters import markdown as markdown_reporter
from validator.reporters import sarif as sarif_reporter
from validator.reporters import text as text_reporter

FORMATS: dict[str, Callable[[Report], str]] = {
    "text": text_reporter.render,
    "json": json_reporter.render,
    "sarif": sarif_reporter.render,
    "junit": junit_reporter.render,
    "markdown": markdown_reporter.render,
    "gitlab": gitlab_reporter.render,
}


def render(report: Report, fmt: str, color: bool = False, verbosity: int = 0) -> str:
    """`color` and `verbosity` (-1 quiet, 0, 1 verbose) shape the text format only."""
    if fmt == "text":
        return text_reporter.render(report, color=color, verbosity=verbosity)
    return FORMATS[fmt](report)
