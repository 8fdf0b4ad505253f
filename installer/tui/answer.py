"""Saves the wizard's choices as an answer file, so the next servers install the same way unattended."""

from __future__ import annotations

from typing import Any

import tomli_w

from installer.core.config import InstallConfig
from installer.core.hardware import HardwareProfile
from installer.runner import Runner


def hash_password(runner: Runner, password: str) -> str:
    """A SHA-512 crypt(3) hash of `password` (openssl reads it from stdin; it never appears in argv)."""
    runner.add_secret(password)
    result = runner.run(["openssl", "passwd", "-6", "-stdin"], input=password + "\n", timeout=30)
    return result.stdout.strip()


def nic_filter(config: InstallConfig, hardware: HardwareProfile) -> dict[str, str]:
    """A udev filter for the management NIC that also fits identical servers: its predictable name
    (INTERFACE, "eno1"), which unlike the MAC is the same on every machine of a model; the MAC-based name
    only when udev recorded no INTERFACE."""
    nic = hardware.nic(config.network.interface)
    udev = nic.udev if nic else {}
    if "INTERFACE" not in udev and udev.get("ID_NET_NAME_MAC"):
        return {"ID_NET_NAME_MAC": udev["ID_NET_NAME_MAC"]}
    return {"INTERFACE": config.network.interface}


def answer_data(config: InstallConfig, hardware: HardwareProfile, password_hashed: str) -> dict[str, Any]:
    """The answer-file tables for `config`: the password only as a hash, disks by name."""
    net = config.network
    setup = config.disk_setup
    first = hardware.disk(setup.disks[0]) if setup.disks else None
    whole = first is not None and setup.hdsize is not None and abs(setup.hdsize - first.size_gib) < 1e-9
    global_ = {
        "keyboard": config.keyboard,
        "country": config.country,
        "fqdn": net.fqdn,
        "mailto": config.mailto,
        "timezone": config.timezone,
        "root-password-hashed": password_hashed,
        "reboot-mode": config.reboot_mode,
    }
    if config.root.ssh_keys:
        global_["root-ssh-keys"] = list(config.root.ssh_keys)
    network: dict[str, Any] = {
        "source": "from-answer",
        "cidr": net.cidr,
        "dns": net.dns,
        "gateway": net.gateway,
        "filter": nic_filter(config, hardware),
    }
    if net.pin_names:
        network["interface-name-pinning"] = {"enabled": True, "mapping": dict(net.pin_names)}
    disks: dict[str, Any] = {
        "filesystem": str(setup.filesystem),
        "disk-list": [path.removeprefix("/dev/") for path in setup.disks],
    }
    if setup.zfs:
        z = setup.zfs
        disks["zfs"] = {"raid": str(z.raid), "ashift": z.ashift, "compress": z.compress, "checksum": z.checksum,
                        "copies": z.copies}
        if z.arc_max_mib:
            disks["zfs"]["arc-max"] = z.arc_max_mib
        if z.hdsize is not None and not whole:
            disks["zfs"]["hdsize"] = z.hdsize
    elif setup.btrfs:
        disks["btrfs"] = {"raid": str(setup.btrfs.raid), "compress": setup.btrfs.compress}
        if setup.btrfs.hdsize is not None and not whole:
            disks["btrfs"]["hdsize"] = setup.btrfs.hdsize
    elif setup.lvm:
        lvm = {k: v for k, v in vars(setup.lvm).items() if v is not None and not (k == "hdsize" and whole)}
        if lvm:
            disks["lvm"] = lvm
    return {"global": global_, "network": network, "disk-setup": disks}


def answer_toml(config: InstallConfig, hardware: HardwareProfile, password_hashed: str) -> str:
    header = ("# Keel answer file saved by the installation wizard. Install more servers the same way with\n"
              "#   keel-answer validate answer.toml --hardware PROFILE.json\n")
    return header + tomli_w.dumps(answer_data(config, hardware, password_hashed))
