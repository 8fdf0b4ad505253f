"""The filesystem UUIDs a plan pre-chooses (mkfs gets them), deterministic unless the caller supplies random ones.

Keys: "root" (ext4/xfs/btrfs filesystem UUID) and "esp:<disk path>" (vfat volume id "ABCD-1234").
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence

from installer.core.hardware import Disk

NAMESPACE = uuid.UUID("6b8f2a4e-6d1c-5b7a-9e3f-4c2d1a0b9e87")   # Keel's own uuid5 namespace
VFAT_ID = re.compile(r"^[0-9A-F]{4}-[0-9A-F]{4}$")


def esp_key(disk_path: str) -> str:
    return f"esp:{disk_path}"


def _seed(disks: Sequence[Disk], fqdn: str) -> str:
    return "|".join([fqdn, *(f"{d.path}={d.serial}" for d in disks)])


def derived_uuids(disks: Sequence[Disk], fqdn: str, *, root: bool) -> dict[str, str]:
    """uuid5 values from the selected disks (paths and serials) and the FQDN: stable across runs and machines."""
    seed = _seed(disks, fqdn)
    out = {}
    if root:
        out["root"] = str(uuid.uuid5(NAMESPACE, f"{seed}|root"))
    for disk in disks:
        raw = uuid.uuid5(NAMESPACE, f"{seed}|esp|{disk.path}").hex[:8].upper()
        out[esp_key(disk.path)] = f"{raw[:4]}-{raw[4:]}"
    return out


def choose_uuids(disks: Sequence[Disk], fqdn: str, *, root: bool,
                 given: Mapping[str, str] | None) -> tuple[dict[str, str], list[str]]:
    """The UUIDs to use: the caller's where given, derived ones for the rest; problems name a malformed key."""
    chosen = derived_uuids(disks, fqdn, root=root)
    problems = []
    for key, value in (given or {}).items():
        if key not in chosen:
            continue
        if key == "root":
            try:
                value = str(uuid.UUID(value))
            except ValueError:
                problems.append(f"uuids.root: '{value}' is not a UUID")
                continue
        elif not VFAT_ID.match(value.upper()):
            problems.append(f"uuids.{key}: '{value}' is not a vfat volume id like ABCD-1234")
            continue
        chosen[key] = value.upper() if key != "root" else value
    return chosen, problems
