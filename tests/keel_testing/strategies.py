"""Hypothesis strategies for Keel's property tests (tests/unit/fuzz): disks, machines, install configs and answer
files, plus the settings profiles that bound them.

`PROPERTY` is the settings every property test uses: the "keel" profile keeps `make test` fast; with
KEEL_FUZZ=1 (`make fuzz`) the "keel-fuzz" profile runs many more examples.
"""

from __future__ import annotations

import os
import string
from dataclasses import replace

import tomli_w
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from installer.core.config import (
    BtrfsCompress,
    BtrfsOptions,
    BtrfsRaid,
    DiskSetup,
    Filesystem,
    LvmOptions,
    ZfsChecksum,
    ZfsCompress,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import Disk, ExistingContent, HardwareProfile
from keel_testing.builders import GiB, MiB, config
from keel_testing.compat import example_server

# `make test`: few examples, the same ones every run; `make fuzz`: many, new ones every run.
settings.register_profile("keel", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much])
settings.register_profile("keel-fuzz", parent=settings.get_profile("keel"), max_examples=4000, derandomize=False)
PROPERTY = settings.get_profile("keel-fuzz" if os.environ.get("KEEL_FUZZ") == "1" else "keel")

SERVER = example_server()

# ---- disks and machines -----------------------------------------------------------------------------------

sector_sizes = st.sampled_from([512, 512, 4096, 4096, 1024, 2048, 8192, 1024 * 1024])
disk_bytes = st.one_of(
    st.integers(min_value=0, max_value=16 * GiB),                  # around the minimums
    st.integers(min_value=16 * GiB, max_value=64 * 1024 * GiB),    # real disks
    st.sampled_from([0, 1, 512, MiB, 2 * GiB, 4 * GiB, 8 * GiB, 100 * GiB, 100 * GiB + 512, 2**63 - 1]),
)
existing = st.builds(
    ExistingContent,
    kind=st.sampled_from(["partition-table", "partition", "filesystem", "lvm-pv", "zfs-member", "md-member",
                          "btrfs-member", "luks"]),
    device=st.sampled_from(["/dev/sda", "/dev/sda3", "/dev/sdb2", "/dev/nvme0n1p3"]),
    detail=st.sampled_from(["", "gpt", "ext4", "vfat"]),
    group=st.sampled_from(["", "pve", "rpool", "data"]),
    group_id=st.sampled_from(["", "id-1", "id-2"]),
)
NAMES = ["sda", "sdb", "sdc", "sdd", "sde", "sdf", "vda", "nvme0n1", "nvme1n1", "mmcblk0"]


@st.composite
def disks(draw: st.DrawFn, count: tuple[int, int] = (1, 6), *, old_content: bool = True) -> list[Disk]:
    """Disks with unique, consistent names (path /dev/<name>), any size and sector size, and (with `old_content`)
    partitions, file systems, VGs and pools found on them."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=count[0], max_size=count[1], unique=True))
    out = []
    for index, name in enumerate(names):
        sector = draw(sector_sizes)
        size = draw(disk_bytes)
        if draw(st.booleans()):
            size = size // max(sector, 1) * sector
        out.append(Disk(name=name, path=f"/dev/{name}", size_bytes=size, index=index, logical_block_size=sector,
                        physical_block_size=max(sector, 4096), serial=f"SER{index}",
                        udev={"DEVLINKS": f"/dev/disk/by-id/ata-MODEL_SER{index}", "ID_SERIAL": f"MODEL_SER{index}"},
                        existing=tuple(draw(st.lists(existing, max_size=2 if old_content else 0)))))
    return out


@st.composite
def machines(draw: st.DrawFn, count: tuple[int, int] = (1, 6), *, old_content: bool = True) -> HardwareProfile:
    """The example server's NICs and DHCP lease (answers use from-dhcp) with generated disks, RAM and firmware."""
    return replace(SERVER, disks=tuple(draw(disks(count, old_content=old_content))),
                   memory_mib=draw(st.sampled_from([0, 256, 1024, 2048, 8192, 65536, 4 * 1024 * 1024])),
                   boot_mode=draw(st.sampled_from(["bios", "efi"])), arch=draw(st.sampled_from(["amd64", "arm64"])))


# ---- install configs --------------------------------------------------------------------------------------

gib_values = st.one_of(
    st.none(), st.none(),
    st.floats(min_value=0, max_value=200, allow_nan=False),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1e-300, 0.004, 2.0, 4.0, 8.0, 1e308, -1.0]),
)


@st.composite
def disk_setups(draw: st.DrawFn, machine: HardwareProfile) -> DiskSetup:
    """A disk setup over the machine's disks (sometimes a missing or repeated one), every filesystem and option."""
    paths = [d.path for d in machine.disks]
    if draw(st.integers(0, 9)) == 0:
        paths.append("/dev/missing")
    chosen = draw(st.lists(st.sampled_from(paths), min_size=1, max_size=len(paths) + 1,
                           unique=draw(st.integers(0, 9)) > 0))
    fs = draw(st.sampled_from(list(Filesystem)))
    hdsize = draw(gib_values)
    if fs.uses_lvm:
        return DiskSetup(fs, tuple(chosen[:1] if draw(st.integers(0, 9)) else chosen), lvm=LvmOptions(
            hdsize=hdsize, swapsize=draw(gib_values), maxroot=draw(gib_values), minfree=draw(gib_values),
            maxvz=draw(gib_values)))
    if fs == Filesystem.ZFS:
        return DiskSetup(fs, tuple(chosen), zfs=ZfsOptions(
            raid=draw(st.sampled_from(list(ZfsRaid))), ashift=draw(st.integers(8, 17)),
            compress=draw(st.sampled_from(list(ZfsCompress))), checksum=draw(st.sampled_from(list(ZfsChecksum))),
            copies=draw(st.integers(0, 4)), arc_max_mib=draw(st.integers(-1, 10**6)), hdsize=hdsize))
    return DiskSetup(fs, tuple(chosen), btrfs=BtrfsOptions(
        raid=draw(st.sampled_from(list(BtrfsRaid))), compress=draw(st.sampled_from(list(BtrfsCompress))),
        hdsize=hdsize))


@st.composite
def machines_and_configs(draw: st.DrawFn):
    machine = draw(machines())
    return machine, config(draw(disk_setups(machine)), unattended=draw(st.booleans()),
                           product=draw(st.sampled_from(["pve", "pve", "pbs"])))


# ---- answer files -----------------------------------------------------------------------------------------

BASE_ANSWER = {
    "global": {"keyboard": "de", "country": "at", "fqdn": "pve1.example.com", "mailto": "admin@example.com",
               "timezone": "Europe/Vienna", "root-password": "12345678"},
    "network": {"source": "from-dhcp"},
}
answer_gib = st.one_of(st.integers(0, 300), st.floats(min_value=0, max_value=300, allow_nan=False),
                       st.sampled_from([0, 2, 4, 4.5, 5, 8, 1e-300, 1e308, 2**62]))


@st.composite
def disk_answers(draw: st.DrawFn, machine: HardwareProfile) -> dict:
    """A [disk-setup] table over the machine's disks: any filesystem, RAID level and size options."""
    fs = draw(st.sampled_from(["ext4", "xfs", "zfs", "btrfs"]))
    names = [d.name for d in machine.disks]
    table: dict = {"filesystem": fs}
    if draw(st.integers(0, 3)):
        table["disk-list"] = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
        if fs in ("ext4", "xfs"):
            table["disk-list"] = table["disk-list"][:1]
    else:
        table["filter"] = {"ID_SERIAL": draw(st.sampled_from(["*", "MODEL_SER1", "MODEL_SER[0-2]", "nothing"]))}
    options = "lvm" if fs in ("ext4", "xfs") else fs
    sizes = ["hdsize", "swapsize", "maxroot", "minfree", "maxvz"] if options == "lvm" else ["hdsize"]
    table[options] = {k: draw(answer_gib) for k in sizes if draw(st.booleans())}
    if fs == "zfs":
        table["zfs"]["raid"] = draw(st.sampled_from(["raid0", "raid1", "raid10", "raidz-1", "raidz-2", "raidz-3"]))
    if fs == "btrfs":
        table["btrfs"]["raid"] = draw(st.sampled_from(["raid0", "raid1", "raid10"]))
    return table


@st.composite
def answers_for(draw: st.DrawFn, machine: HardwareProfile) -> str:
    return tomli_w.dumps({**BASE_ANSWER, "disk-setup": draw(disk_answers(machine))})


# ---- text that looks a little like TOML or JSON -----------------------------------------------------------

fragments = st.sampled_from(['[', ']', '{', '}', '"', "'", '"""', "'''", ".", "=", ",", "#", "\n", " ", "\\",
                             "[global]", "[disk-setup]", "a", "1", "1.5", "1e308", "9" * 40, "inf", "nan",
                             "true", "disk-list", "filter", "zfs.raid", "x.y.z", "\x00", "é"])
toml_ish = st.lists(fragments, max_size=80).map("".join) | st.text(alphabet=string.printable, max_size=200)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """Arrays, inline tables and dotted keys nested up to twice the depth the bounds allow."""
    depth = draw(st.integers(0, 70))
    kind = draw(st.sampled_from(["array", "table", "dotted", "header"]))
    if kind == "array":
        return "a = " + "[" * depth + "]" * depth
    if kind == "table":
        return "a = " + "{b = " * depth + "1" + "}" * depth
    if kind == "dotted":
        return ".".join(["k"] * (depth + 1)) + " = 1"
    return "[" + ".".join(["k"] * (depth + 1)) + "]"
