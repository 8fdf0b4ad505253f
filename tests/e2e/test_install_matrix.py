"""The full install matrix of issue 5 (besides the smoke pair): filesystems, RAID levels, firmware, 4Kn,
old content on the disks, answer sources and failure paths. Each installs from the ISO, reboots into the result
and checks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel_harness import (
    Disk,
    GiB,
    HostServer,
    Iso,
    Kernel,
    Machine,
    Outcome,
    build_answer_image,
    ensure_built,
    wait_for_verdict,
)
from keel_harness.verdicts import REBOOTING

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.installs]

PASSWORD = "install-test-pw"
INSTALL_TIMEOUT = 3600
BOOT_TIMEOUT = 900
AUTO_ARGS = "boot=live keel.mode=auto console=tty0 console=ttyS0,115200"
BIOS_BOOT_GUID = "21686148-6449-6e6f-744e-656564454649"


def answer(host: str, fs: str, disks: list[str], extra: str = "", password: str = PASSWORD) -> str:
    """An answer for `disks` (kernel names); an empty list means `extra` holds a disk filter instead."""
    selection = f"disk-list = {json.dumps(disks)}\n" if disks else ""
    return (
        "[global]\n"
        'keyboard = "en-us"\ncountry = "at"\n'
        f'fqdn = "{host}.example.com"\nmailto = "admin@example.com"\ntimezone = "Europe/Vienna"\n'
        f'root-password = "{password}"\n\n'
        '[network]\nsource = "from-dhcp"\n\n'
        f'[disk-setup]\nfilesystem = "{fs}"\n{selection}'
        f"{extra}\n"
    )


@pytest.fixture(scope="module")
def build():
    return ensure_built(REPO)


def iso_machine(build, tmp_path: Path, name: str, firmware: str, disks: list[Disk], text: str) -> Machine:
    image = build_answer_image(tmp_path / "answer.img", text)
    return Machine(name=name, firmware=firmware, disks=disks, boot=Iso(build.iso), answer_image=image,
                   state_dir=tmp_path / "vm")


def kernel_machine(build, tmp_path: Path, name: str, disks: list[Disk], extra_args: list[str],
                   answer_text: str | None = None) -> Machine:
    """Boot the live system directly (kernel + initrd, the ISO as medium) to pass extra kernel parameters."""
    boot = Kernel(build.pxe_dir / "vmlinuz", build.pxe_dir / "initrd.img", AUTO_ARGS, medium=build.iso)
    image = build_answer_image(tmp_path / "answer.img", answer_text) if answer_text else None
    return Machine(name=name, firmware="bios", disks=disks, boot=boot, extra_kernel_args=extra_args,
                   answer_image=image, state_dir=tmp_path / "vm")


def run_install(machine: Machine, *, menu: bool = True) -> Outcome:
    """How the automated install ended; after a finished one, the installer has started the reboot."""
    machine.start()
    if menu:
        machine.select_boot_entry("a")
    machine.wait_for_console_text(r"KEEL-READY mode=auto", timeout=BOOT_TIMEOUT)
    verdict = wait_for_verdict(machine, INSTALL_TIMEOUT)
    if verdict.outcome is Outcome.FINISHED:
        machine.wait_for_line([REBOOTING], timeout=60)
    return verdict.outcome


def installed(machine: Machine, **boot) -> Machine:
    machine.boot_from_disks(**boot)
    machine.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    return machine


def check_host(machine: Machine, host: str) -> None:
    assert machine.succeed("hostname").strip() == host
    assert f"{host}.example.com {host}" in machine.succeed("cat /etc/hosts")
    assert "auto vmbr0" in machine.succeed("cat /etc/network/interfaces")
    assert "dir: local" in machine.succeed("cat /etc/pve/storage.cfg")


def test_xfs_on_virtio_scsi_with_ovmf_has_a_boot_entry_and_the_removable_fallback(build, tmp_path):
    # the answer stick is a USB disk (sdX) too, so the SCSI disk is picked by its serial, not its name
    m = iso_machine(build, tmp_path, "xfs-uefi", "uefi", [Disk(24 * GiB, bus="scsi")],
                    answer("matrix2", "xfs", [], 'filter.ID_SERIAL = "*KEELDISK0*"'))
    with m:
        assert run_install(m) is Outcome.FINISHED
        installed(m)
        assert m.succeed("findmnt -n -o FSTYPE /").strip() == "xfs"
        assert "keel" in m.succeed("efibootmgr")
        # the removable path holds what the boot entry's directory holds, shim as BOOTX64.EFI
        m.succeed("cd /boot/efi/EFI && cmp keel/shimx64.efi BOOT/BOOTX64.EFI && "
                  "for f in grubx64.efi mmx64.efi grub.cfg BOOTX64.CSV; do cmp keel/$f BOOT/$f; done")
        check_host(m, "matrix2")
        # the grub.cfg the ISO build prepared for xfs is the one the installed system's update-grub writes
        assert "prepared when the ISO was built" in m.succeed("cat /var/log/keel/install.log")
        m.succeed("cp /boot/grub/grub.cfg /root/grub.cfg.install && update-grub && "
                  "cmp /root/grub.cfg.install /boot/grub/grub.cfg", timeout=600)
        # a machine that lost its boot entries (a new board, cleared NVRAM) boots from the removable path
        m.stop()
        m.ovmf_vars_path.unlink()
        installed(m)
        assert "keel" not in m.succeed("efibootmgr")
        assert m.succeed("findmnt -n -o FSTYPE /").strip() == "xfs"


def test_zfs_raidz1_on_three_disks_with_seabios(build, tmp_path):
    m = iso_machine(build, tmp_path, "zfs-raidz1", "bios", [Disk(12 * GiB)] * 3,
                    answer("matrix4", "zfs", ["vda", "vdb", "vdc"], 'zfs.raid = "RAIDZ-1"'))
    with m:
        assert run_install(m) is Outcome.FINISHED
        installed(m)
        assert "raidz1-0" in m.succeed("zpool status rpool")
        check_host(m, "matrix4")


def test_zfs_raid10_on_four_disks_with_ovmf_has_two_mirrors(build, tmp_path):
    m = iso_machine(build, tmp_path, "zfs-raid10", "uefi", [Disk(12 * GiB)] * 4,
                    answer("matrix5", "zfs", ["vda", "vdb", "vdc", "vdd"], 'zfs.raid = "RAID10"'))
    with m:
        assert run_install(m) is Outcome.FINISHED
        installed(m)
        status = m.succeed("zpool status rpool")
        assert "mirror-0" in status and "mirror-1" in status
        check_host(m, "matrix5")


def test_btrfs_raid1_on_two_disks_with_ovmf_compresses_with_zstd(build, tmp_path):
    m = iso_machine(build, tmp_path, "btrfs-raid1", "uefi", [Disk(12 * GiB)] * 2,
                    answer("matrix6", "btrfs", ["vda", "vdb"], 'btrfs.raid = "RAID1"\nbtrfs.compress = "zstd"'))
    with m:
        assert run_install(m) is Outcome.FINISHED
        installed(m)
        assert "compress=zstd" in m.succeed("grep ' / ' /etc/fstab")
        assert "RAID1" in m.succeed("btrfs filesystem df /")
        check_host(m, "matrix6")


def test_ext4_on_a_4kn_disk_with_ovmf_has_no_bios_boot_partition(build, tmp_path):
    m = iso_machine(build, tmp_path, "ext4-4kn", "uefi", [Disk(24 * GiB, logical_block_size=4096)],
                    answer("matrix7", "ext4", ["vda"]))
    with m:
        assert run_install(m) is Outcome.FINISHED
        installed(m)
        assert m.succeed("blockdev --getss /dev/vda").strip() == "4096"
        assert BIOS_BOOT_GUID not in m.succeed("lsblk -n -o PARTTYPE /dev/vda").lower()
        check_host(m, "matrix7")


HIDE_VDB = "--config 'devices { global_filter = [ \"r|^/dev/vdb$|\" ] }'"
SELECTED_OLD_CONTENT = [
    # the selected vda: an old `pve` VG on p1 and an md RAID1 over p2 and p3
    "sgdisk -n1:0:+2G -t1:8e00 -n2:0:+1G -t2:fd00 -n3:0:+1G -t3:fd00 /dev/vda",
    "udevadm settle && partx -u /dev/vda; udevadm settle",
    "mdadm --create /dev/md/old --run --level=1 --raid-devices=2 --metadata=1.2 /dev/vda2 /dev/vda3",
    "mkfs.ext4 -q /dev/md/old",
    # made after the VG on vdb, so that VG is hidden from these commands: LVM refuses a duplicate name it sees
    f"pvcreate -q /dev/vda1 && vgcreate -q {HIDE_VDB} pve /dev/vda1",
    f"lvcreate -q -y {HIDE_VDB} -L 512M -n root pve",
]


def test_old_content_on_the_selected_disk_is_gone_and_the_unselected_disks_keep_their_data(build, tmp_path):
    """An ext4 install creates VG `pve`, so the old `pve` VG on an unselected disk is renamed (Proxmox renames
    only a VG or pool of the name the install creates)."""
    disks = [Disk(12 * GiB), Disk(1 * GiB), Disk(256 * 1024 * 1024)]
    m = iso_machine(build, tmp_path, "old-content", "bios", disks, answer("matrix8", "ext4", ["vda"]))
    with m:
        # First boot: the debug shell puts old storage on every disk, then the machine is switched off.
        m.start()
        m.select_boot_entry("d")
        m.wait_for_debug_shell("before-install", timeout=BOOT_TIMEOUT)
        # unselected vdb: a `pve` VG whose LV holds data that must survive; unselected vdc: raw data
        m.succeed("pvcreate -q /dev/vdb && vgcreate -q pve /dev/vdb && lvcreate -q -y -L 128M -n keep pve")
        m.succeed("dd if=/dev/urandom of=/dev/pve/keep bs=1M count=128 status=none && sync")
        keep_sum = m.succeed("sha256sum < /dev/pve/keep").split()[0]
        m.succeed("vgchange -q -an pve")
        m.succeed("dd if=/dev/urandom of=/dev/vdc bs=1M count=256 status=none && sync")
        raw_sum = m.succeed("sha256sum < /dev/vdc").split()[0]
        for command in SELECTED_OLD_CONTENT:
            m.succeed(command)
        vgs = m.succeed("vgs --noheadings -o vg_name,vg_uuid 2>/dev/null").split()
        assert vgs.count("pve") == 2, f"two VGs named pve: {vgs}"
        m.succeed("vgchange -q -an --select vg_name=pve; mdadm --stop --scan; sync")
        m.stop()

        assert run_install(m) is Outcome.FINISHED
        installed(m)
        plan = json.loads(m.succeed("cat /var/log/keel/storage-plan.json"))
        assert [(r["kind"], r["old"], r["devices"]) for r in plan["rename"]] == [("lvm-vg", "pve", ["/dev/vdb"])]
        new_name = plan["rename"][0]["new"]
        assert new_name.startswith("pve-OLD-") and len(new_name) == len("pve-OLD-") + 8
        # the VG on the unselected disk is renamed, with its data intact; the old VG and md array are gone
        pvs = m.succeed("pvs --noheadings -o pv_name,vg_name").split()
        assert sorted(zip(pvs[::2], pvs[1::2], strict=True)) == [("/dev/vda3", "pve"), ("/dev/vdb", new_name)]
        assert m.succeed("lvs --noheadings -o lv_name pve").split() == sorted(lv["name"] for lv in plan["lvm"]["lvs"])
        m.succeed(f"vgchange -q -ay {new_name}")
        assert m.succeed(f"sha256sum < /dev/{new_name}/keep").split()[0] == keep_sum
        assert m.succeed("sha256sum < /dev/vdc").split()[0] == raw_sum
        # no md array and no md superblock left on the selected disk (the payload has no mdadm)
        assert "raid" not in m.succeed("lsblk -n -o TYPE /dev/vda")
        assert "linux_raid_member" not in m.succeed("lsblk -n -o FSTYPE /dev/vda")
        check_host(m, "matrix8")


def test_an_answer_from_a_pinned_https_url_is_fetched_with_the_system_info(build, tmp_path):
    with HostServer(https=True) as server:
        webhook = (f'[post-installation-webhook]\nurl = "{server.guest_url("webhook")}"\n'
                   f'cert-fingerprint = "{server.fingerprint}"\n')
        server.serve("answer", answer("matrix9", "ext4", ["vda"]) + webhook)
        m = kernel_machine(build, tmp_path, "answer-https", [Disk(24 * GiB)],
                           [f"keel.answer={server.guest_url('answer')}", f"keel.fingerprint={server.fingerprint}"])
        with m:
            assert run_install(m, menu=False) is Outcome.FINISHED
            info = json.loads(server.posts("/answer")[0].body)
            assert info["$schema"] == {"version": "1.0"} and info["network_interfaces"]
            report = json.loads(server.posts("/webhook")[0].body)
            installed(m)
            check_host(m, "matrix9")
            # the host keys were made during the install: the report shows the ones the machine serves
            for kind in ("ed25519", "ecdsa", "rsa"):
                reported = report["ssh-public-host-keys"][kind].split()[:2]
                assert reported and reported == m.succeed(f"cat /etc/ssh/ssh_host_{kind}_key.pub").split()[:2]
            assert m.succeed("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").split()[1].startswith("SHA256:")


def test_a_wrong_fingerprint_is_refused_and_nothing_is_written(build, tmp_path):
    with HostServer(https=True) as server:
        server.serve("answer", answer("matrix9b", "ext4", ["vda"]))
        m = kernel_machine(build, tmp_path, "answer-wrong-pin", [Disk(24 * GiB)],
                           [f"keel.answer={server.guest_url('answer')}", f"keel.fingerprint={'00' * 32}"])
        with m:
            assert run_install(m, menu=False) is Outcome.REFUSED
            assert "does not match keel.fingerprint" in m.console_tail(80)
            assert server.posts("/answer") == []
            m.stop()
            assert m.disk_path(0).stat().st_size < 64 * 1024 * 1024, "the disk image was never written"


def test_a_too_small_disk_is_refused_before_any_write(build, tmp_path):
    m = iso_machine(build, tmp_path, "too-small", "bios", [Disk(4 * GiB)], answer("matrix10", "ext4", ["vda"]))
    with m:
        assert run_install(m) is Outcome.REFUSED
        m.stop()
        assert m.disk_path(0).stat().st_size < 64 * 1024 * 1024


def test_a_command_failing_mid_install_ends_in_a_clear_error_without_success(build, tmp_path):
    m = kernel_machine(build, tmp_path, "fault", [Disk(24 * GiB)], ["keel.fault=unsquashfs"],
                       answer("matrix10b", "ext4", ["vda"]))
    with m:
        assert run_install(m, menu=False) is Outcome.FAILED
        m.wait_for_line([r"^full log: /var/log/keel/install\.log$"], timeout=60)
        assert "Installation finished" not in m.console_tail(200)
