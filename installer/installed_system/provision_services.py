"""[provision.services] beyond plain files, done by the installer in the chroot: the users with their keys, the
firewall's unit enabled, and the check that the packages the answer names are installed.

Why the installer and not keel-firstboot: none of this needs the network or another node, and the installer
already has the target mounted, a command runner that logs and redacts, and a failure path that stops the
install with the reason (as it does for chrony, postfix and apt). At first boot the same work would run as a
retried step on a system that is already up, with SSH open before the users it should let in exist. What
keel-firstboot does is what needs the network or the cluster (the join, shared storage).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from installer.core.config import ServicesSettings, UserAccount
from installer.installed_system import writer
from installer.installed_system.render import system
from installer.phase import InstallContext

NFTABLES_UNIT = "nftables.service"
DPKG_INFO = "/var/lib/dpkg/info"


class ServicesError(RuntimeError):
    """What the answer asks of the installed system, and the payload cannot give (a group, a package)."""


def _services(ctx: InstallContext) -> ServicesSettings | None:
    return ctx.config.provision.services if ctx.config.provision is not None else None


def _passwd_entry(ctx: InstallContext, name: str) -> tuple[int, int, str] | None:
    """(uid, gid, home) of `name` in the target's /etc/passwd, or None."""
    try:
        lines = ctx.path("/etc/passwd").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 7 and fields[0] == name:
            return int(fields[2]), int(fields[3]), fields[5]
    return None


def _groups(ctx: InstallContext) -> set[str]:
    try:
        return {line.split(":", 1)[0] for line in ctx.path("/etc/group").read_text().splitlines() if line}
    except OSError:
        return set()


def add_user(ctx: InstallContext, user: UserAccount) -> None:
    """useradd in the chroot (home, bash, its own group, the supplementary groups), the password hash through
    chpasswd on stdin, and ~/.ssh/authorized_keys (0600 in a 0700 ~/.ssh, both the user's)."""
    if _passwd_entry(ctx, user.name) is not None:
        raise ServicesError(f"provision.services.users: '{user.name}' is already an account of the installed "
                            "system; a user of the answer never takes over an existing account")
    missing = [g for g in user.groups if g not in _groups(ctx)] if not ctx.dry_run else []
    if missing:
        raise ServicesError(f"provision.services.users: group {', '.join(repr(g) for g in missing)} of user "
                            f"'{user.name}' does not exist on the installed system")
    groups = ["--groups", ",".join(user.groups)] if user.groups else []
    ctx.chroot_run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", *groups, user.name],
                   timeout=60)
    if user.password_hashed:
        ctx.chroot_run(["chpasswd", "-e"], input=f"{user.name}:{user.password_hashed}\n", timeout=60)
    if not user.ssh_keys:
        return
    entry = _passwd_entry(ctx, user.name)
    if entry is None:
        if not ctx.dry_run:
            raise ServicesError(f"useradd ran but '{user.name}' is not in the installed system's /etc/passwd")
        entry = (1000, 1000, f"/home/{user.name}")
    uid, gid, home = entry
    ssh_dir = posixpath.join(home, ".ssh")
    writer.make_dir(ctx.target, ssh_dir, mode=0o700, uid=uid, gid=gid)
    writer.write_file(ctx.target, posixpath.join(ssh_dir, "authorized_keys"),
                      system.render_authorized_keys(user.ssh_keys), mode=0o600, uid=uid, gid=gid)


def missing_packages_message(missing: list[str]) -> str:
    return (f"provision.services.packages: {', '.join(missing)} not in this ISO's payload, and the medium carries no "
            "package pool to install from: build the ISO with a profile that has them, or install them after the "
            "first boot")


def packages_missing_from_payload(packages: tuple[str, ...], file_list: Path | None) -> list[str]:
    """The packages with no dpkg file list (/var/lib/dpkg/info/<name>[:<arch>].list) in the payload's file list,
    so that the install is refused before a disk is touched; [] without a list (the configure phase checks the
    unpacked target then)."""
    if not packages or file_list is None or not file_list.is_file():
        return []
    prefix = f"squashfs-root{DPKG_INFO}/"
    with file_list.open(encoding="utf-8", errors="replace") as lines:
        listed = {line.rstrip("\n")[len(prefix):-len(".list")].split(":")[0] for line in lines
                  if line.startswith(prefix) and line.rstrip("\n").endswith(".list")}
    return [p for p in packages if p not in listed]


def missing_packages(ctx: InstallContext, packages: tuple[str, ...]) -> list[str]:
    """The packages dpkg does not list as installed on the target."""
    missing = []
    for package in packages:
        result = ctx.chroot_run(["dpkg-query", "--show", "--showformat=${db:Status-Status}", package],
                                timeout=60, check=False)
        if result.returncode != 0 or (result.stdout.strip() != "installed" and not ctx.dry_run):
            missing.append(package)
    return missing


def apply_services(ctx: InstallContext) -> None:
    """Users, the firewall's unit and the package check; the files themselves are in configure.target_files."""
    svc = _services(ctx)
    if svc is None:
        return
    missing = missing_packages(ctx, svc.packages)
    if missing:
        raise ServicesError(missing_packages_message(missing))
    for user in svc.users:
        add_user(ctx, user)
        ctx.events.message(f"user {user.name}: {len(user.ssh_keys)} SSH key(s)"
                           + (f", groups {', '.join(user.groups)}" if user.groups else ""))
    if svc.firewall is not None:
        ctx.chroot_run(["systemctl", "enable", NFTABLES_UNIT], timeout=60)
        ctx.events.message(f"firewall: /etc/nftables.conf loaded by {NFTABLES_UNIT} at boot")
