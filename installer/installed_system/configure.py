"""Configuring the unpacked target: every rendered file, identity (hostid, machine-id), accounts and services.

`target_files` is pure (what goes where, with which mode); the functions below it write and run things.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from dataclasses import dataclass
from pathlib import Path

from installer.core.config import InstallConfig, MailRelay
from installer.core.hardware import HardwareProfile
from installer.core.live import LiveInfo
from installer.core.locales import xkb_layout
from installer.core.reporting import ReportTarget
from installer.installed_system import writer
from installer.installed_system.render import (
    first_boot,
    fstab,
    kernel,
    network,
    provision,
    pve,
    report,
    services,
    system,
)
from installer.phase import InstallContext
from installer.storage.plan import StoragePlan

POLICY_RC_D = "/usr/sbin/policy-rc.d"


@dataclass(frozen=True)
class TargetFile:
    path: str               # absolute path on the installed system
    text: str | bytes       # bytes: a file taken as it is (the first-boot executable)
    mode: int = 0o644
    dir_mode: int | None = None     # the mode its directory is made with, when not the default 0755


class FirstBootNotInPayload(RuntimeError):
    """The payload has no keel-firstboot unit for the answer's ordering (an ISO built before [first-boot])."""


class ProvisionNotInPayload(RuntimeError):
    """The payload has no keel-provision.service (an ISO built before first boot ran [provision])."""


CHPASSWD_TIMEOUT = 300.0


def target_files(config: InstallConfig, plan: StoragePlan, hardware: HardwareProfile,
                 live: LiveInfo, first_boot_script: bytes | None = None,
                 report_target: ReportTarget | None = None) -> list[TargetFile]:
    """Every configuration file the installer writes, in writing order.

    `first_boot_script` is the [first-boot] executable, obtained before the install started (from the medium or
    its URL); without it (a plan shown before any fetch) the hook's files are left out. `report_target` is the
    keel-server that served the answer, where first boot reports provisioning.
    """
    net = config.network
    xkb = xkb_layout(config.keyboard)
    files = [
        TargetFile("/etc/hostname", network.render_hostname(net)),
        TargetFile("/etc/hosts", network.render_hosts(net)),
        TargetFile("/etc/network/interfaces", network.render_interfaces(net, hardware)),
        TargetFile("/etc/resolv.conf", network.render_resolv_conf(net)),
        *(TargetFile(path, text) for path, text in network.render_link_files(net, hardware).items()),
        TargetFile("/etc/fstab", fstab.render_fstab(plan)),
        TargetFile("/etc/timezone", system.render_timezone(config.timezone)),
        TargetFile("/etc/default/keyboard", system.render_keyboard(xkb)),
        TargetFile("/etc/apt/sources.list.d/debian.sources",
                   system.render_apt_sources(live.mirror, live.security_mirror)),
        *([TargetFile("/etc/apt/sources.list", system.render_sources_list_pointer())] if live.mirror else []),
        TargetFile("/etc/kernel/cmdline", kernel.render_kernel_cmdline(plan, config)),
        TargetFile("/etc/modprobe.d/zfs.conf", kernel.render_zfs_conf(plan, hardware.memory_mib)),
        TargetFile("/etc/default/grub.d/keel.cfg", kernel.render_grub_defaults(plan, config)),
        TargetFile("/etc/ssh/sshd_config.d/keel.conf", system.render_sshd_root_login()),
        TargetFile("/etc/mailname", system.render_mailname(net)),
        TargetFile("/etc/postfix/main.cf", system.render_postfix_main_cf(net, _relay(config))),
        TargetFile("/etc/aliases", system.render_aliases(config.mailto)),
    ]
    if config.product == "pve":
        files += [
            TargetFile("/etc/pve/storage.cfg", pve.render_storage_cfg(plan.storage), 0o640),
            TargetFile("/etc/pve/datacenter.cfg", pve.render_datacenter_cfg(xkb.kvm), 0o640),
            TargetFile("/etc/pve/user.cfg", pve.render_user_cfg(config.mailto), 0o640),
        ]
    if config.provision is not None:
        files += _provision_files(config)
        firstboot_report = report.firstboot_report(report_target, config.webhook)
        if firstboot_report is not None:
            files.append(TargetFile(report.PATH, report.render_report_json(firstboot_report), 0o600))
    if config.first_boot is not None and first_boot_script is not None:
        files += [
            TargetFile(first_boot.SCRIPT, first_boot_script, 0o700, dir_mode=0o700),
            TargetFile(first_boot.PENDING, first_boot.render_pending_flag(config.first_boot), 0o600, dir_mode=0o700),
        ]
    return files


def _relay(config: InstallConfig) -> MailRelay | None:
    return config.provision.services.mail_relay if config.provision and config.provision.services else None


def _provision_files(config: InstallConfig) -> list[TargetFile]:
    """[provision]: the services' files, and the whole section for keel-firstboot (keel-provision.service)."""
    assert config.provision is not None
    files = []
    svc = config.provision.services
    if svc is not None:
        if svc.ntp_servers:
            files.append(TargetFile(services.CHRONY_CONF, services.render_chrony_conf(svc.ntp_servers)))
        if svc.mail_relay is not None and svc.mail_relay.username:
            files.append(TargetFile(services.SASL_PASSWD, services.render_sasl_passwd(svc.mail_relay), 0o600))
        if svc.apt_proxy:
            files.append(TargetFile(services.APT_PROXY, services.render_apt_proxy(svc.apt_proxy)))
        if svc.apt_repositories:
            files.append(TargetFile(services.APT_SOURCES, services.render_apt_repositories(svc.apt_repositories)))
        if svc.ssh_password_login is not None:
            files.append(TargetFile(services.SSHD_PASSWORD_LOGIN,
                                    services.render_sshd_password_login(svc.ssh_password_login)))
        if svc.sysctl:
            files.append(TargetFile(services.SYSCTL_CONF, services.render_sysctl_conf(svc.sysctl)))
        if svc.firewall is not None:
            files.append(TargetFile(services.NFTABLES_CONF, services.render_nftables_conf(svc.firewall), 0o755))
    files.append(TargetFile(provision.PATH, provision.render_provision_json(config), 0o600))
    return files


def target_links(config: InstallConfig) -> dict[str, str]:
    """Every symlink the installer makes besides /etc/localtime (link -> what it points to): the [first-boot]
    unit's enablement, and the provision unit's when [provision] is there."""
    links = first_boot.render_unit_links(config.first_boot) if config.first_boot is not None else {}
    if config.provision is not None:
        links |= provision.render_unit_links()
    return links


def write_configuration(ctx: InstallContext) -> None:
    if ctx.config.first_boot is not None and ctx.first_boot_script is None:
        raise RuntimeError("[first-boot] is set but no first-boot executable was obtained before the install")
    files = target_files(ctx.config, ctx.plan, ctx.hardware, ctx.live, ctx.first_boot_script, ctx.report_target)
    for i, f in enumerate(files):
        if f.dir_mode is not None:
            writer.make_dir(ctx.target, posixpath.dirname(f.path), mode=f.dir_mode)
        writer.write_file(ctx.target, f.path, f.text, mode=f.mode)
        ctx.events.progress(0.5 * (i + 1) / len(files), f.path)
    if ctx.config.first_boot is not None:
        unit = first_boot.unit_of(ctx.config.first_boot)
        if not ctx.path(unit).is_file() and not ctx.dry_run:
            raise FirstBootNotInPayload(f"{unit} is not on the installed system: this ISO's keel-post-install "
                                        "predates [first-boot] support; rebuild the ISO")
        ctx.events.message(f"first-boot hook: {first_boot.SCRIPT} runs once at {ctx.config.first_boot.ordering} "
                           f"({posixpath.basename(unit)})")
    if ctx.config.provision is not None:
        if not ctx.path(provision.UNIT_PATH).is_file() and not ctx.dry_run:
            raise ProvisionNotInPayload(f"{provision.UNIT_PATH} is not on the installed system: this ISO's "
                                        "keel-post-install predates running [provision] at first boot; rebuild "
                                        "the ISO")
        ctx.events.message(f"provisioning: {provision.UNIT} runs 'keel-firstboot provision' once at first boot")
    for link, points_to in target_links(ctx.config).items():
        writer.make_symlink(ctx.target, link, points_to)
    zone = ctx.config.timezone
    if not (ctx.path("/usr/share/zoneinfo") / zone).exists():
        ctx.events.warning(f"time zone {zone!r} has no file under /usr/share/zoneinfo on the target")
    writer.make_symlink(ctx.target, "/etc/localtime", f"/usr/share/zoneinfo/{zone}")


def install_policy_rc_d(ctx: InstallContext) -> None:
    """Keep packages from starting daemons inside the chroot; removed again by the cleanup stack."""
    writer.write_file(ctx.target, POLICY_RC_D, system.render_policy_rc_d(), mode=0o755)
    ctx.cleanup.callback(writer.remove_file, ctx.target, POLICY_RC_D)


def copy_hostid(ctx: InstallContext) -> None:
    """The live system's hostid goes to the target, so a pool it created imports there without complaint."""
    source = ctx.host_root / "etc/hostid"
    if source.is_file():
        writer.write_file(ctx.target, "/etc/hostid", source.read_bytes(), mode=0o644)
    else:
        # the pools are exported at the end, so a hostid of its own imports them as well
        ctx.events.warning(f"{source} does not exist in the live system: the target gets a new random hostid")
        writer.write_file(ctx.target, "/etc/hostid", os.urandom(4), mode=0o644)


def new_machine_id(ctx: InstallContext) -> None:
    """A fresh machine-id (never the payload's or the VM's), so two hosts installed from one ISO differ."""
    result = ctx.run(["systemd-id128", "new"], timeout=30)
    machine_id = result.stdout.strip()
    if ctx.dry_run and not machine_id:
        machine_id = "0" * 32
    if len(machine_id) != 32 or any(c not in "0123456789abcdef" for c in machine_id):
        raise ValueError(f"systemd-id128 new printed {machine_id!r}, not a 32-digit machine id")
    writer.write_file(ctx.target, "/etc/machine-id", machine_id + "\n", mode=0o444)


def set_root_access(ctx: InstallContext) -> None:
    """Root password through chpasswd on stdin (never argv, never logged) and SSH keys."""
    root = ctx.config.root
    # 300 s as for ssh-keygen: an e2e ZFS install under TCG saw the guest kernel report chpasswd stuck for 53 s
    # (soft lockup) and a 60 s deadline failed the install; on hardware it takes well under a second.
    if root.password_hashed:
        ctx.chroot_run(["chpasswd", "-e"], input=f"root:{root.password_hashed}\n", timeout=CHPASSWD_TIMEOUT)
    elif root.password:
        ctx.chroot_run(["chpasswd"], input=f"root:{root.password}\n", timeout=CHPASSWD_TIMEOUT)
    else:
        ctx.events.warning("no root password given: root can log in with an SSH key only")
    if root.ssh_keys:
        writer.make_dir(ctx.target, "/root/.ssh", mode=0o700)
        writer.write_file(ctx.target, "/root/.ssh/authorized_keys",
                          system.render_authorized_keys(root.ssh_keys), mode=0o600)


# Where the live system makes the installed system's SSH host keys before the target exists: its /run (RAM), root
# only, removed once the keys are on the target or the install ends.
HOST_KEYS_DIR = "run/keel/host-keys"
# A set the live boot made on idle CPU time (iso-build/live: keel-host-keys.service); an install takes it by renaming
# it to HOST_KEYS_DIR, so no second install of the same boot gets the same keys.
SPARE_HOST_KEYS_DIR = "run/keel/host-keys-spare"
SSH_KEYGEN = "usr/bin/ssh-keygen"
HOST_KEY_GLOB = "ssh_host_*_key"


def make_host_keys(ctx: InstallContext) -> Path | None:
    """The installed system's SSH host keys, made by the live system's ssh-keygen (the payload's own build: the
    live system is made from the payload) while the disks are prepared: under TCG `ssh-keygen -A` took 1.4-13 s
    (RSA's primes) at the end of the install, when the boot loaders keep both CPUs busy, and the storage phases
    leave one idle. The set the live boot made, when there is one, is taken and `ssh-keygen -A` makes only what it
    lacks. The directory that holds them (`etc/ssh/` below it), or None when the live system has no ssh-keygen (the
    chroot makes them then)."""
    if not (ctx.host_root / SSH_KEYGEN).is_file():
        return None
    keys = ctx.host_root / HOST_KEYS_DIR
    if not ctx.dry_run:
        if keys.exists():       # an earlier install in this live session that was cut short
            shutil.rmtree(keys)
        ctx.cleanup.callback(shutil.rmtree, keys, ignore_errors=True)
        if take_spare_host_keys(ctx.host_root / SPARE_HOST_KEYS_DIR, keys):
            ctx.events.message("SSH host keys: the set the live boot made (keel-host-keys.service)")
        (keys / "etc/ssh").mkdir(mode=0o700, parents=True, exist_ok=True)
        keys.chmod(0o700)
    ctx.run(["/" + SSH_KEYGEN, "-A", "-f", str(keys)], timeout=300)
    return keys


def take_spare_host_keys(spare: Path, keys: Path) -> bool:
    """Move the live boot's spare set of host keys to `keys`; False when there is none (not made yet, or taken)."""
    try:
        spare.rename(keys)
    except FileNotFoundError:
        return False
    return True


def generate_host_keys(ctx: InstallContext) -> None:
    """The installed system's SSH host keys (the payload ships none, as Proxmox's installer does): the ones made
    beside the storage phases when there are, else made now in the chroot; either way before the webhook report,
    so it, the first SSH login and `ssh-keygen -lf` on the machine all show the same keys."""
    made = ctx.host_keys.result() if ctx.host_keys is not None else None
    if made is None:
        ctx.chroot_run(["ssh-keygen", "-A"], timeout=300)
        return
    privates = sorted((made / "etc/ssh").glob(HOST_KEY_GLOB))
    for private in privates:
        public = private.with_name(private.name + ".pub")
        writer.write_file(ctx.target, f"/etc/ssh/{private.name}", private.read_bytes(), mode=0o600)
        writer.write_file(ctx.target, f"/etc/ssh/{public.name}", public.read_bytes(), mode=0o644)
    if ctx.dry_run:
        return                  # the dry run recorded the live system's ssh-keygen
    shutil.rmtree(made, ignore_errors=True)
    if not privates:
        ctx.events.warning(f"ssh-keygen -A made no host keys in {made}: making them in the target instead")
        ctx.chroot_run(["ssh-keygen", "-A"], timeout=300)


def configure_mail(ctx: InstallContext) -> None:
    """Rebuild the alias database so root's mail goes to mailto; a payload without postfix only warns."""
    if not ctx.path("/usr/sbin/postfix").exists() and not ctx.dry_run:
        ctx.events.warning("postfix is not installed on the target: /etc/aliases written, not compiled")
        return
    ctx.chroot_run(["newaliases"], timeout=60)


def copy_install_log(ctx: InstallContext) -> None:
    """The install log and the event stream (both already redacted) onto the target at the same paths, root's
    only, and the storage plan beside them."""
    for path in (ctx.log_path, ctx.events_path):
        if path is not None and path.is_file():
            writer.write_file(ctx.target, str(path), path.read_bytes(), mode=0o600)
    plan_path = ctx.log_path.parent / "storage-plan.json"
    writer.write_file(ctx.target, str(plan_path), ctx.plan.to_json() + "\n", mode=0o600)

