"""The one parser of `lsblk --json` output: the block-device tree, and the same rows flattened by path."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class LsblkError(ValueError):
    """lsblk printed something that is not its JSON tree."""


@dataclass(frozen=True)
class BlockNode:
    """One device of `lsblk --json` output with the devices stacked on it; `row` keeps every column lsblk gave."""

    name: str
    type: str
    size: int = 0
    children: tuple[BlockNode, ...] = field(default_factory=tuple)
    row: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BlockNode:
        name = data.get("path") or data["name"]
        return cls(name=name, type=data.get("type") or "", size=int(data.get("size") or 0),
                   children=tuple(cls.from_data(c) for c in data.get("children") or ()),
                   row={k: v for k, v in data.items() if k != "children"})

    def walk(self) -> Iterator[BlockNode]:
        """This node and every node stacked on it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


def parse_lsblk(text: str) -> tuple[BlockNode, ...]:
    """The top-level devices of `lsblk --json` (with `--paths` or a PATH column, names are device paths)."""
    try:
        rows = json.loads(text or "{}").get("blockdevices", [])
        return tuple(BlockNode.from_data(d) for d in rows)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise LsblkError(f"cannot read the output of lsblk ({err})") from err


def rows_by_path(nodes: tuple[BlockNode, ...]) -> dict[str, Mapping[str, Any]]:
    """Every device of the tree, children included: device path -> its lsblk row."""
    out: dict[str, Mapping[str, Any]] = {}
    for root in nodes:
        for node in root.walk():
            path = node.name if node.name.startswith("/") else f"/dev/{node.name}"
            out[path] = node.row
    return out
