"""Shared helpers for the Terraform tests: write a tree, load it the way a scan does."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from validator.config import Config
from validator.discover import discover
from validator.model import FileRecord, LoadError, Resource, Template
from validator.run import load_all


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), "utf-8")
    return root


@dataclass
class Loaded:
    templates: list[Template] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    records: list[FileRecord] = field(default_factory=list)

    @property
    def resources(self) -> dict[str, Resource]:
        """Every resource by address; an address seen twice (tfvars values) keeps the first."""
        out: dict[str, Resource] = {}
        for template in self.templates:
            for r in template.resources:
                out.setdefault(r.id, r)
        return out

    def record(self, path: Path | str) -> FileRecord:
        (found,) = [r for r in self.records if r.path == str(path)]
        return found


def load(*paths: Path | str, **config: object) -> Loaded:
    out = Loaded()
    cfg = Config(paths=tuple(str(p) for p in paths), **config)  # type: ignore[arg-type]
    for template, errors, records in load_all(discover([str(p) for p in paths]), cfg):
        if template is not None:
            out.templates.append(template)
        out.errors.extend(errors)
        out.records.extend(records)
    return out
