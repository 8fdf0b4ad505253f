"""The system information a machine POSTs to /answer (Proxmox's schema 1.0, reference §7.3, plus Keel's
`keel.hardware`): checked for shape, and reduced to the identity the inventory keys on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from installer.core.hardware import HardwareProfile
from installer.core.jsoncodec import DecodeError
from keel_server.errors import bad_request

MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# DMI values firmware vendors leave in place of a real serial or UUID: they identify nothing.
PLACEHOLDERS = {"", "0", "none", "default string", "to be filled by o.e.m.", "not specified", "system serial number",
                "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "unknown"}


@dataclass(frozen=True)
class SystemInfo:
    data: dict[str, Any]                 # as POSTed, without `keel`
    macs: tuple[str, ...]                # lower case, in the order sent
    serial: str                          # DMI system serial, "" when it is a placeholder
    uuid: str                            # DMI system UUID, lower case, "" when it is a placeholder
    hardware: HardwareProfile | None     # Keel's inventory, when the installer sent it
    hardware_json: dict[str, Any] | None


def normalize_mac(mac: str) -> str | None:
    value = mac.strip().lower().replace("-", ":")
    return value if MAC.match(value) else None


def _meaningful(value: Any) -> str:
    text = str(value).strip() if isinstance(value, str | int) else ""
    return "" if text.lower() in PLACEHOLDERS else text


def parse_body(raw: bytes) -> SystemInfo:
    """The request body as SystemInfo; ServerError 400 with the reason when it is not JSON of the right shape."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise bad_request(f"the body is not JSON: {err}") from err
    return parse(data)


def parse(data: Any) -> SystemInfo:
    if not isinstance(data, dict):
        raise bad_request(f"the body must be a JSON object (Proxmox's system information), got {type(data).__name__}")
    nics = data.get("network_interfaces")
    if not isinstance(nics, list) or not nics:
        raise bad_request("network_interfaces: a non-empty list of {link, mac} objects is required")
    macs: list[str] = []
    for i, nic in enumerate(nics):
        mac = normalize_mac(nic.get("mac", "")) if isinstance(nic, dict) and isinstance(nic.get("mac"), str) else None
        if mac is None:
            raise bad_request(f"network_interfaces[{i}].mac: expected a MAC address like aa:bb:cc:dd:ee:ff, "
                              f"got {json.dumps(nic.get('mac') if isinstance(nic, dict) else nic)[:60]}")
        if mac not in macs:
            macs.append(mac)
    dmi = data.get("dmi", {})
    if not isinstance(dmi, dict) or not all(isinstance(v, dict) for v in dmi.values()):
        raise bad_request("dmi: expected an object of {system, baseboard, chassis} objects")
    system = dmi.get("system", {})
    keel = data.get("keel")
    hardware = hardware_json = None
    if keel is not None:
        if not isinstance(keel, dict) or not isinstance(keel.get("hardware"), dict | str):
            raise bad_request("keel: expected {\"hardware\": <HardwareProfile JSON>}")
        raw = keel["hardware"]
        try:
            hardware = HardwareProfile.from_json(raw if isinstance(raw, str) else json.dumps(raw))
        except DecodeError as err:
            raise bad_request(f"keel.hardware: not a HardwareProfile: {err}") from err
        hardware_json = json.loads(hardware.to_json())
    return SystemInfo(
        data={k: v for k, v in data.items() if k != "keel"},
        macs=tuple(macs),
        serial=_meaningful(system.get("serial", "")),
        uuid=_meaningful(system.get("uuid", "")).lower(),
        hardware=hardware,
        hardware_json=hardware_json,
    )
