"""A FakeRunner-backed InstallContext for the storage-apply phases, on a fake live system's /dev and /sys."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from installer.core.events import EventBus, ListSink
from installer.core.hardware import HardwareProfile
from installer.core.live import LiveInfo
from installer.phase import InstallContext
from installer.runner import FakeRunner
from installer.storage.plan import StoragePlan
from keel_testing.plans import part_path


class FakeDevices:
    """Block devices as the kernel and udev show them, below `root`: /dev nodes (plain files), udev's relative
    links, and /sys/class/block entries with `dev` (major:minor) and, for partitions, `partition`."""

    def __init__(self, root: Path):
        self.root = root
        self.minors: dict[str, int] = {}      # disk path -> its minor number (major 8, 16 minors a disk)

    def add_disk(self, path: str, partitions: Iterable[int] = (1, 2, 3)) -> None:
        self.minors[path] = 16 * len(self.minors)
        self._node(path, f"devices/virtual/block/{Path(path).name}", f"8:{self.minors[path]}")
        for number in partitions:
            self.add_partition(path, number)

    def add_partition(self, disk: str, number: int) -> None:
        """What the kernel makes when it learns of a new partition: the node and its sysfs entry."""
        part = part_path(disk, number)
        self._node(part, f"devices/virtual/block/{Path(disk).name}/{Path(part).name}",
                   f"8:{self.minors[disk] + number}", partition=number)

    def link(self, link: str, node: str) -> None:
        """A udev link (`/dev/disk/by-id/...`) to `node`, relative as udev makes them; replaces an older one."""
        where = self.root / link.lstrip("/")
        where.parent.mkdir(parents=True, exist_ok=True)
        where.unlink(missing_ok=True)
        where.symlink_to(os.path.relpath(self.root / node.lstrip("/"), where.parent))

    def has(self, path: str) -> bool:
        return (self.root / path.lstrip("/")).is_symlink() or (self.root / path.lstrip("/")).exists()

    def cover(self, plan: StoragePlan) -> None:
        """Every planned disk with its planned partitions and by-id links, unless a test made them already."""
        for disk in plan.disks:
            if disk.path not in self.minors:
                self.add_disk(disk.path, [part.number for part in disk.partitions])
            if disk.by_id and not self.has(disk.by_id):
                self.link(disk.by_id, disk.path)
                for part in disk.partitions:
                    self.link(f"{disk.by_id}-part{part.number}", part_path(disk.path, part.number))

    def _node(self, path: str, sysfs: str, number: str, *, partition: int = 0) -> None:
        node = self.root / path.lstrip("/")
        node.parent.mkdir(parents=True, exist_ok=True)
        node.touch()
        entry = self.root / "sys" / sysfs
        entry.mkdir(parents=True)
        (entry / "dev").write_text(number + "\n")
        if partition:
            (entry / "partition").write_text(f"{partition}\n")
        self.link(f"/sys/class/block/{entry.name}", f"/sys/{sysfs}")


class Harness:
    def __init__(self, target: Path):
        self.target = target
        self.runner = FakeRunner()
        self.sink = ListSink()
        self.devices = FakeDevices(target.parent / "live")

    def context(self, plan: StoragePlan, *, dry_run: bool = False) -> InstallContext:
        self.devices.cover(plan)
        return InstallContext(
            config=None,  # type: ignore[arg-type]  # the storage phases read only the plan
            plan=plan,
            hardware=HardwareProfile(),
            runner=self.runner,
            events=EventBus([self.sink]),
            live=LiveInfo(payload=Path("/nonexistent"), payload_files=None),
            target=self.target,
            dry_run=dry_run,
            host_root=self.devices.root,
            concurrent=False,   # `beside` steps run in order, so the recorded commands are the plan's order
        )

    def commands(self, target: str | None = None) -> list[list[str]]:
        """Recorded commands, with the temporary target directory shown as /target."""
        shown = str(self.target)
        return [[a.replace(shown, "/target") for a in argv] for argv in self.runner.commands]

    def warnings(self) -> list[str]:
        return [e.text for e in self.sink.of_type("warning")]

    def messages(self) -> list[str]:
        return [e.text for e in self.sink.of_type("message")]


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path / "target")


@pytest.fixture(autouse=True)
def quiet_host(monkeypatch):
    """Never let the build host's own mounts, swap and device nodes leak into what a phase sees."""
    import installer.storage.apply.mount as mount
    import installer.storage.apply.partition as partition
    import installer.storage.apply.teardown as teardown

    monkeypatch.setattr(partition, "device_node_exists", lambda path: True)

    monkeypatch.setattr(mount, "read_mountinfo", lambda: "")
    monkeypatch.setattr(teardown, "read_swaps", lambda: "Filename Type Size Used Priority\n")
