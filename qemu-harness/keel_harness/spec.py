"""What a test machine is made of: firmware, disks, NICs and boot source, as frozen values checked on creation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

MiB = 1024**2
GiB = 1024**3

Firmware = Literal["bios", "uefi"]
DiskBus = Literal["virtio", "scsi", "sata", "nvme", "usb"]

FIRMWARES: tuple[str, ...] = ("bios", "uefi")
# How QEMU runs the vCPUs: "single" (one TCG thread for all, the default: see qemu_argv) or "multi" (one thread
# each; for measurements only, e.g. `bench/install_time.py --tcg-threads multi`).
TCG_THREADS: tuple[str, ...] = ("single", "multi")
DISK_BUSES: tuple[str, ...] = ("virtio", "scsi", "sata", "nvme", "usb")
NIC_MODELS: dict[str, str] = {"virtio": "virtio-net-pci", "e1000e": "e1000e", "e1000": "e1000"}
# q35's built-in AHCI controller has six ports (ide.0 .. ide.5); the CD drive takes one of them.
SATA_PORTS = 6


class HarnessError(RuntimeError):
    """A machine description or a harness step is wrong; the message names the machine/key and the problem."""


@dataclass(frozen=True)
class Disk:
    """One virtual disk: a fresh qcow2 of `size`, an existing image, or a qcow2 overlay on `base`."""

    size: int | None = None
    bus: DiskBus = "virtio"
    logical_block_size: int = 512
    image: Path | None = None
    base: Path | None = None
    serial: str | None = None

    def __post_init__(self) -> None:
        if self.bus not in DISK_BUSES:
            raise HarnessError(f"Disk.bus: {self.bus!r} is not one of {', '.join(DISK_BUSES)}")
        if self.logical_block_size not in (512, 4096):
            raise HarnessError(f"Disk.logical_block_size: {self.logical_block_size} is not 512 or 4096")
        sources = [x for x in (self.size, self.image, self.base) if x is not None]
        if len(sources) != 1:
            raise HarnessError("Disk: give exactly one of size=, image= or base=")
        if self.size is not None and self.size < MiB:
            raise HarnessError(f"Disk.size: {self.size} bytes is below 1 MiB")
        if self.logical_block_size == 4096 and self.bus in ("sata", "usb"):
            raise HarnessError(f"Disk: 4096-byte logical blocks are not supported on bus {self.bus!r}")
        if self.serial is not None and (len(self.serial) > 20 or not self.serial.replace("-", "").isalnum()):
            raise HarnessError(f"Disk.serial: {self.serial!r} must be at most 20 letters, digits or dashes")


@dataclass(frozen=True)
class Nic:
    """One NIC: on QEMU user networking (the host's loopback is 10.0.2.2 from the guest) by default, or on a
    harness `Network` (a LAN shared with other machines) when `network` is that network's switch socket.

    Make LAN NICs with `Network.nic()`. A LAN NIC without `mac` gets one derived from the machine's name and
    the NIC's index (qemu_argv.nic_mac), so two machines on one LAN never share QEMU's default MAC.
    """

    model: str = "virtio"
    mac: str | None = None
    network: Path | None = None

    def __post_init__(self) -> None:
        if self.model not in NIC_MODELS:
            raise HarnessError(f"Nic.model: {self.model!r} is not one of {', '.join(NIC_MODELS)}")
        if self.mac is not None:
            parts = self.mac.split(":")
            if len(parts) != 6 or not all(len(p) == 2 and _is_hex(p) for p in parts):
                raise HarnessError(f"Nic.mac: {self.mac!r} is not a MAC address like 52:54:00:12:34:56")


@dataclass(frozen=True)
class Iso:
    """Boot from an ISO image attached as a read-only CD drive."""

    path: Path


@dataclass(frozen=True)
class UsbImage:
    """Boot from an image written "raw" to a stick: attached through a qcow2 overlay so it stays unmodified.

    `bus="usb"` attaches it as usb-storage on an XHCI controller; "virtio" as a plain virtio disk.
    """

    path: Path
    bus: Literal["usb", "virtio"] = "usb"


@dataclass(frozen=True)
class Pxe:
    """Network boot through QEMU's built-in TFTP server and the first NIC.

    SeaBIOS runs the NIC's iPXE option ROM, which fetches `bootfile` itself. OVMF's own PXE client can only
    run an EFI program, so under UEFI QEMU's TFTP hands out `efi_loader` (iPXE's EFI build, from `tftp_dir` or
    else Debian's /usr/lib/ipxe) and the harness then tells that iPXE to chain `bootfile` (see
    Machine.start): QEMU's DHCP server gives every client the same file name, so an unassisted iPXE would
    load itself again and again.

    With `http_root` (e.g. build/pxe) the machine serves that directory on host loopback while it runs and
    boots a boot.ipxe of its own that points keel.ipxe there (`menu_entry`, `extra_kernel_args` passed on);
    without it, `tftp_dir` must already hold the `bootfile` to run.
    """

    tftp_dir: Path
    bootfile: str = "boot.ipxe"
    http_root: Path | None = None
    menu_entry: str | None = None
    efi_loader: str = "ipxe.efi"


@dataclass(frozen=True)
class Kernel:
    """Direct kernel boot (-kernel/-initrd/-append), e.g. to pass extra kernel parameters to the live system."""

    vmlinuz: Path
    initrd: Path
    cmdline: str = ""
    medium: Path | None = None  # an ISO attached as CD, where live-boot finds the squashfs


Boot = Iso | UsbImage | Pxe | Kernel | Literal["disk"]


@dataclass(frozen=True)
class MachineSpec:
    """Everything that decides a machine's QEMU command line."""

    name: str
    firmware: Firmware = "bios"
    memory: int = 2048
    cpus: int = 2
    disks: tuple[Disk, ...] = ()
    nics: tuple[Nic, ...] = (Nic(),)
    boot: Boot = "disk"
    extra_kernel_args: tuple[str, ...] = ()
    answer_image: Path | None = None
    secure_boot: bool = False  # OVMF's Secure Boot build, Microsoft's keys enrolled
    extra_qemu_args: tuple[str, ...] = field(default=())
    tcg_threads: str = "single"

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise HarnessError(f"Machine name {self.name!r}: use letters, digits, '-' and '_' only")
        where = f"machine {self.name}"
        if self.firmware not in FIRMWARES:
            raise HarnessError(f"{where}: firmware {self.firmware!r} is not 'bios' or 'uefi'")
        if self.secure_boot and self.firmware != "uefi":
            raise HarnessError(f"{where}: secure_boot needs firmware='uefi' (it is {self.firmware!r})")
        if self.memory < 256:
            raise HarnessError(f"{where}: memory={self.memory} MiB is too small (at least 256)")
        if not 1 <= self.cpus <= 16:
            raise HarnessError(f"{where}: cpus={self.cpus} must be between 1 and 16")
        if self.tcg_threads not in TCG_THREADS:
            raise HarnessError(f"{where}: tcg_threads={self.tcg_threads!r} is not 'single' or 'multi'")
        if not (self.boot == "disk" or isinstance(self.boot, Iso | UsbImage | Pxe | Kernel)):
            raise HarnessError(f"{where}: boot={self.boot!r} is not Iso(), UsbImage(), Pxe(), Kernel() or 'disk'")
        if isinstance(self.boot, Pxe) and not self.nics:
            raise HarnessError(f"{where}: boot=Pxe() needs at least one NIC")
        takes_args = isinstance(self.boot, Kernel) or (isinstance(self.boot, Pxe) and self.boot.http_root)
        if self.extra_kernel_args and not takes_args:
            raise HarnessError(
                f"{where}: extra_kernel_args need boot=Kernel() or Pxe(http_root=...) (a GRUB menu fixes its own)"
            )
        sata = sum(1 for d in self.disks if d.bus == "sata") + (1 if self._uses_cd() else 0)
        if sata > SATA_PORTS:
            raise HarnessError(f"{where}: {sata} SATA devices (disks + CD) exceed the {SATA_PORTS} AHCI ports")

    def _uses_cd(self) -> bool:
        return isinstance(self.boot, Iso) or (isinstance(self.boot, Kernel) and self.boot.medium is not None)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
