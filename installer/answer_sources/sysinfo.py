"""The system-information JSON an HTTP answer server receives (reference §7.3), built from the probed hardware.

Proxmox's keys stay as Proxmox's installer sends them; Keel adds one key of its own, `keel`, holding the whole
HardwareProfile, so a keel-server can validate the answer against this machine's inventory before serving it.
"""

from __future__ import annotations

import json
from typing import Any

from installer.core.hardware import HardwareProfile

SCHEMA_VERSION = "1.0"
# HardwareProfile.dmi keys are "<group>.<field>"; the request nests them as {group: {field: value}}.
DMI_FIELDS = {
    "system": ("serial", "sku", "uuid", "name"),
    "baseboard": ("asset_tag", "serial", "name"),
    "chassis": ("serial", "sku", "asset_tag"),
}


def system_info(hardware: HardwareProfile, *, version: str, product: str = "pve") -> dict[str, Any]:
    """The POST body: product, ISO release, DMI identifiers present on this machine, NIC names and MACs, and
    under `keel` the HardwareProfile as its own to_json writes it."""
    dmi: dict[str, dict[str, str]] = {}
    for group, fields in DMI_FIELDS.items():
        values = {f: hardware.dmi[f"{group}.{f}"] for f in fields if f"{group}.{f}" in hardware.dmi}
        dmi[group] = values
    release, _, isorelease = version.partition("-")
    return {
        "$schema": {"version": SCHEMA_VERSION},
        "product": {"fullname": "Keel (Proxmox VE compatible)", "product": product, "enable_btrfs": True},
        "iso": {"release": release or "0", "isorelease": isorelease or "1"},
        "dmi": dmi,
        "network_interfaces": [{"link": nic.name, "mac": nic.mac.lower()}
                               for nic in sorted(hardware.nics, key=lambda n: (n.index, n.name))
                               if nic.name != "lo"],
        "keel": {"hardware": json.loads(hardware.to_json())},
    }
