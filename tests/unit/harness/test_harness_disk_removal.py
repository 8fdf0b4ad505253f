"""boot_from_disks(remove=...) counts in the disks a machine was made with, across any number of boots."""

import pytest

from keel_harness import Disk, GiB, Machine
from keel_harness.spec import HarnessError


@pytest.fixture
def two_disk_machine(tmp_path, monkeypatch):
    machine = Machine("pair", firmware="uefi", disks=[Disk(16 * GiB), Disk(16 * GiB)], state_dir=tmp_path)
    # No QEMU here: a boot only records the disks it would attach.
    boots: list[list[tuple[str, str]]] = []
    monkeypatch.setattr(
        Machine, "start", lambda self: boots.append([(d.image.name, d.serial) for d in self.spec.disks]) or self
    )
    monkeypatch.setattr(Machine, "stop", lambda self: None)
    return machine, boots


def test_each_removal_pulls_that_disk_of_the_original_set(two_disk_machine):
    machine, boots = two_disk_machine
    machine.boot_from_disks()
    machine.boot_from_disks(remove=[0])
    machine.boot_from_disks(remove=[1])
    assert boots == [
        [("disk0.qcow2", "KEELDISK0"), ("disk1.qcow2", "KEELDISK1")],
        [("disk1.qcow2", "KEELDISK1")],
        [("disk0.qcow2", "KEELDISK0")],
    ]


def test_a_removed_disk_comes_back_on_the_next_boot_without_removal(two_disk_machine):
    machine, boots = two_disk_machine
    machine.boot_from_disks(remove=[0])
    machine.boot_from_disks()
    assert boots[-1] == [("disk0.qcow2", "KEELDISK0"), ("disk1.qcow2", "KEELDISK1")]
    assert machine.disk_path(1) == machine.state_dir / "disk1.qcow2"


def test_an_index_the_machine_never_had_is_named(two_disk_machine):
    machine, _ = two_disk_machine
    with pytest.raises(HarnessError, match=r"no disk index \[2\] to remove \(it has 2 disks\)"):
        machine.boot_from_disks(remove=[2])
