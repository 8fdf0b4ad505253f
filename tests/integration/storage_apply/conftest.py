"""Loop devices for the storage-apply integration tests: attached without -P, detached only if ours.

Per reference/build-host.md "Loop devices": `losetup -f --show` (no partition scan; libparted adds the
partition nodes itself), `partx -d` before `losetup -d`, and never touch a loop device we did not attach.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.core.events import EventBus, ListSink
from installer.core.hardware import HardwareProfile
from installer.core.live import LiveInfo
from installer.phase import InstallContext
from installer.runner import Result, Runner
from installer.storage.plan import StoragePlan

TOOLS = ("losetup", "partx", "sgdisk", "blkid", "lsblk", "wipefs", "mkfs.vfat", "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs")

HERE = Path(__file__).parent


def skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "storage-apply integration tests need root (loop devices)"
    if not Path("/dev/loop-control").exists():
        return "no /dev/loop-control: this kernel has no loop devices"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (make deps installs them)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = skip_reason()
    if reason:
        for item in items:
            if item.path.parent == HERE:
                item.add_marker(pytest.mark.skip(reason=reason))


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120).stdout


class HostRunner(Runner):
    """The real runner, except `udevadm` (no udev daemon on the build host), which is recorded only."""

    def __init__(self) -> None:
        super().__init__(log=None, fault="")
        self.commands: list[tuple[str, ...]] = []

    def run(self, argv, **kw) -> Result:  # type: ignore[override]
        self.commands.append(tuple(argv))
        if argv[0] == "udevadm":
            return Result(tuple(argv), 0)
        return super().run(argv, **kw)


class Loops:
    """Sparse images attached as loop devices; detaches exactly the devices it attached."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.attached: list[str] = []

    def attach(self, size: int, *, sector_size: int = 512) -> str:
        image = self.directory / f"disk{len(self.attached)}.img"
        with image.open("wb") as f:
            f.truncate(size)
        argv = ["losetup", "-f", "--show", *(["-b", str(sector_size)] if sector_size != 512 else []), str(image)]
        device = sh(*argv).strip()
        self.attached.append(device)
        return device

    def detach_all(self) -> None:
        for device in reversed(self.attached):
            subprocess.run(["partx", "-d", device], capture_output=True, timeout=60)
            subprocess.run(["losetup", "-d", device], capture_output=True, timeout=60)
        self.attached.clear()


@pytest.fixture
def loops(tmp_path: Path) -> Iterator[Loops]:
    # The plans use fixed Btrfs UUIDs: the kernel must forget members of an earlier run's filesystem (a run that
    # stopped half-way leaves them registered, and the next mount then fails with "File exists").
    subprocess.run(["btrfs", "device", "scan", "--forget"], capture_output=True, timeout=60)
    loops = Loops(tmp_path)
    try:
        yield loops
    finally:
        loops.detach_all()
        subprocess.run(["btrfs", "device", "scan", "--forget"], capture_output=True, timeout=60)


class Host:
    def __init__(self, target: Path):
        self.target = target
        self.runner = HostRunner()
        self.sink = ListSink()

    def context(self, plan: StoragePlan) -> InstallContext:
        return InstallContext(config=None, plan=plan, hardware=HardwareProfile(),  # type: ignore[arg-type]
                              runner=self.runner, events=EventBus([self.sink]),
                              live=LiveInfo(payload=Path("/nonexistent"), payload_files=None), target=self.target)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    host = Host(tmp_path / "target")
    yield host
    # never leave a mount behind, whatever the test did
    for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
        point = line.split()[4]
        if point == str(host.target) or point.startswith(f"{host.target}/"):
            subprocess.run(["umount", "--lazy", point], capture_output=True, timeout=60)
