"""The set of files the installer writes (DESIGN.md "What the installed system looks like") and their modes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from installer.core.live import LiveInfo
from installer.installed_system.configure import target_files
from keel_testing.samples import CONFIG, HARDWARE, LVM_PLAN

LIVE = LiveInfo(Path("/payload.squashfs"), None, mirror="http://mirror.invalid/debian")


def test_every_file_of_the_design_is_written():
    paths = {f.path for f in target_files(CONFIG, LVM_PLAN, HARDWARE, LIVE)}
    assert paths == {
        "/etc/hostname", "/etc/hosts", "/etc/network/interfaces", "/etc/resolv.conf", "/etc/fstab",
        "/etc/timezone", "/etc/default/keyboard", "/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list",
        "/etc/kernel/cmdline",
        "/etc/modprobe.d/zfs.conf", "/etc/default/grub.d/keel.cfg", "/etc/ssh/sshd_config.d/keel.conf",
        "/etc/mailname", "/etc/postfix/main.cf", "/etc/aliases",
        "/etc/pve/storage.cfg", "/etc/pve/datacenter.cfg", "/etc/pve/user.cfg",
    }


def test_without_a_known_mirror_the_payloads_sources_list_stays():
    paths = {f.path for f in target_files(CONFIG, LVM_PLAN, HARDWARE, replace(LIVE, mirror=""))}
    assert "/etc/apt/sources.list" not in paths


def test_pinned_names_add_link_files():
    config = replace(CONFIG, network=replace(CONFIG.network, pin_names={"52:54:00:12:34:56": "nic0"}))
    paths = [f.path for f in target_files(config, LVM_PLAN, HARDWARE, LIVE)]
    assert "/etc/systemd/network/50-keel-nic0.link" in paths


def test_other_products_get_no_pve_cluster_files():
    paths = {f.path for f in target_files(replace(CONFIG, product="pbs"), LVM_PLAN, HARDWARE, LIVE)}
    assert not any(p.startswith("/etc/pve/") for p in paths)


def test_cluster_files_are_not_world_readable():
    modes = {f.path: f.mode for f in target_files(CONFIG, LVM_PLAN, HARDWARE, LIVE)}
    assert modes["/etc/pve/user.cfg"] == 0o640
    assert modes["/etc/hosts"] == 0o644
