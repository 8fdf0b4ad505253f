"""Smoke scenarios of issue 5: install from an answer on a PROXMOX-AIS partition, reboot, check the host.

1. ext4 on one virtio disk, SeaBIOS: /dev/pve/root, swap active, thin pool `data`.
3. ZFS RAID1 on two disks, OVMF: systemd-boot via keel-boot-tool, kernels on both ESPs, boots with either disk gone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel_harness import Disk, GiB, Iso, Machine, Outcome, build_answer_image, ensure_built, wait_for_verdict
from keel_harness.verdicts import REBOOTING

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.smoke, pytest.mark.installs]

PASSWORD = "install-test-pw"
INSTALL_TIMEOUT = 3600
BOOT_TIMEOUT = 900
ZFS_GUID = "6a898cc3-1dd2-11b2-99a6-080020736631"     # lsblk prints type GUIDs in lower case

ANSWER = """\
[global]
keyboard = "en-us"
country = "at"
fqdn = "{host}.example.com"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "{password}"

[network]
source = "from-dhcp"

[disk-setup]
filesystem = "{fs}"
disk-list = [{disks}]
{extra}
"""


@pytest.fixture(scope="module")
def iso() -> Path:
    return ensure_built(REPO).iso


def answer_image(tmp_path: Path, *, host: str, fs: str, disks: list[str], extra: str = "") -> Path:
    text = ANSWER.format(host=host, password=PASSWORD, fs=fs, disks=", ".join(f'"{d}"' for d in disks),
                         extra=extra)
    return build_answer_image(tmp_path / "answer.img", text)


def install(machine: Machine) -> None:
    """Boot the ISO's automated entry and wait until the installer hands over to the reboot."""
    machine.start()
    machine.select_boot_entry("a")
    machine.wait_for_console_text(r"KEEL-READY mode=auto", timeout=BOOT_TIMEOUT)
    verdict = wait_for_verdict(machine, INSTALL_TIMEOUT)
    assert verdict.outcome is Outcome.FINISHED, f"{verdict.line}\n{machine.console_tail(60)}"
    machine.wait_for_line([REBOOTING], timeout=60)


def planned(machine: Machine) -> dict:
    return json.loads(machine.succeed("cat /var/log/keel/storage-plan.json"))


def check_common(machine: Machine, host: str) -> None:
    assert machine.succeed("hostname").strip() == host
    assert f"{host}.example.com {host}" in machine.succeed("cat /etc/hosts")
    interfaces = machine.succeed("cat /etc/network/interfaces")
    assert "auto vmbr0" in interfaces and "bridge-ports" in interfaces
    assert "dir: local" in machine.succeed("cat /etc/pve/storage.cfg")
    assert PASSWORD not in machine.succeed("cat /var/log/keel/install.log")


def test_ext4_on_one_virtio_disk_with_seabios(iso, tmp_path):
    machine = Machine(name="ext4-bios", firmware="bios", disks=[Disk(24 * GiB)], boot=Iso(iso),
                      answer_image=answer_image(tmp_path, host="smoke1", fs="ext4", disks=["vda"]),
                      state_dir=tmp_path / "vm")
    with machine:
        install(machine)
        machine.boot_from_disks()
        machine.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
        assert machine.succeed("findmnt -n -o SOURCE /").strip() == "/dev/mapper/pve-root"
        assert "/dev/dm-" in machine.succeed("swapon --show=NAME --noheadings") or \
            "pve-swap" in machine.succeed("swapon --show=NAME --noheadings")
        lvs = {row["lv_name"]: row for row in json.loads(machine.succeed(
            "lvs --reportformat json --units b --nosuffix -o lv_name,lv_size,lv_attr pve"))["report"][0]["lv"]}
        assert lvs["data"]["lv_attr"].startswith("t"), "data is a thin pool"
        # made inactive by the install: the installed system's first activation formatted it, and it takes a thin LV
        assert lvs["data"]["lv_attr"][4] == "a", f"the thin pool is active after boot: {lvs['data']['lv_attr']}"
        machine.succeed("lvcreate -q -V64M -T pve/data -n keel-probe && mkfs.ext4 -q /dev/pve/keel-probe && "
                        "lvremove -q -y pve/keel-probe", timeout=300)
        plan = planned(machine)
        for lv in plan["lvm"]["lvs"]:
            assert int(lvs[lv["name"]]["lv_size"]) == lv["size_bytes"], f"LV {lv['name']} has the planned size"
        check_common(machine, "smoke1")


def test_zfs_raid1_on_two_disks_with_ovmf_boots_from_either_disk(iso, tmp_path):
    machine = Machine(name="zfs-raid1-uefi", firmware="uefi", disks=[Disk(16 * GiB), Disk(16 * GiB)], boot=Iso(iso),
                      answer_image=answer_image(tmp_path, host="smoke3", fs="zfs", disks=["vda", "vdb"],
                                                extra='zfs.raid = "RAID1"'),
                      state_dir=tmp_path / "vm")
    with machine:
        install(machine)
        machine.boot_from_disks()
        machine.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
        assert machine.succeed("findmnt -n -o SOURCE /").strip() == "rpool/ROOT/pve-1"
        assert "mirror-0" in machine.succeed("zpool status rpool")
        # libparted (3.6, the live environment's) set the ZFS type GUID itself, in the same commit as the table
        assert machine.succeed("lsblk -n -o PARTTYPE /dev/vda3 /dev/vdb3").split() == [ZFS_GUID] * 2
        status = machine.succeed("keel-boot-tool status")
        assert status.count("is configured with: uefi") == 2, status
        check_common(machine, "smoke3")
        for removed in (0, 1):
            machine.boot_from_disks(remove=[removed])
            machine.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
            assert "DEGRADED" in machine.succeed("zpool status rpool")
