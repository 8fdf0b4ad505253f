"""The QEMU command line for a machine: a pure function of its spec and the files the harness prepared."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .spec import NIC_MODELS, Disk, Iso, Kernel, MachineSpec, Nic, Pxe, UsbImage

QEMU = "qemu-system-x86_64"


@dataclass(frozen=True)
class Ovmf:
    """One OVMF build: its code (shared, read-only) and the variable store each machine starts a copy of."""

    code: Path
    vars_template: Path


OVMF = Ovmf(Path("/usr/share/OVMF/OVMF_CODE_4M.fd"), Path("/usr/share/OVMF/OVMF_VARS_4M.fd"))
# Debian's Secure Boot build (it needs SMM) and a store with Microsoft's keys enrolled, so shim boots.
OVMF_SECURE_BOOT = Ovmf(Path("/usr/share/OVMF/OVMF_CODE_4M.ms.fd"), Path("/usr/share/OVMF/OVMF_VARS_4M.ms.fd"))


def ovmf_for(spec: MachineSpec) -> Ovmf:
    return OVMF_SECURE_BOOT if spec.secure_boot else OVMF


@dataclass(frozen=True)
class DiskFile:
    path: Path
    format: str  # "qcow2" or "raw"


@dataclass(frozen=True)
class MachineFiles:
    """Host files a machine runs on; made by the Machine before it builds the command line."""

    qmp_socket: Path
    disks: tuple[DiskFile, ...] = ()
    boot_overlay: Path | None = None  # qcow2 overlay over a UsbImage
    ovmf_vars: Path | None = None
    tftp_dir: Path | None = None  # the prepared TFTP directory of a Pxe(http_root=...) or UEFI Pxe boot


def nic_mac(machine: str, index: int, nic: Nic) -> str | None:
    """The MAC a NIC shows: its own, or for a LAN NIC one derived from machine name and NIC index.

    NICs on user networking keep QEMU's default (each has a LAN of its own). On a shared LAN every NIC needs a
    distinct address, and the same machine must get the same one on every boot (DHCP reservations,
    keel.ifname=<name>:<MAC>); 52:54:00 is QEMU's prefix.
    """
    if nic.mac is not None:
        return nic.mac.lower()
    if nic.network is None:
        return None
    digest = hashlib.sha256(f"{machine}/{index}".encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def pxe_bootfile(spec: MachineSpec) -> str | None:
    """The file QEMU's DHCP names for the first NIC: the iPXE script (SeaBIOS) or the EFI loader (OVMF)."""
    if not isinstance(spec.boot, Pxe) or not spec.nics or spec.nics[0].network is not None:
        return None
    return spec.boot.efi_loader if spec.firmware == "uefi" else spec.boot.bootfile


def disk_serial(index: int, disk: Disk) -> str:
    """The serial number a disk shows the guest (/dev/disk/by-id names are built from it)."""
    return disk.serial or f"KEELDISK{index}"


def qemu_argv(spec: MachineSpec, files: MachineFiles, allow_reboot: bool = True) -> list[str]:
    """Build the full argument list; the console is the first serial port, on QEMU's stdio."""
    if len(files.disks) != len(spec.disks):
        raise ValueError(f"{len(spec.disks)} disks in the spec but {len(files.disks)} disk files")
    argv = [
        QEMU,
        "-name", spec.name,
        "-machine", "q35,smm=on" if spec.secure_boot else "q35",
        # One TCG thread for all vCPUs unless the spec asks otherwise: with multi-threaded TCG, Linux's live code
        # patching (static keys, text_poke_bp) races QEMU 7.2's translation cache and the guest dies with "Oops:
        # int3" (seen in dequeue_entity on the installed system's first boot). Single-threaded TCG handles it
        # correctly; "multi" is for measurements that accept that risk (a benchmark, never a test).
        "-accel", f"tcg,thread={spec.tcg_threads}",
        "-cpu", "max",
        "-smp", str(spec.cpus),
        "-m", str(spec.memory),
        "-nodefaults",
        "-display", "none",
        "-device", "VGA",
        # signal=off: a ^C typed at the guest's console goes to the guest, not to QEMU.
        "-chardev", "stdio,id=console,signal=off",
        "-serial", "chardev:console",
        "-qmp", f"unix:{files.qmp_socket},server=on,wait=off",
        "-device", "virtio-rng-pci",
    ]
    if not allow_reboot:
        argv.append("-no-reboot")
    if spec.firmware == "uefi":
        if files.ovmf_vars is None:
            raise ValueError(f"machine {spec.name}: UEFI needs a private OVMF vars file")
        if spec.secure_boot:
            # The variable store may be written only from SMM, so the OS cannot change the keys.
            argv += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
        argv += [
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={ovmf_for(spec).code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={files.ovmf_vars}",
        ]

    boot_first = spec.boot != "disk"
    next_index = 1 if boot_first else 0
    sata_port = 0
    needs_xhci = any(d.bus == "usb" for d in spec.disks) or spec.answer_image is not None or (
        isinstance(spec.boot, UsbImage) and spec.boot.bus == "usb"
    )
    if needs_xhci:
        argv += ["-device", "qemu-xhci,id=xhci"]
    if any(d.bus == "scsi" for d in spec.disks):
        argv += ["-device", "virtio-scsi-pci,id=scsi0"]

    boot = spec.boot
    cd_image = boot.path if isinstance(boot, Iso) else boot.medium if isinstance(boot, Kernel) else None
    if cd_image is not None:
        argv += ["-drive", f"if=none,id=cd0,media=cdrom,readonly=on,format=raw,file={cd_image}"]
        cd_dev = f"ide-cd,drive=cd0,bus=ide.{sata_port}"
        argv += ["-device", cd_dev + (",bootindex=0" if isinstance(boot, Iso) else "")]
        sata_port += 1
    if isinstance(boot, UsbImage):
        if files.boot_overlay is None:
            raise ValueError(f"machine {spec.name}: a USB image boots through a qcow2 overlay")
        argv += ["-drive", f"if=none,id=stick0,format=qcow2,cache=unsafe,file={files.boot_overlay}"]
        if boot.bus == "usb":
            argv += ["-device", "usb-storage,bus=xhci.0,drive=stick0,removable=on,serial=KEELSTICK,bootindex=0"]
        else:
            argv += ["-device", "virtio-blk-pci,drive=stick0,serial=KEELSTICK,bootindex=0"]
    if isinstance(boot, Kernel):
        argv += ["-kernel", str(boot.vmlinuz), "-initrd", str(boot.initrd)]
        argv += ["-append", " ".join(x for x in (boot.cmdline, *spec.extra_kernel_args) if x)]

    for i, (disk, file) in enumerate(zip(spec.disks, files.disks, strict=True)):
        drive_id = f"disk{i}"
        argv += ["-drive", f"if=none,id={drive_id},format={file.format},cache=unsafe,discard=unmap,file={file.path}"]
        serial = disk_serial(i, disk)
        blocks = f"logical_block_size={disk.logical_block_size},physical_block_size={disk.logical_block_size}"
        if disk.bus == "virtio":
            dev = f"virtio-blk-pci,drive={drive_id},serial={serial},{blocks}"
        elif disk.bus == "scsi":
            dev = f"scsi-hd,drive={drive_id},bus=scsi0.0,serial={serial},{blocks}"
        elif disk.bus == "sata":
            dev = f"ide-hd,drive={drive_id},bus=ide.{sata_port},serial={serial}"
            sata_port += 1
        elif disk.bus == "nvme":
            dev = f"nvme,drive={drive_id},serial={serial},{blocks}"
        else:
            dev = f"usb-storage,bus=xhci.0,drive={drive_id},serial={serial}"
        argv += ["-device", f"{dev},bootindex={next_index}"]
        next_index += 1

    if spec.answer_image is not None:
        argv += ["-drive", f"if=none,id=answer0,format=raw,readonly=on,file={spec.answer_image}"]
        argv += ["-device", "usb-storage,bus=xhci.0,drive=answer0,removable=on,serial=KEELANSWER"]

    for i, nic in enumerate(spec.nics):
        if nic.network is not None:
            # A port on the harness's vde_switch (keel_harness.network): an Ethernet segment on this host only.
            netdev = f"vde,id=net{i},sock={nic.network}"
        else:
            netdev = f"user,id=net{i}"
            bootfile = pxe_bootfile(spec) if i == 0 else None
            if isinstance(boot, Pxe) and bootfile is not None:
                netdev += f",tftp={files.tftp_dir or boot.tftp_dir},bootfile={bootfile}"
        argv += ["-netdev", netdev]
        # A fixed PCI slot: the NIC's predictable name (enp0sN) must not change when an answer stick or a USB
        # controller comes or goes between the install and the boot of the installed system.
        dev = f"{NIC_MODELS[nic.model]},netdev=net{i},addr=0x{0x18 + i:x}"
        mac = nic_mac(spec.name, i, nic)
        if mac:
            dev += f",mac={mac}"
        if i == 0 and isinstance(boot, Pxe):
            dev += ",bootindex=0"
        argv += ["-device", dev]
    argv += list(spec.extra_qemu_args)
    return argv
