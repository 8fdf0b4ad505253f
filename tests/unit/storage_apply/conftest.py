"""A FakeRunner-backed InstallContext for the storage-apply phases."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.core.events import EventBus, ListSink
from installer.core.hardware import HardwareProfile
from installer.core.live import LiveInfo
from installer.phase import InstallContext
from installer.runner import FakeRunner
from installer.storage.plan import StoragePlan


class Harness:
    def __init__(self, target: Path):
        self.target = target
        self.runner = FakeRunner()
        self.sink = ListSink()

    def context(self, plan: StoragePlan, *, dry_run: bool = False) -> InstallContext:
        return InstallContext(
            config=None,  # type: ignore[arg-type]  # the storage phases read only the plan
            plan=plan,
            hardware=HardwareProfile(),
            runner=self.runner,
            events=EventBus([self.sink]),
            live=LiveInfo(payload=Path("/nonexistent"), payload_files=None),
            target=self.target,
            dry_run=dry_run,
        )

    def commands(self, target: str | None = None) -> list[list[str]]:
        """Recorded commands, with the temporary target directory shown as /target."""
        shown = str(self.target)
        return [[a.replace(shown, "/target") for a in argv] for argv in self.runner.commands]

    def warnings(self) -> list[str]:
        return [e.text for e in self.sink.of_type("warning")]


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
