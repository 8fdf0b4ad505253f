"""The QEMU command line built from a machine description (expected fragments follow build-host.md's flags)."""

from pathlib import Path

import pytest

from keel_harness.qemu_argv import DiskFile, MachineFiles, qemu_argv
from keel_harness.spec import Disk, GiB, HarnessError, Iso, Kernel, MachineSpec, MiB, Nic, Pxe, UsbImage

SOCK = Path("/run/t/qmp.sock")


def files(n_disks: int = 0, **kwargs) -> MachineFiles:
    disks = tuple(DiskFile(Path(f"/run/t/disk{i}.qcow2"), "qcow2") for i in range(n_disks))
    return MachineFiles(qmp_socket=SOCK, disks=disks, **kwargs)


def values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_a_bios_machine_runs_tcg_q35_with_the_console_on_stdio_and_qmp_on_a_socket():
    argv = qemu_argv(MachineSpec("m1", memory=3072, cpus=2, nics=()), files())
    assert argv[:3] == ["qemu-system-x86_64", "-name", "m1"]
    assert values(argv, "-machine") == ["q35"]
    assert values(argv, "-accel") == ["tcg,thread=single"]
    assert values(argv, "-cpu") == ["max"]
    assert values(argv, "-m") == ["3072"]
    assert values(argv, "-smp") == ["2"]
    assert "-nodefaults" in argv
    assert values(argv, "-chardev") == ["stdio,id=console,signal=off"]
    assert values(argv, "-serial") == ["chardev:console"]
    assert values(argv, "-qmp") == ["unix:/run/t/qmp.sock,server=on,wait=off"]
    assert not any("pflash" in a for a in argv)
    assert "-no-reboot" not in argv


def test_multi_threaded_tcg_only_when_the_spec_asks_for_it():
    assert values(qemu_argv(MachineSpec("m1", tcg_threads="multi"), files()), "-accel") == ["tcg,thread=multi"]
    with pytest.raises(HarnessError, match="tcg_threads='many' is not 'single' or 'multi'"):
        MachineSpec("m1", tcg_threads="many")


def test_uefi_uses_the_shared_code_read_only_and_the_machines_own_vars():
    argv = qemu_argv(MachineSpec("m1", firmware="uefi"), files(ovmf_vars=Path("/run/t/VARS.fd")))
    assert values(argv, "-drive")[:2] == [
        "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
        "if=pflash,format=raw,unit=1,file=/run/t/VARS.fd",
    ]


def test_secure_boot_runs_the_smm_firmware_on_a_secure_flash():
    argv = qemu_argv(MachineSpec("m1", firmware="uefi", secure_boot=True), files(ovmf_vars=Path("/run/t/VARS.fd")))
    assert values(argv, "-machine") == ["q35,smm=on"]
    assert values(argv, "-global") == ["driver=cfi.pflash01,property=secure,value=on"]
    assert values(argv, "-drive")[:2] == [
        "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
        "if=pflash,format=raw,unit=1,file=/run/t/VARS.fd",
    ]


def test_uefi_without_a_vars_file_is_a_programming_error():
    with pytest.raises(ValueError, match="vars"):
        qemu_argv(MachineSpec("m1", firmware="uefi"), files())


def test_an_iso_is_a_read_only_cd_that_boots_first_and_disks_follow_in_order():
    spec = MachineSpec("m1", disks=(Disk(8 * GiB), Disk(8 * GiB)), boot=Iso(Path("/b/keel.iso")))
    argv = qemu_argv(spec, files(2))
    assert "if=none,id=cd0,media=cdrom,readonly=on,format=raw,file=/b/keel.iso" in values(argv, "-drive")
    devices = values(argv, "-device")
    assert "ide-cd,drive=cd0,bus=ide.0,bootindex=0" in devices
    blocks = "logical_block_size=512,physical_block_size=512"
    assert f"virtio-blk-pci,drive=disk0,serial=KEELDISK0,{blocks},bootindex=1" in devices
    assert f"virtio-blk-pci,drive=disk1,serial=KEELDISK1,{blocks},bootindex=2" in devices


def test_disk_images_are_writeback_unsafe_with_discard_since_they_are_throwaway():
    argv = qemu_argv(MachineSpec("m1", disks=(Disk(GiB),)), files(1))
    assert "if=none,id=disk0,format=qcow2,cache=unsafe,discard=unmap,file=/run/t/disk0.qcow2" in values(argv, "-drive")


def test_booting_from_disk_gives_the_first_disk_bootindex_zero():
    argv = qemu_argv(MachineSpec("m1", disks=(Disk(GiB),)), files(1))
    devices = values(argv, "-device")
    assert any(d.startswith("virtio-blk-pci,drive=disk0") and d.endswith("bootindex=0") for d in devices)


def test_a_4kn_nvme_disk_has_4096_byte_logical_and_physical_blocks():
    argv = qemu_argv(MachineSpec("m1", disks=(Disk(GiB, bus="nvme", logical_block_size=4096),)), files(1))
    assert "nvme,drive=disk0,serial=KEELDISK0,logical_block_size=4096,physical_block_size=4096,bootindex=0" in values(
        argv, "-device"
    )


def test_scsi_disks_share_one_virtio_scsi_controller():
    spec = MachineSpec("m1", disks=(Disk(GiB, bus="scsi"), Disk(GiB, bus="scsi", serial="data-1")))
    devices = values(qemu_argv(spec, files(2)), "-device")
    assert devices.count("virtio-scsi-pci,id=scsi0") == 1
    blocks = "logical_block_size=512,physical_block_size=512"
    assert f"scsi-hd,drive=disk1,bus=scsi0.0,serial=data-1,{blocks},bootindex=1" in devices


def test_sata_disks_take_the_ahci_ports_after_the_cd():
    spec = MachineSpec("m1", disks=(Disk(GiB, bus="sata"), Disk(GiB, bus="sata")), boot=Iso(Path("/k.iso")))
    devices = values(qemu_argv(spec, files(2)), "-device")
    assert "ide-hd,drive=disk0,bus=ide.1,serial=KEELDISK0,bootindex=1" in devices
    assert "ide-hd,drive=disk1,bus=ide.2,serial=KEELDISK1,bootindex=2" in devices


def test_a_usb_image_boots_from_its_overlay_on_an_xhci_stick():
    spec = MachineSpec("m1", boot=UsbImage(Path("/b/keel.iso")))
    argv = qemu_argv(spec, files(boot_overlay=Path("/run/t/stick.qcow2")))
    assert "if=none,id=stick0,format=qcow2,cache=unsafe,file=/run/t/stick.qcow2" in values(argv, "-drive")
    devices = values(argv, "-device")
    assert "qemu-xhci,id=xhci" in devices
    assert "usb-storage,bus=xhci.0,drive=stick0,removable=on,serial=KEELSTICK,bootindex=0" in devices
    assert not any("/b/keel.iso" in a for a in argv)


def test_a_usb_image_can_also_be_a_virtio_disk():
    spec = MachineSpec("m1", boot=UsbImage(Path("/b/keel.iso"), bus="virtio"))
    devices = values(qemu_argv(spec, files(boot_overlay=Path("/run/t/stick.qcow2"))), "-device")
    assert "virtio-blk-pci,drive=stick0,serial=KEELSTICK,bootindex=0" in devices
    assert "qemu-xhci,id=xhci" not in devices


def test_pxe_puts_tftp_on_the_first_nics_user_network_and_boots_that_nic_first():
    spec = MachineSpec(
        "m1", disks=(Disk(GiB),), nics=(Nic(mac="52:54:00:12:34:56"), Nic("e1000e")), boot=Pxe(Path("/t"))
    )
    argv = qemu_argv(spec, files(1))
    assert values(argv, "-netdev") == ["user,id=net0,tftp=/t,bootfile=boot.ipxe", "user,id=net1"]
    devices = values(argv, "-device")
    assert "virtio-net-pci,netdev=net0,addr=0x18,mac=52:54:00:12:34:56,bootindex=0" in devices
    assert "e1000e,netdev=net1,addr=0x19" in devices
    assert any(d.startswith("virtio-blk-pci,drive=disk0") and d.endswith("bootindex=1") for d in devices)


def test_a_pxe_boot_with_an_http_root_uses_the_tftp_dir_the_machine_prepared():
    spec = MachineSpec("m1", boot=Pxe(Path("/b/pxe"), http_root=Path("/b/pxe")), extra_kernel_args=("quiet",))
    argv = qemu_argv(spec, files(tftp_dir=Path("/run/t/tftp")))
    assert values(argv, "-netdev") == ["user,id=net0,tftp=/run/t/tftp,bootfile=boot.ipxe"]


def test_direct_kernel_boot_appends_the_extra_kernel_arguments():
    boot = Kernel(Path("/p/vmlinuz"), Path("/p/initrd.img"), "boot=live keel.mode=auto", medium=Path("/k.iso"))
    argv = qemu_argv(MachineSpec("m1", boot=boot, extra_kernel_args=("keel.fault=mkfs.xfs",)), files())
    assert values(argv, "-kernel") == ["/p/vmlinuz"]
    assert values(argv, "-initrd") == ["/p/initrd.img"]
    assert values(argv, "-append") == ["boot=live keel.mode=auto keel.fault=mkfs.xfs"]
    assert "ide-cd,drive=cd0,bus=ide.0" in values(argv, "-device")


def test_the_answer_image_is_a_read_only_usb_stick():
    argv = qemu_argv(MachineSpec("m1", answer_image=Path("/run/t/answer.img")), files())
    assert "if=none,id=answer0,format=raw,readonly=on,file=/run/t/answer.img" in values(argv, "-drive")
    assert "usb-storage,bus=xhci.0,drive=answer0,removable=on,serial=KEELANSWER" in values(argv, "-device")


def test_without_reboots_qemu_exits_when_the_guest_resets():
    assert "-no-reboot" in qemu_argv(MachineSpec("m1"), files(), allow_reboot=False)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Disk(GiB, bus="ide"), "Disk.bus"),
        (lambda: Disk(GiB, logical_block_size=1024), "logical_block_size"),
        (lambda: Disk(GiB, bus="sata", logical_block_size=4096), "4096-byte"),
        (lambda: Disk(), "exactly one"),
        (lambda: Disk(GiB, image=Path("/x")), "exactly one"),
        (lambda: Disk(512 * 1024), "below 1 MiB"),
        (lambda: Disk(MiB, serial="has space"), "Disk.serial"),
        (lambda: Nic(mac="52:54:00:12:34"), "Nic.mac"),
        (lambda: Nic(model="rtl8139"), "Nic.model"),
        (lambda: MachineSpec("bad name"), "Machine name"),
        (lambda: MachineSpec("m", firmware="efi"), "firmware"),
        (lambda: MachineSpec("m", memory=128), "memory"),
        (lambda: MachineSpec("m", secure_boot=True), "secure_boot needs firmware='uefi'"),
        (lambda: MachineSpec("m", boot=Iso(Path("/k")), extra_kernel_args=("a=b",)), "extra_kernel_args"),
        (lambda: MachineSpec("m", nics=(), boot=Pxe(Path("/t"))), "needs at least one NIC"),
        (lambda: MachineSpec("m", boot=Pxe(Path("/t")), extra_kernel_args=("a=b",)), "extra_kernel_args"),
        (lambda: MachineSpec("m", boot=Iso(Path("/k")), disks=(Disk(GiB, bus="sata"),) * 6), "AHCI ports"),
    ],
    ids=[
        "an unknown disk bus",
        "a block size other than 512 or 4096",
        "a 4Kn SATA disk",
        "a disk with no size, image or base",
        "a disk with both size and image",
        "a disk below 1 MiB",
        "a disk serial with a space",
        "a MAC with five octets",
        "an unknown NIC model",
        "a machine name with a space",
        "firmware spelled efi",
        "128 MiB of memory",
        "Secure Boot under SeaBIOS",
        "kernel arguments for an ISO boot",
        "PXE without a NIC",
        "kernel arguments for a PXE boot from a fixed TFTP dir",
        "seven SATA devices counting the CD",
    ],
)
def test_a_wrong_machine_description_fails_with_a_message_naming_the_key(make, message):
    with pytest.raises(HarnessError, match=message):
        make()



def test_nic_keeps_its_pci_slot_whether_or_not_an_answer_stick_is_plugged():
    def nic_devices(answer_image):
        spec = MachineSpec("m1", disks=(Disk(GiB),), answer_image=answer_image)
        return [d for d in values(qemu_argv(spec, files(1)), "-device") if "netdev=" in d]

    assert nic_devices(Path("/run/t/answer.img")) == nic_devices(None)
    assert nic_devices(None)[0].endswith(",addr=0x18")
