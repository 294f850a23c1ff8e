"""The relation index both formats build (`Template.relations`): source id → relation → target ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


class Links:
    def __init__(self) -> None:
        self._found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))

    def link(self, source: str, relation: str, targets: Iterable[str]) -> None:
        for target in targets:
            if target not in self._found[source][relation]:
                self._found[source][relation].append(target)

    def freeze(self) -> dict[str, dict[str, tuple[str, ...]]]:
        return {s: {rel: tuple(ts) for rel, ts in rels.items() if ts} for s, rels in self._found.items() if any(rels.values())}
