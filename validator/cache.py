"""The result cache: a unit's result (validator/work.py), stored under a key made of everything it
depends on, so a re-scan of an unchanged tree reads results instead of parsing.

The key of a unit hashes the text of each of its files with their paths and the scanned roots,
salted with the tool (version and the hash of its own code), the policy files, and every setting
that changes a result. Files a Terraform unit read with `file()`, `templatefile()` or `fileexists()`
are stored with the entry, with their hashes: the entry is used only while they are unchanged (and
still missing, if they were). Not cached: plan input with --tf-source (its configuration lies
outside the unit), and a unit whose time budget ran out.

Entries are pickles written to a temporary file and renamed into place, so concurrent runs never
see half an entry; an entry that cannot be read is ignored and rewritten. The directory is the
user's own (`IAC_VALIDATOR_CACHE_DIR`, else `$XDG_CACHE_HOME/iac-validator`, else
`~/.cache/iac-validator`), created private (0700).
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from pathlib import Path

from validator import __version__
from validator.cachedir import write_atomic
from validator.config import Config
from validator.discover import CACHEDIR_TAG
from validator.model import Policy
from validator.reads import fingerprint
from validator.units import Unit
from validator.work import UnitResult

FORMAT = 2  # bump when UnitResult's shape changes
# Backup tools skip a directory tagged so, and so does discovery (a cache kept inside the repository).
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This is iac-validator's result cache; it can be deleted.\n"


class ResultCache:
    def __init__(self, directory: Path, salt: bytes, tf_source: bool = False) -> None:
        self.directory = directory
        self.salt = salt
        self.tf_source = tf_source  # plans are judged with a configuration read from outside the unit
        self.hits = self.misses = 0

    def key(self, unit: Unit) -> str | None:
        """The unit's key, or None when its result depends on more than its files."""
        plan = unit.plan
        if plan.terraform_plans and self.tf_source:
            return None
        h = hashlib.sha256(self.salt)
        for root in plan.roots:
            h.update(b"\0root\0" + root.encode("utf-8", "surrogateescape"))
        for source in unit.sources():
            h.update(b"\0file\0" + source.path.encode("utf-8", "surrogateescape") + b"\0")
            h.update(source.text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.pickle"

    def get(self, key: str) -> UnitResult | None:
        try:
            with open(self._path(key), "rb") as fh:
                value = pickle.load(fh)  # noqa: S301 - the user's own private cache directory
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
            self.misses += 1
            return None
        if not isinstance(value, UnitResult) or any(fingerprint(path) != was for path, was in value.reads):
            self.misses += 1  # damaged, or a file it read with file() has changed since
            return None
        self.hits += 1
        return value

    def put(self, key: str, result: UnitResult) -> None:
        if not result.cacheable:
            return
        path = self._path(key)
        try:
            if not (self.directory / CACHEDIR_TAG).exists():
                self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                (self.directory / CACHEDIR_TAG).write_text(_TAG, encoding="ascii")
        except OSError:
            return  # a cache that cannot be written only costs time
        write_atomic(str(path), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


def open_cache(config: Config, policies: tuple[Policy, ...]) -> ResultCache | None:
    if config.cache_dir is None:
        return None
    return ResultCache(Path(config.cache_dir), salt(config, policies), tf_source=config.tf_source is not None)


def salt(config: Config, policies: tuple[Policy, ...]) -> bytes:
    h = hashlib.sha256(f"iac-validator {__version__} cache {FORMAT} python {sys.version_info[:2]}".encode())
    h.update(_tree_hash(Path(__file__).parent, (".py", ".json")))  # the tool's own code and schemas
    # The policies as loaded and selected, with their severity overrides: frozen data, a stable repr.
    h.update(repr(policies).encode("utf-8", "surrogateescape"))
    settings = (
        sorted((k, sorted(v.items())) for k, v in config.params.items()),
        sorted(config.cfn_parameters.items()),
        config.cfn_lint,
        [(p, _read(p)) for p in config.var_files],
        sorted(config.tf_variables.items()),
        config.tf_source,
        config.inline_waivers,
        config.allow_open_ended_waivers,
        config.keep_passes,
        config.file_timeout,
    )
    h.update(repr(settings).encode("utf-8", "surrogateescape"))
    return h.digest()


def _tree_hash(directory: Path, suffixes: tuple[str, ...]) -> bytes:
    h = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.suffix in suffixes and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(directory)).encode() + b"\0")
        h.update(_read(str(path)).encode("utf-8", "surrogateescape"))
    return h.digest()


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            return fh.read()
    except OSError as exc:
        return f"<unreadable: {exc}>"
