"""The post-installation webhook (reference §8.1): what the installed system looks like, POSTed once, best effort."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from installer.phase import InstallContext

SCHEMA_VERSION = "1.2"


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def webhook_payload(ctx: InstallContext) -> dict[str, Any]:
    """Gathered while the target is still mounted; every piece that cannot be read degrades to an empty value."""
    config, hw = ctx.config, ctx.hardware
    net = config.network
    host_keys = {kind: _read(ctx.path(f"/etc/ssh/ssh_host_{kind}_key.pub")) for kind in ("ecdsa", "ed25519", "rsa")}
    kernels = sorted(p.name.removeprefix("vmlinuz-") for p in ctx.path("/boot").glob("vmlinuz-*"))
    dmi: dict[str, dict[str, str]] = {}
    for key, value in hw.dmi.items():
        group, _, name = key.partition(".")
        dmi.setdefault(group, {})[name] = value
    boot_disks = {d.path for d in ctx.plan.disks}
    payload: dict[str, Any] = {
        "$schema": {"version": SCHEMA_VERSION},
        "debian-version": _read(ctx.path("/etc/debian_version")),
        "product": {"fullname": "Keel (Proxmox VE compatible)", "short": config.product,
                    "version": ctx.live.version},
        "iso": {"release": ctx.live.version, "isorelease": "1"},
        "kernel-version": {"release": kernels[-1] if kernels else "unknown"},
        "boot-info": {"mode": hw.boot_mode, **({"secureboot": True} if hw.secure_boot else {})},
        "cpu-info": {"vendor": hw.cpu_vendor, "hvm": hw.hvm},
        "dmi": dmi,
        "filesystem": config.disk_setup.label,
        "fqdn": net.fqdn,
        "machine-id": _read(ctx.path("/etc/machine-id")),
        "disks": [{"size": d.size_bytes, **({"is-bootdisk": True} if d.path in boot_disks else {}),
                   "udev-properties": d.udev} for d in hw.disks if not d.install_medium],
        "network-interfaces": [
            {"name": net.pin_names.get(n.mac.lower(), n.name), "mac": n.mac.lower(),
             **({"address": net.cidr, "is-management": True} if n.name == net.interface else {}),
             **({"is-pinned": True} if n.mac.lower() in net.pin_names else {}),
             "udev-properties": n.udev} for n in hw.nics],
        "ssh-public-host-keys": host_keys,
        "reboot-mode": config.reboot_mode,
    }
    if config.webhook and config.webhook.auth_token:
        payload["token"] = config.webhook.auth_token
    return payload


def post_webhook(url: str, payload: dict[str, Any], fingerprint: str | None) -> None:
    """POST the payload with the same client (and pinning) as the answer fetch; raises AnswerSourceError."""
    from installer.answer_sources.http import post

    post(url, json.loads(json.dumps(payload)), fingerprint=fingerprint, purpose="the webhook")
