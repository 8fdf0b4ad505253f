"""teardown_existing: renames first, ZFS labels, blivet (or the command fallback) top-down, then the wipe."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import replace

import pytest

from installer.core.hardware import Disk, ExistingContent, HardwareProfile
from installer.runner import Result
from installer.storage.apply import UnselectedDeviceError, teardown_existing
from installer.storage.plan import Rename
from keel_testing.plans import lvm_plan

GiB = 1024**3
LSBLK = ("lsblk", "--json", "--paths", "--bytes", "--output", "NAME,TYPE,SIZE")


def node(name, type, size=0, *children):
    return {"name": name, "type": type, "size": size, **({"children": list(children)} if children else {})}


# /dev/sda: an old install (BIOS boot, ESP, PV of VG pve with root and swap) plus an md array member
SDA = node("/dev/sda", "disk", 32 * GiB,
           node("/dev/sda1", "part", 1031168),
           node("/dev/sda2", "part", 536870912),
           node("/dev/sda3", "part", 20 * GiB,
                node("/dev/mapper/pve-root", "lvm", 8 * GiB), node("/dev/mapper/pve-swap", "lvm", 2 * GiB)),
           node("/dev/sda4", "part", GiB, node("/dev/md127", "raid1", GiB - 4096 * 1024)))


def inverse(name, type, disk="/dev/sda", part="/dev/sda3"):
    return {"blockdevices": [node(name, type, 0, node(part, "part", 0, node(disk, "disk")))]}


INVERSE = {
    "/dev/mapper/pve-root": inverse("/dev/mapper/pve-root", "lvm"),
    "/dev/mapper/pve-swap": inverse("/dev/mapper/pve-swap", "lvm"),
    "/dev/md127": inverse("/dev/md127", "raid1", part="/dev/sda4"),
}


def storage_stack(argv, _input):
    if argv[:6] == LSBLK:
        if argv[6] == "--inverse":
            return Result(argv, 0, json.dumps(INVERSE[argv[7]]))
        return Result(argv, 0, json.dumps({"blockdevices": [SDA]}))
    if argv[0] == "pvs":
        return Result(argv, 0, "  /dev/sda3:pve\n  /dev/sdb3:pve-OLD-1a2b3c4d\n")
    return None


def dd(device, count):
    return ["dd", "if=/dev/zero", f"of={device}", "bs=1M", f"count={count}", "iflag=count_bytes",
            "conv=fsync", "status=none"]


def lsblk(device, inverse=False):
    return [*LSBLK, *(["--inverse"] if inverse else []), device]


PREFLIGHT = [lsblk("/dev/sda"), lsblk("/dev/mapper/pve-root", True), lsblk("/dev/mapper/pve-swap", True),
             lsblk("/dev/md127", True)]
LABELCLEAR = [["modprobe", "zfs"], lsblk("/dev/sda"),
              *(["zpool", "labelclear", "-f", d] for d in ("/dev/sda4", "/dev/sda3", "/dev/sda2", "/dev/sda1",
                                                             "/dev/sda"))]
WIPE = [
    lsblk("/dev/sda"),
    dd("/dev/sda4", 16777216), ["wipefs", "-a", "/dev/sda4"],
    dd("/dev/sda3", 16777216), ["wipefs", "-a", "/dev/sda3"],
    dd("/dev/sda2", 16777216), ["wipefs", "-a", "/dev/sda2"],
    dd("/dev/sda1", 1031168), ["wipefs", "-a", "/dev/sda1"],
    ["wipefs", "-a", "/dev/sda"],
    ["sgdisk", "-Z", "/dev/sda"],
]
RENAME = Rename("lvm-vg", "pve", "pve-OLD-1a2b3c4d", "Xo3f2N-abcd-efgh", ("/dev/sdb3",))


@pytest.fixture
def no_blivet(monkeypatch):
    monkeypatch.setitem(sys.modules, "blivet", None)   # `import blivet` raises ImportError


def test_without_blivet_the_commands_tear_the_stack_down_top_down_then_wipe(harness, no_blivet):
    harness.runner.responders.append(storage_stack)
    teardown_existing(harness.context(replace(lvm_plan(), rename=(RENAME,))))
    assert harness.commands() == [
        *PREFLIGHT,
        ["vgrename", "Xo3f2N-abcd-efgh", "pve-OLD-1a2b3c4d"],
        lsblk("/dev/sda"),                 # is it blank? (it has partitions: no)
        lsblk("/dev/sda"),
        *LABELCLEAR,
        lsblk("/dev/sda"),
        ["pvs", "--noheadings", "--separator", ":", "-o", "pv_name,vg_name"],
        ["vgchange", "-an", "pve"],
        ["mdadm", "--stop", "/dev/md127"],
        ["pvremove", "-ff", "-y", "/dev/sda3"],
        ["mdadm", "--zero-superblock", "/dev/sda4"],
        *WIPE,
    ]
    assert len(harness.warnings()) == 1
    assert harness.warnings()[0].startswith("blivet teardown unavailable")


def test_a_blank_disk_is_left_alone_without_blivet_labelclear_or_wipe(harness, monkeypatch):
    def blank(argv, _input):
        if argv[:6] == LSBLK:
            return Result(argv, 0, json.dumps({"blockdevices": [node("/dev/sda", "disk", 32 * GiB)]}))
        if argv[0] == "wipefs":
            return Result(argv, 0, "")
        return None

    monkeypatch.setitem(sys.modules, "blivet", types.SimpleNamespace(Blivet=lambda: pytest.fail("blivet ran")))
    harness.runner.responders.append(blank)
    teardown_existing(harness.context(lvm_plan()))
    assert harness.commands() == [lsblk("/dev/sda"), lsblk("/dev/sda"),
                                  ["wipefs", "--no-act", "--noheadings", "--output", "TYPE", "/dev/sda"]]
    assert any("/dev/sda is blank" in m for m in harness.messages())


def test_a_disk_with_only_a_signature_is_not_blank(harness, no_blivet):
    def signature(argv, _input):
        if argv[:6] == LSBLK:
            return Result(argv, 0, json.dumps({"blockdevices": [node("/dev/sda", "disk", 32 * GiB)]}))
        if argv[:2] == ["wipefs", "--no-act"] or argv[:2] == ("wipefs", "--no-act"):
            return Result(argv, 0, "LVM2_member\n")
        return None

    harness.runner.responders.append(signature)
    teardown_existing(harness.context(lvm_plan()))
    assert ["zpool", "labelclear", "-f", "/dev/sda"] in harness.commands()
    assert ["wipefs", "-a", "/dev/sda"] in harness.commands()


def test_a_zfs_pool_rename_imports_by_id_under_the_new_name_and_exports(harness, no_blivet):
    rename = Rename("zfs-pool", "rpool", "rpool-OLD-1234567890", "1234567890", ("/dev/sdb3",))
    harness.runner.responders.append(storage_stack)
    teardown_existing(harness.context(replace(lvm_plan(), rename=(rename,))))
    start = len(PREFLIGHT)
    assert harness.commands()[start:start + 2] == [
        ["zpool", "import", "-N", "-f", "-d", "/dev/disk/by-id", "1234567890", "rpool-OLD-1234567890"],
        ["zpool", "export", "rpool-OLD-1234567890"],
    ]


def test_an_md_array_reaching_an_unselected_disk_is_refused_before_any_write(harness, no_blivet):
    INVERSE_SHARED = {**INVERSE, "/dev/md127": {"blockdevices": [node(
        "/dev/md127", "raid1", 0, node("/dev/sda4", "part", 0, node("/dev/sda", "disk")),
        node("/dev/sdb1", "part", 0, node("/dev/sdb", "disk")))]}}

    def shared(argv, _input):
        if argv[:7] == (*LSBLK, "--inverse"):
            return Result(argv, 0, json.dumps(INVERSE_SHARED[argv[7]]))
        return storage_stack(argv, _input)

    harness.runner.responders.append(shared)
    with pytest.raises(UnselectedDeviceError, match="refusing to tear down /dev/md127: it also lives on /dev/sdb"):
        teardown_existing(harness.context(lvm_plan()))
    assert all(argv[0] == "lsblk" for argv in harness.commands())


def test_a_vg_recorded_on_a_selected_and_an_unselected_disk_is_refused_before_any_command(harness, no_blivet):
    pv = lambda device: ExistingContent("lvm-pv", device, group="data", group_id="VGUUID-1")  # noqa: E731
    hardware = HardwareProfile(disks=(
        Disk("sda", "/dev/sda", 32 * GiB, existing=(pv("/dev/sda3"),)),
        Disk("sdb", "/dev/sdb", 32 * GiB, existing=(pv("/dev/sdb1"),)),
    ))
    ctx = harness.context(lvm_plan())
    ctx.hardware = hardware
    with pytest.raises(UnselectedDeviceError, match="lvm-pv group VGUUID-1 on /dev/sda3: it also lives on /dev/sdb1"):
        teardown_existing(ctx)
    assert harness.commands() == []


class FakeDevice:
    def __init__(self, path, disks=(), format_type="disklabel", leaf=False):
        self.path = path
        self.disks = list(disks)
        self.format = types.SimpleNamespace(type=format_type)
        self.isleaf = leaf


class FakeAction:
    def __init__(self, text, device):
        self.text = text
        self.device = device

    def __str__(self):
        return self.text


def fake_blivet(actions_for_disk, disk=None):
    """A stand-in for blivet's Blivet/devicetree/actions, recording what the teardown asked of it."""
    calls = []
    disks = {"/dev/sda": disk or FakeDevice("/dev/sda")}

    class Actions:
        def __init__(self):
            self.scheduled = []

        def find(self):
            return list(self.scheduled)

    class Tree:
        def __init__(self):
            self.actions = Actions()

        def get_device_by_path(self, path):
            return disks.get(path)

        def get_device_by_name(self, name):
            return None

        def recursive_remove(self, device):
            calls.append(("recursive_remove", device.path))
            self.actions.scheduled += actions_for_disk(device)

    class Blivet:
        def __init__(self):
            self.devicetree = Tree()

        def reset(self):
            calls.append(("reset",))

        def do_it(self):
            calls.append(("do_it",))

    return types.SimpleNamespace(Blivet=Blivet), calls


def test_blivet_removes_the_stack_of_each_selected_disk_and_runs_its_actions(harness, monkeypatch):
    sda = FakeDevice("/dev/sda")
    module, calls = fake_blivet(lambda disk: [
        FakeAction("destroy device lvmlv pve-root", FakeDevice("/dev/mapper/pve-root", [sda])),
        FakeAction("destroy device lvmvg pve", FakeDevice("/dev/pve", [sda])),
        FakeAction("destroy format lvmpv on sda3", FakeDevice("/dev/sda3", [sda])),
    ])
    monkeypatch.setitem(sys.modules, "blivet", module)
    harness.runner.responders.append(storage_stack)
    teardown_existing(harness.context(lvm_plan()))
    assert calls == [("reset",), ("recursive_remove", "/dev/sda"), ("do_it",)]
    assert harness.warnings() == []


def test_a_blivet_action_on_an_unselected_disk_stops_before_do_it(harness, monkeypatch):
    sda, sdb = FakeDevice("/dev/sda"), FakeDevice("/dev/sdb")
    module, calls = fake_blivet(lambda disk: [
        FakeAction("destroy device lvmvg data", FakeDevice("/dev/data", [sda, sdb])),
    ])
    monkeypatch.setitem(sys.modules, "blivet", module)
    harness.runner.responders.append(storage_stack)
    with pytest.raises(UnselectedDeviceError, match="refusing to let blivet destroy device lvmvg data on /dev/sdb"):
        teardown_existing(harness.context(lvm_plan()))
    assert ("do_it",) not in calls
    assert not any(argv[0] in ("wipefs", "sgdisk", "dd") for argv in harness.commands())


# /dev/sda: a thin-provisioned VG on LUKS on an md RAID1 of two partitions
LAYERED = node("/dev/sda", "disk", 32 * GiB, *(
    node(part, "part", 8 * GiB, node("/dev/md0", "raid1", 8 * GiB, node(
        "/dev/mapper/cryptroot", "crypt", 8 * GiB,
        node("/dev/mapper/vg0-root", "lvm", GiB),
        node("/dev/mapper/vg0-pool_tmeta", "lvm", 4 * 1024 * 1024,
             node("/dev/mapper/vg0-pool-tpool", "lvm", GiB,
                  node("/dev/mapper/vg0-pool", "lvm", GiB), node("/dev/mapper/vg0-thin1", "lvm", GiB))),
        node("/dev/mapper/vg0-pool_tdata", "lvm", GiB,
             node("/dev/mapper/vg0-pool-tpool", "lvm", GiB,
                  node("/dev/mapper/vg0-pool", "lvm", GiB), node("/dev/mapper/vg0-thin1", "lvm", GiB))))))
    for part in ("/dev/sda1", "/dev/sda2")))


def layered_stack(argv, _input):
    if argv[:6] == LSBLK:
        if argv[6] == "--inverse":
            return Result(argv, 0, json.dumps(inverse(argv[7], "lvm", part="/dev/sda1")))
        return Result(argv, 0, json.dumps({"blockdevices": [LAYERED]}))
    if argv[0] == "pvs":
        return Result(argv, 0, "  /dev/mapper/cryptroot:vg0\n  /dev/sdb3:data\n")
    return None


def test_lvm_on_luks_on_md_is_taken_down_vg_first_then_luks_then_md(harness, no_blivet):
    harness.runner.responders.append(layered_stack)
    teardown_existing(harness.context(lvm_plan()))
    commands = harness.commands()
    start = commands.index(["pvs", "--noheadings", "--separator", ":", "-o", "pv_name,vg_name"])
    assert commands[start + 1:start + 6] == [
        ["vgchange", "-an", "vg0"],
        ["cryptsetup", "close", "cryptroot"],
        ["mdadm", "--stop", "/dev/md0"],
        ["mdadm", "--zero-superblock", "/dev/sda1"],
        ["mdadm", "--zero-superblock", "/dev/sda2"],
    ]
    assert commands[start + 6] == lsblk("/dev/sda")


def test_mounts_and_swap_on_the_selected_disk_are_released_first(harness, no_blivet, monkeypatch):
    import installer.storage.apply.mount as mount
    import installer.storage.apply.teardown as teardown

    monkeypatch.setattr(mount, "read_mountinfo", lambda: (
        "22 1 8:17 / / rw shared:1 - ext4 /dev/sdb1 rw\n"
        "80 22 253:0 / /mnt/old rw shared:2 - ext4 /dev/mapper/pve-root rw\n"
        "81 22 8:2 / /mnt/esp rw shared:3 - vfat /dev/sda2 rw\n"))
    monkeypatch.setattr(teardown, "read_swaps", lambda: (
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        "/dev/mapper/pve-swap                    partition\t2097148\t\t0\t\t-2\n"
        "/dev/sdb2                               partition\t1048572\t\t0\t\t-3\n"))
    harness.runner.responders.append(storage_stack)
    teardown_existing(harness.context(lvm_plan()))
    start = len(PREFLIGHT) + 2   # after the blank check and the lsblk of release_in_use
    assert harness.commands()[start:start + 3] == [
        ["umount", "/mnt/esp"],
        ["umount", "/mnt/old"],
        ["swapoff", "/dev/mapper/pve-swap"],
    ]
    assert harness.warnings()[:3] == [
        "unmounting /mnt/esp: it is on a disk being installed to",
        "unmounting /mnt/old: it is on a disk being installed to",
        "turning off swap on /dev/mapper/pve-swap: it is on a disk being installed to",
    ]


def test_blivet_leaves_a_blank_disk_alone(harness, monkeypatch):
    module, calls = fake_blivet(lambda disk: [], disk=FakeDevice("/dev/sda", format_type=None, leaf=True))
    monkeypatch.setitem(sys.modules, "blivet", module)
    harness.runner.responders.append(storage_stack)
    teardown_existing(harness.context(lvm_plan()))
    assert calls == [("reset",), ("do_it",)]
