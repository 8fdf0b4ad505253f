"""What keel-boot-tool knows about a block device, and the safety rules `format` and `init` apply to it."""

from __future__ import annotations

import json
from dataclasses import dataclass

ESP_TYPE_GUID = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
MIN_ESP_BYTES = 256 * 1024 * 1024


class DeviceError(RuntimeError):
    """A device is unfit for what was asked; the message names the device."""


@dataclass(frozen=True)
class BlockInfo:
    path: str
    type: str  # lsblk TYPE: disk, part, loop, ...
    size: int
    parent: str | None  # the parent disk's kernel name (lsblk PKNAME)
    fstype: str | None
    uuid: str | None
    parttype: str | None
    mountpoints: tuple[str, ...]
    children: tuple[str, ...]


def parse_lsblk(text: str) -> BlockInfo:
    """One device from `lsblk --json --bytes -o NAME,PATH,TYPE,SIZE,FSTYPE,UUID,PARTTYPE,PKNAME,MOUNTPOINTS`."""
    devices = json.loads(text).get("blockdevices") or []
    if not devices:
        raise DeviceError("lsblk reported no device")
    dev = devices[0]
    mountpoints = tuple(m for m in (dev.get("mountpoints") or [dev.get("mountpoint")]) if m)
    return BlockInfo(
        path=dev.get("path") or f"/dev/{dev['name']}",
        type=dev.get("type") or "",
        size=int(dev.get("size") or 0),
        parent=dev.get("pkname") or None,
        fstype=dev.get("fstype") or None,
        uuid=dev.get("uuid") or None,
        parttype=(dev.get("parttype") or "").lower() or None,
        mountpoints=mountpoints,
        children=tuple(c.get("path") or c["name"] for c in dev.get("children") or []),
    )


def format_refusal(info: BlockInfo, force: bool) -> str | None:
    """Why `format` must not touch this device, or None when it may."""
    if info.type != "part" or not info.parent:
        return f"'{info.path}' is a whole disk ({info.type}): please provide a partition, not a full disk"
    if info.children:
        return f"'{info.path}' is in use by {', '.join(info.children)}"
    if info.size < MIN_ESP_BYTES:
        return f"'{info.path}' is too small (<256M): {info.size // (1024 * 1024)} MiB"
    if info.mountpoints:
        return f"'{info.path}' is mounted on {', '.join(info.mountpoints)}"
    if info.fstype and not force:
        return f"'{info.path}' contains a filesystem ({info.fstype}); pass --force to format it anyway"
    return None


def init_refusal(info: BlockInfo) -> str | None:
    """Why `init` cannot use this device as an ESP, or None when it can."""
    if info.type != "part" or not info.parent:
        return f"'{info.path}' is a whole disk ({info.type}): please provide the ESP partition"
    if info.parttype != ESP_TYPE_GUID:
        return (
            f"'{info.path}' is not an EFI system partition (GPT type {info.parttype or 'unknown'}, "
            f"expected {ESP_TYPE_GUID}); 'keel-boot-tool format {info.path}' sets it"
        )
    if info.fstype != "vfat":
        return (
            f"'{info.path}' holds no vfat filesystem (found: {info.fstype or 'none'}); "
            f"run 'keel-boot-tool format {info.path}' first"
        )
    if not info.uuid:
        return f"'{info.path}' has a vfat filesystem without a UUID"
    return None
