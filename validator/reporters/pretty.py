"""`json.dumps(value, indent=2)`, byte for byte, for reports of any size.

The stdlib's indenting encoder is pure Python and joins one list of every token of the document:
for a 10,000-file scan (a 95 MB report) that list alone took hundreds of megabytes. Here the
top levels are walked in Python and each element of a list is encoded on its own, then indented;
a list may also be a `Lazy` sequence, whose elements are built only as they are written."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class Lazy:
    """A JSON array whose elements are made when written (`make` is called once per write)."""

    def __init__(self, make: Callable[[], Iterable[Any]]) -> None:
        self.make = make

    def __iter__(self) -> Iterator[Any]:
        return iter(self.make())


def dumps(value: Any, ensure_ascii: bool = True, depth: int = 2) -> str:
    return "".join(chunks(value, ensure_ascii=ensure_ascii, depth=depth))


def chunks(value: Any, level: int = 0, ensure_ascii: bool = True, depth: int = 2) -> Iterator[str]:
    """The text of `value` at indentation `level`, in pieces: containers down to `depth` levels
    are walked here, deeper values encoded whole by `json.dumps`."""
    if depth > 0 and isinstance(value, dict) and value:
        inner = "  " * (level + 1)
        sep = "{\n"
        for key, item in value.items():
            yield sep + inner + json.dumps(key if isinstance(key, str) else json.dumps(key), ensure_ascii=ensure_ascii) + ": "
            yield from chunks(item, level + 1, ensure_ascii, depth - 1)
            sep = ",\n"
        yield "\n" + "  " * level + "}"
    elif depth > 0 and isinstance(value, list | tuple | Lazy):
        inner = "  " * (level + 1)
        sep = "[\n"
        for item in value:
            yield sep + inner
            yield from chunks(item, level + 1, ensure_ascii, depth - 1)
            sep = ",\n"
        yield "[]" if sep == "[\n" else "\n" + "  " * level + "]"
    else:
        text = json.dumps(value, indent=2, ensure_ascii=ensure_ascii)
        yield text.replace("\n", "\n" + "  " * level) if level and "\n" in text else text
