"""Where a device path points on the live system: through its links to a /dev node, and what the kernel says it is.

A path is resolved like the kernel would open it (every by-id, by-path and mapper link followed), and the node's
kernel name is looked up in sysfs: its major:minor, and for a partition its number and the disk it belongs to.
Everything is read below `root` (the live system's `/`; tests give a directory with a fake /dev and /sys).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from installer.core.hardware import kernel_node


@dataclass(frozen=True)
class BlockNode:
    """The block device a path resolves to."""

    node: str            # "/dev/sda3": the node every link was followed to
    number: str          # "8:3": major:minor
    partition: int = 0   # the partition number, 0 for a whole device
    disk: str = ""       # "/dev/sda": the disk of a partition
    disk_number: str = ""  # "8:0": the major:minor of that disk

    @property
    def whole(self) -> str:
        """The major:minor of the whole device: the disk of a partition, else the device itself."""
        return self.disk_number if self.partition else self.number

    def describe(self) -> str:
        """One line for an error: `/dev/sdc3 (8:35, partition 3 of /dev/sdc)`, `/dev/sdc (8:32)`."""
        where = f", partition {self.partition} of {self.disk}" if self.partition else ""
        return f"{self.node} ({self.number}{where})"


class NotABlockDevice(ValueError):
    """The path exists but leads to something that is not a block device; the message ("resolves to ...")
    says where it leads."""


def lookup(path: str, root: Path = Path("/")) -> BlockNode | None:
    """The block device `path` resolves to, or None when nothing is there (not made yet, or a dangling link)."""
    full = Path(os.path.realpath(root / path.lstrip("/")))
    if not full.exists():
        return None
    try:
        node = "/" + full.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise NotABlockDevice(f"resolves to {full}, outside {root}") from None
    if not node.startswith("/dev/"):
        raise NotABlockDevice(f"resolves to {node}, which is not a device node")
    sysfs = root / "sys/class/block" / node.removeprefix("/dev/").replace("/", "!")
    if not (sysfs / "dev").is_file():
        raise NotABlockDevice(f"resolves to {node}, which the kernel does not list as a block device")
    number = (sysfs / "dev").read_text().strip()
    if not (sysfs / "partition").is_file():
        return BlockNode(node, number)
    disk = Path(os.path.realpath(sysfs)).parent
    return BlockNode(node, number, int((sysfs / "partition").read_text()), kernel_node(disk.name),
                     (disk / "dev").read_text().strip())
