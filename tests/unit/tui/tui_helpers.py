"""Helpers for driving wizard widgets like a terminal does: keys in, rendered text out."""

from __future__ import annotations

import os
from pathlib import Path

from installer.core.hardware import (
    Address,
    Disk,
    ExistingContent,
    GiB,
    HardwareProfile,
    NetworkRuntime,
    Nic,
    Route,
)

SIZE = (80, 24)
NAMED_KEYS = {"enter", "esc", "tab", "shift tab", "up", "down", "left", "right", "backspace", "delete", "home",
              "end", "page up", "page down", " "}


def screen_text(widget: object, size: tuple[int, int] = SIZE) -> str:
    """The rendered canvas as text, one line per row."""
    canvas = widget.render(size, focus=True)  # type: ignore[attr-defined]
    return "\n".join(line.decode() for line in canvas.text)


def press(widget: object, *keys: str, size: tuple[int, int] = SIZE) -> None:
    """Feed keys; a key longer than one character that is not a urwid key name is typed letter by letter."""
    for key in keys:
        if len(key) > 1 and key not in NAMED_KEYS and not key.startswith(("meta ", "ctrl ")):
            for ch in key:
                widget.keypress(size, ch)  # type: ignore[attr-defined]
        else:
            widget.keypress(size, key)  # type: ignore[attr-defined]


def shared_dir() -> Path:
    env = os.environ.get("KEEL_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared"


def small_machine(**changes: object) -> HardwareProfile:
    """Four disks (two 32 GiB SATA, one 64 GiB NVMe with an old 'pve' VG, one 6 GiB USB), three NICs."""
    disks = (
        Disk("sda", "/dev/sda", 32 * GiB, index=0, model="QEMU HARDDISK", bus="sata"),
        Disk("sdb", "/dev/sdb", 32 * GiB, index=1, model="QEMU HARDDISK", bus="sata"),
        Disk("nvme0n1", "/dev/nvme0n1", 64 * GiB, index=2, model="Samsung SSD 980", bus="nvme",
             existing=(ExistingContent("partition-table", "/dev/nvme0n1", "gpt"),
                       ExistingContent("lvm-pv", "/dev/nvme0n1p3", "LVM2_member", "pve", "vg-uuid-1"))),
        Disk("sdc", "/dev/sdc", 6 * GiB, index=3, model="USB stick", bus="usb"),
    )
    nics = (
        Nic("enp1s0", "52:54:00:00:00:02", index=3, driver="e1000e", state="DOWN", pinned_id="1",
            udev={"INTERFACE": "enp1s0"}),
        Nic("enp0s1", "52:54:00:00:00:01", index=2, driver="virtio_net", state="UP", pinned_id="0",
            addresses=(Address("inet", "10.0.2.15", 24),), udev={"INTERFACE": "enp0s1"}),
        Nic("enp2s0", "52:54:00:00:00:03", index=4, driver="igb", state="UP", pinned_id="2",
            udev={"INTERFACE": "enp2s0"}),
    )
    runtime = NetworkRuntime(gateway4=Route("enp0s1", "10.0.2.2"), dns=("10.0.2.3",), domain="lab.example",
                             hostname="node7")
    values: dict[str, object] = dict(disks=disks, nics=nics, network=runtime, memory_mib=8192, boot_mode="efi",
                                     hvm=True, country="de")
    values.update(changes)
    return HardwareProfile(**values)  # type: ignore[arg-type]
