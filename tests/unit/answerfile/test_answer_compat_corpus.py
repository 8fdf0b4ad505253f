"""The Proxmox auto-installer corpus: every parse_answer/*.toml resolves to the choices of its .json, every
parse_answer_fail/*.toml is rejected naming the same problem. New fixtures are picked up automatically."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import answerfile
from installer.core.config import InstallConfig
from installer.core.hardware import HardwareProfile
from keel_testing.compat import compat_dir, compat_profile

ORDERING_TARGET = {"before-network": "network-pre", "network-online": "network-online", "fully-up": "multi-user"}

# Proxmox error -> what Keel's message must contain, where Keel words the same problem its own way.
KEEL_WORDING = {
    "error parsing answer.toml: either a fully-qualified domain name or extendend configuration for usage "
    "with DHCP must be specified": ("global.fqdn", "is not a fully-qualified domain name"),
    "`global.root-password` and `global.root-password-hashed` cannot be set at the same time":
        ("global.root-password", "root-password and root-password-hashed cannot be set at the same time"),
    "One of `global.root-password` or `global.root-password-hashed` must be set":
        ("global.root-password", "one of root-password or root-password-hashed must be set"),
    "`global.root-password` must be at least 8 characters long":
        ("global.root-password", "must be at least 8 characters long"),
    "List of disks contains duplicate device sda": ("disk-setup.disk-list", "disk sda is selected more than once"),
    "`global.fqdn.source` set to \"from-dhcp\", but DHCP server did not provide a hostname!":
        ("global.fqdn.source", "the DHCP server did not provide a host name"),
    "error parsing answer.toml: invalid IP address": ("network.cidr", "invalid IP address"),
}


def _fixtures(folder: str) -> list[Path]:
    path = compat_dir() / folder
    return sorted(path.glob("*.toml")) if path.is_dir() else []


def _hardware(toml: Path) -> HardwareProfile:
    return compat_profile(toml.with_name(toml.stem + ".run-env.json"))


def _index_of(hardware: HardwareProfile, path: str) -> str:
    disk = hardware.disk(path)
    assert disk is not None
    return str(disk.index)


def _observed(config: InstallConfig, hardware: HardwareProfile, expected: dict) -> dict:
    """The fields of Proxmox's low-level config that the expected JSON has, computed from Keel's config."""
    ds, net = config.disk_setup, config.network
    mgmt_mac = hardware.nic(net.interface).mac
    seen = {
        "autoreboot": int(config.autoreboot),
        "filesys": ds.label,
        "hdsize": ds.hdsize,
        "country": config.country,
        "timezone": config.timezone,
        "keymap": config.keyboard,
        "mailto": config.mailto,
        "hostname": net.hostname,
        "domain": net.domain,
        "cidr": net.cidr,
        "gateway": net.gateway,
        "dns": net.dns,
        "mngmt_nic": net.pin_names.get(mgmt_mac, net.interface),
        "root_password": ({"plain": config.root.password} if config.root.password
                          else {"hashed": config.root.password_hashed}),
        "first_boot": ({"enabled": 1, "ordering_target": ORDERING_TARGET[config.first_boot.ordering]}
                       if config.first_boot else {"enabled": 0}),
        "existing_storage_auto_rename": 1,
    }
    if net.pin_names:
        seen["network_interface_pin_map"] = net.pin_names
    if ds.filesystem.uses_lvm:
        seen["target_hd"] = ds.disks[0]
    else:
        indexes = [_index_of(hardware, p) for p in ds.disks]
        seen["disk_selection"] = {i: i for i in indexes}
    if ds.zfs:
        z = ds.zfs
        seen["zfs_opts"] = {"arc_max": z.arc_max_mib, "ashift": z.ashift, "checksum": z.checksum,
                            "compress": z.compress, "copies": z.copies}
    if ds.btrfs:
        seen["btrfs_opts"] = {"compress": ds.btrfs.compress}
    return {k: seen.get(k, "<not produced by Keel>") for k in expected}


@pytest.mark.parametrize("toml", _fixtures("parse_answer"), ids=lambda p: p.stem.replace("_", " "))
def test_proxmox_answer_is_accepted_with_the_same_choices(toml: Path):
    hardware = _hardware(toml)
    expected = json.loads(toml.with_suffix(".json").read_text())
    config = answerfile.parse_install_config(toml.read_text(), hardware)
    observed = _observed(config, hardware, expected)
    assert observed.pop("hdsize") == pytest.approx(expected.pop("hdsize"), abs=1e-9)
    assert observed == expected


@pytest.mark.parametrize("toml", _fixtures("parse_answer"), ids=lambda p: p.stem.replace("_", " "))
def test_proxmox_answer_disk_selection_keeps_proxmox_order(toml: Path):
    hardware = _hardware(toml)
    expected = json.loads(toml.with_suffix(".json").read_text())
    config = answerfile.parse_install_config(toml.read_text(), hardware)
    if "disk_selection" in expected:
        order = [_index_of(hardware, p) for p in config.disk_setup.disks]
        assert order == sorted(expected["disk_selection"]), "selection order is disk index as strings"


def _normalise(text: str) -> str:
    text = text.replace("`", "").replace("error parsing answer.toml: ", "")
    return re.sub(r"[\s:!]+", " ", text).strip().lower()


@pytest.mark.parametrize("toml", _fixtures("parse_answer_fail"), ids=lambda p: p.stem.replace("_", " "))
def test_proxmox_bad_answer_is_rejected_naming_the_same_problem(toml: Path):
    expected = json.loads(toml.with_suffix(".json").read_text())
    proxmox_error = expected.get("error") or expected.get("parse-error")
    with pytest.raises(answerfile.AnswerError) as caught:
        answerfile.parse_install_config(toml.read_text(), _hardware(toml))
    problems = caught.value.problems
    if proxmox_error in KEEL_WORDING:
        key, phrase = KEEL_WORDING[proxmox_error]
        assert any(p.key == key and phrase in p.message for p in problems), str(caught.value)
    else:
        wanted = _normalise(proxmox_error)
        assert any(wanted in _normalise(str(p)) for p in problems), (
            f"expected a problem naming {proxmox_error!r}, got:\n{caught.value}")


def test_the_corpus_is_there_to_test():
    if not compat_dir().is_dir():
        pytest.skip(f"Proxmox compat corpus not found at {compat_dir()} (set KEEL_SHARED_DIR)")
    assert len(_fixtures("parse_answer")) >= 19 and len(_fixtures("parse_answer_fail")) >= 12
