"""What both formats' relation indexes (`Template.relations`) share: source id → relation → target ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from validator.model import Reference, Resource, Unknown


class Links:
    def __init__(self) -> None:
        self._found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))

    def link(self, source: str, relation: str, targets: Iterable[str]) -> None:
        for target in targets:
            if target not in self._found[source][relation]:
                self._found[source][relation].append(target)

    def freeze(self) -> dict[str, dict[str, tuple[str, ...]]]:
        return {s: {rel: tuple(ts) for rel, ts in rels.items() if ts} for s, rels in self._found.items() if any(rels.values())}


class ResourceIndex:
    """Finds the resources a value names: a reference, a name, an ARN, or a list of those."""

    def __init__(self, resources: Iterable[Resource], name_property: Mapping[str, str], secret_type: str) -> None:
        self.secret_type = secret_type
        self.types: dict[str, str] = {}
        self.names: dict[tuple[str, str], str] = {}
        for r in resources:
            self.types.setdefault(r.id, r.type)
            prop = name_property.get(r.type)
            name = r.properties.get(prop) if prop else None
            value = getattr(name, "value", name)  # a Terraform ResolvedReference carries its value
            if isinstance(value, str):
                self.names.setdefault((r.type, value), r.id)

    def targets(self, value: Any, rtype: str) -> list[str]:
        """Ids of the resources of type `rtype` that `value` names."""
        if isinstance(value, list):
            return [t for item in value for t in self.targets(item, rtype)]
        if isinstance(value, Reference):
            return [value.target] if self.types.get(value.target) == rtype else []
        if isinstance(value, Unknown) or not isinstance(value, str):
            return []
        for candidate in self._name_candidates(value, rtype):
            found = self.names.get((rtype, candidate))
            if found:
                return [found]
        return []

    def _name_candidates(self, value: str, rtype: str) -> list[str]:
        """A name as written, and the name inside an ARN (`...:role/path/name`, `...:secret:name-AbCdEf`)."""
        out = [value]
        if value.startswith("arn:"):
            resource = value.split(":", 5)[-1]
            if rtype == self.secret_type and resource.startswith("secret:"):
                name = resource[len("secret:") :]
                out += [name, name.rsplit("-", 1)[0]]  # Secrets Manager appends -XXXXXX to the name
            else:
                out.append(resource.rsplit("/", 1)[-1])
        return out
