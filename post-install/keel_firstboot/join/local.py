"""What a node writes for its cluster's membership: members.json, corosync.conf, the /etc/hosts block, the
ssh_known_hosts block and (once, on a joiner) the authkey; then, when corosync runs and its conf changed,
`corosync-cfgtool -R`.

A node whose corosync starts with another config_version than the running members' exits at its first sync
(cmap.c, cmap_sync_activate: "Received config version ... is different than my config version ... Exiting"), so
the joiner is answered only after every member has the new file and reloaded.

Reload rather than restart: corosync 3 applies a changed nodelist and a changed quorum.two_node at runtime
(votequorum(5): "Only votes, quorum_votes, expected_votes and two_node can be changed at runtime"; votequorum.c
re-reads two_node in votequorum_readconfig(runtime) and lets wait_for_all follow it), and the rendered conf changes
nothing else between two memberships but config_version. `corosync-cfgtool -R` asks every running member to
re-read its own file; each member runs it after writing its file, so the last reload sees every file new.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..layout import Paths
from ..provision.execute import write_file
from ..provision.steps import AUTHKEY, COROSYNC_CONF
from ..runner import CHECK_TIMEOUT, Runner
from .members import (
    HOSTS,
    KNOWN_HOSTS,
    MEMBERS,
    Membership,
    hosts_block,
    known_hosts_block,
    render_membership,
    with_block,
)

COROSYNC_UNIT = "corosync.service"


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _write_if_changed(runner: Runner, paths: Paths, path: str, text: str, mode: int = 0o644) -> bool:
    target = paths.at(path)
    if target.exists() and _text(target) == text:
        return False
    runner.log(f"write {path} ({mode:04o})")
    write_file(target, text, mode)
    return True


def _write_secret(target: Path, data: bytes) -> None:
    """0400 from its creation on, as corosync-keygen leaves the authkey; synced, then renamed over the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.keel-tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)


def apply_membership(paths: Paths, runner: Runner, membership: Membership, self_name: str, *,
                     authkey: bytes | None = None, reload: bool = True) -> bool:
    """Write the files of `membership` on this node; True when corosync.conf changed."""
    _write_if_changed(runner, paths, MEMBERS, render_membership(membership))
    changed = _write_if_changed(runner, paths, COROSYNC_CONF, membership.corosync_conf())
    _write_if_changed(runner, paths, HOSTS, with_block(_text(paths.at(HOSTS)), hosts_block(membership, self_name)))
    _write_if_changed(runner, paths, KNOWN_HOSTS, with_block(_text(paths.at(KNOWN_HOSTS)),
                                                             known_hosts_block(membership)))
    if authkey is not None and not paths.at(AUTHKEY).exists():
        runner.log(f"write {AUTHKEY} (0400)")           # its content never goes to the log
        _write_secret(paths.at(AUTHKEY), authkey)
    if reload:
        reload_corosync(runner, membership.config_version)
    return changed


def reload_corosync(runner: Runner, config_version: int) -> None:
    """`corosync-cfgtool -R` when corosync runs with another config_version than the file's: decided by what runs,
    not by what was just written, so a reload that failed is made by the next join or update that gets here."""
    if runner.run(("systemctl", "is-active", "--quiet", COROSYNC_UNIT), timeout=CHECK_TIMEOUT, check=False).code:
        return                                  # it reads the file when it starts
    running = runner.run(("corosync-cmapctl", "-g", "totem.config_version"), timeout=CHECK_TIMEOUT, check=False)
    if running.code == 0 and running.output.strip().endswith(f"= {config_version}"):
        return
    runner.run(("corosync-cfgtool", "-R"))
