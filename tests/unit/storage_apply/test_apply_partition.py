"""partition_disks: which partitions get a libparted flag or sgdisk, and the commands around writing the GPT."""

from __future__ import annotations

from dataclasses import replace

import pytest

from installer.runner import Result
from installer.storage.apply import ApplyError, partition_disks
from installer.storage.apply.partition import PartitionRequest, partition_requests, sgdisk_typecode_argv
from installer.storage.apply.steps import partition_steps
from keel_testing.plans import BIOS_BOOT, ESP, LINUX, LVM, ZFS, btrfs_plan, lvm_plan, zfs_plan


def test_a_512_byte_lvm_disk_needs_only_libparted_flags():
    disk = lvm_plan().disks[0]
    assert partition_requests(disk) == (
        PartitionRequest(1, 34, 2047, "bios_grub", None),
        PartitionRequest(2, 2048, 1050623, "esp", None),
        PartitionRequest(3, 1050624, 67108830, "lvm", None),
    )
    assert sgdisk_typecode_argv(disk) is None


def test_a_zfs_partition_gets_bf01_through_sgdisk():
    disk = zfs_plan().disks[0]
    assert partition_requests(disk)[2] == PartitionRequest(3, 1050624, 67108830, None, ZFS)
    assert sgdisk_typecode_argv(disk) == ["sgdisk", f"--typecode=3:{ZFS}", "/dev/sda"]


def test_a_btrfs_partition_is_libparteds_default_linux_type():
    disk = btrfs_plan().disks[0]
    assert partition_requests(disk)[2] == PartitionRequest(3, 1050624, 67108830, None, None)


def test_a_4kn_disk_has_no_bios_boot_partition_and_keeps_numbers_2_and_3():
    disk = lvm_plan(lbs=4096).disks[0]
    assert partition_requests(disk) == (
        PartitionRequest(2, 256, 131327, "esp", None),
        PartitionRequest(3, 131328, 8388602, "lvm", None),
    )


def test_the_guid_constants_match_the_gpt_specification():
    assert (BIOS_BOOT, ESP, LVM, LINUX) == (
        "21686148-6449-6E6F-744E-656564454649", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        "E6D6D379-F507-44C2-A23C-238F2A3DF928", "0FC63DAF-8483-4772-8E79-3D69D8477DE4")


@pytest.fixture
def written(monkeypatch):
    import installer.storage.apply.partition as partition

    disks: list[str] = []

    def write_gpt(disk, hold=None):     # a libparted that sets every type GUID itself (>= 3.6, the live environment's)
        disks.append(disk.path)
        return ()

    monkeypatch.setattr(partition, "write_gpt", write_gpt)
    return disks


SETTLE = ["udevadm", "settle", "--timeout=180"]


def test_zfs_raid1_writes_both_tables_then_waits_for_udev_only(harness, written):
    partition_disks(harness.context(zfs_plan()))
    assert written == ["/dev/sda", "/dev/sdb"]
    # no trigger (the table is written once, types included) and no dd (write_gpt zeroes the starts first)
    assert harness.commands() == [SETTLE]


def test_bf01_is_left_to_sgdisk_when_libparted_cannot_set_a_type_guid(harness, monkeypatch):
    import installer.storage.apply.partition as partition

    monkeypatch.setattr(partition, "write_gpt", lambda disk, hold=None: (3,))     # libparted < 3.6
    partition_disks(harness.context(zfs_plan()))
    assert harness.commands()[:2] == [["sgdisk", f"--typecode=3:{ZFS}", "/dev/sda"],
                                      ["sgdisk", f"--typecode=3:{ZFS}", "/dev/sdb"]]


def test_the_step_list_says_which_type_guids_sgdisk_sets_on_an_old_libparted():
    gpt = partition_steps(zfs_plan())[0]
    assert gpt.action == "write-gpt"
    assert gpt.why.endswith(f"a libparted older than 3.6 leaves their type GUIDs to `sgdisk --typecode=3:{ZFS} "
                            "/dev/sda`")


def test_lvm_on_nvme_needs_no_sgdisk(harness, written):
    partition_disks(harness.context(lvm_plan(path="/dev/nvme0n1")))
    assert written == ["/dev/nvme0n1"]
    assert harness.commands() == [["modprobe", "ext4"], SETTLE]


def test_the_root_file_systems_module_is_loaded_beside_the_partitioning_when_a_live_boot_lacks_it():
    from installer.core.config import Filesystem

    for plan, module in ((lvm_plan(), ["ext4"]), (lvm_plan(fs=Filesystem.XFS), ["xfs"]), (btrfs_plan(), ["btrfs"]),
                         (zfs_plan(), [])):
        steps = [s for s in partition_steps(plan) if s.argv]
        assert [list(s.argv[1:]) for s in steps] == ([module] if module else [])
        assert all(s.beside and not s.check and s.argv[0] == "modprobe" for s in steps)


def test_the_starts_of_all_but_the_bios_boot_partition_are_zeroed_through_the_disk(tmp_path):
    from installer.storage.apply.partition import ZERO_BYTES, zero_partition_starts

    disk = lvm_plan().disks[0]
    image = tmp_path / "disk.img"          # sparse: old data only where the zeroing should and should not reach
    marked = ZERO_BYTES + 4096
    with image.open("wb") as raw:
        for part in disk.partitions:
            raw.seek(part.start_sector * 512)
            raw.write(b"\xa5" * min(marked, part.size_bytes))
    with image.open("r+b", buffering=0) as raw:
        zero_partition_starts(disk, raw)
    bios, esp, lvm = disk.partitions
    with image.open("rb") as raw:
        raw.seek(bios.start_sector * 512)
        assert raw.read(bios.size_bytes) == b"\xa5" * bios.size_bytes
        for part in (esp, lvm):
            raw.seek(part.start_sector * 512)
            assert raw.read(marked) == bytes(ZERO_BYTES) + b"\xa5" * 4096, part.path


def test_a_disk_that_cannot_be_zeroed_stops_partitioning_naming_it(tmp_path):
    from installer.storage.apply.partition import zero_partition_starts

    disk = lvm_plan().disks[0]
    image = tmp_path / "disk.img"
    image.write_bytes(b"")
    refusal = r"^/dev/sda: zeroing the start of the new partitions failed \(File not open for writing\)$"
    with image.open("rb", buffering=0) as read_only, pytest.raises(ApplyError, match=refusal):
        zero_partition_starts(disk, read_only)


def test_a_dry_run_writes_no_partition_table(harness, written):
    partition_disks(harness.context(lvm_plan(), dry_run=True))
    assert written == []


def test_a_partition_path_of_another_selected_disk_is_refused(harness, written):

    from installer.storage.apply import ApplyError

    plan = zfs_plan()
    sda, sdb = plan.disks
    crossed = replace(sda, partitions=(*sda.partitions[:2], sdb.partitions[2]))
    with pytest.raises(ApplyError, match="partition /dev/sda: its planned partition 3 has the path /dev/sdb3, "
                                         "the kernel names it /dev/sda3"):
        partition_disks(harness.context(replace(plan, disks=(crossed, sdb))))
    assert written == []


def test_every_partition_node_and_its_by_id_link_is_waited_for(harness, written, monkeypatch):
    import installer.storage.apply.partition as partition

    looked_for: set[str] = set()
    monkeypatch.setattr(partition, "device_node_exists", lambda path: looked_for.add(path) or True)
    plan = zfs_plan()
    partition_disks(harness.context(plan))
    sda = plan.disks[0]
    assert {"/dev/sda1", "/dev/sda2", "/dev/sda3", f"{sda.by_id}-part3", "/dev/sdb3"} <= looked_for


def test_udev_settle_giving_up_is_only_a_warning_when_the_nodes_are_there(harness, written):
    harness.runner.responders.append(lambda argv, stdin: Result(argv, 1) if argv[1] == "settle" else None)
    partition_disks(harness.context(lvm_plan()))
    assert harness.warnings() == ["udevadm settle exited with 1; every partition node is there"]


def test_a_partition_node_that_never_appears_stops_the_install_naming_it(harness, written, monkeypatch):
    import installer.storage.apply.partition as partition

    monkeypatch.setattr(partition, "NODE_WAIT_SECONDS", 0)
    monkeypatch.setattr(partition, "device_node_exists", lambda path: path != "/dev/sda3")
    with pytest.raises(ApplyError, match=r"^/dev/sda3: the new partition's device node did not appear within 0 s"):
        partition_disks(harness.context(lvm_plan()))
    assert not any(argv[0] == "dd" for argv in harness.commands())


def test_the_rescan_lock_is_shared_and_held_until_left(tmp_path):
    import fcntl

    from installer.storage.apply.partition import lock_against_rescan

    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(4096))
    with open(disk, "rb") as other:
        with lock_against_rescan(str(disk)):
            fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)       # udev's workers take a shared one too
            fcntl.flock(other, fcntl.LOCK_UN)
            with pytest.raises(BlockingIOError):                      # the re-read of the table needs it exclusive
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_UN)


def test_a_disk_held_exclusively_by_another_program_is_named_and_left_alone(tmp_path):
    import fcntl

    from installer.storage.apply.partition import lock_against_rescan

    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(4096))
    refusal = rf"^{disk}: another program has held the disk locked \(flock\) for 0 s; nothing was written to it$"
    with open(disk, "rb") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(ApplyError, match=refusal), lock_against_rescan(str(disk), wait=0.2):
            pass


def test_a_disk_that_cannot_be_opened_for_the_lock_is_named(tmp_path):
    from installer.storage.apply.partition import lock_against_rescan

    with pytest.raises(ApplyError, match=rf"^{tmp_path}/sdz: cannot open the disk \(No such file or directory\)$"), \
            lock_against_rescan(str(tmp_path / "sdz")):
        pass
