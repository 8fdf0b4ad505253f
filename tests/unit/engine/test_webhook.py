"""The post-installation webhook (reference §8.1): its payload from the target, POSTed with pinning."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from installer.core.config import Webhook
from installer.core.events import EventBus
from installer.core.live import LiveInfo
from installer.engine.webhook import post_webhook, webhook_payload
from installer.phase import InstallContext
from installer.runner import FakeRunner
from keel_testing.samples import CONFIG, HARDWARE, LVM_PLAN


def context(tmp_path: Path, config=CONFIG) -> InstallContext:
    target = tmp_path / "target"
    (target / "etc/ssh").mkdir(parents=True)
    (target / "boot").mkdir()
    (target / "etc/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (target / "etc/debian_version").write_text("13.2\n")
    (target / "etc/ssh/ssh_host_ed25519_key.pub").write_text("ssh-ed25519 AAAAhost root@pve1\n")
    (target / "boot/vmlinuz-6.12.57+deb13-amd64").write_text("")
    return InstallContext(config, LVM_PLAN, replace(HARDWARE, dmi={"system.serial": "S1"}), FakeRunner(),
                          EventBus([]), LiveInfo(Path("/p"), None, version="0.1.0"), target=target)


def test_the_payload_describes_the_installed_host(tmp_path):
    data = webhook_payload(context(tmp_path))
    assert data["$schema"] == {"version": "1.2"}
    assert data["fqdn"] == "pve1.example.com"
    assert data["machine-id"] == "0123456789abcdef0123456789abcdef"
    assert data["debian-version"] == "13.2"
    assert data["kernel-version"] == {"release": "6.12.57+deb13-amd64"}
    assert data["filesystem"] == "ext4"
    assert data["ssh-public-host-keys"] == {"ecdsa": "", "ed25519": "ssh-ed25519 AAAAhost root@pve1", "rsa": ""}
    assert data["dmi"] == {"system": {"serial": "S1"}}
    assert data["reboot-mode"] == "reboot"
    management = [n for n in data["network-interfaces"] if n.get("is-management")]
    assert management == [{"name": "eno1", "mac": "52:54:00:12:34:56", "address": "192.168.1.10/24",
                           "is-management": True, "udev-properties": {}}]
    assert [d.get("is-bootdisk", False) for d in data["disks"]] == [True, False]
    assert "token" not in data


def test_the_token_goes_into_the_payload(tmp_path):
    config = replace(CONFIG, webhook=Webhook("https://h.invalid/done", auth_token="tok-123"))
    assert webhook_payload(context(tmp_path, config))["token"] == "tok-123"


def test_the_payload_is_posted_to_a_pinned_server(tmp_path, https_server):
    data = webhook_payload(context(tmp_path))
    post_webhook(https_server.url, data, https_server.fingerprint)
    assert https_server.received[0]["body"] == json.loads(json.dumps(data))
