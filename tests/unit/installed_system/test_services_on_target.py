"""[provision.services] on the installed system beyond the goldens: which files an answer gets, the users made in
the chroot with their keys, the firewall's unit, the package check, and nft's own opinion of the ruleset."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from installer.core.config import Firewall, UserAccount
from installer.core.events import EventBus, ListSink
from installer.core.live import LiveInfo
from installer.engine.install import InstallSettings, start_install
from installer.installed_system.configure import target_files
from installer.installed_system.provision_services import (
    ServicesError,
    apply_services,
    packages_missing_from_payload,
)
from installer.installed_system.render import provision, services
from installer.runner import FakeRunner, Result
from keel_testing.samples import HARDWARE, LVM_PLAN, PROVISION, PROVISION_CONFIG, USER_HASH, USER_KEY

LIVE = LiveInfo(Path("/payload.squashfs"), None, mirror="http://mirror.invalid/debian")
SVC = PROVISION.services
PASSWD = "root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n"
GROUP = "root:x:0:\nsudo:x:27:\n"


def config_with(**values):
    return replace(PROVISION_CONFIG, provision=replace(PROVISION, services=replace(SVC, **values)))


def paths_of(config) -> dict[str, int]:
    return {f.path: f.mode for f in target_files(config, LVM_PLAN, HARDWARE, LIVE)}


def test_the_answers_sshd_sysctl_and_firewall_files_are_written_with_their_modes():
    modes = paths_of(PROVISION_CONFIG)
    assert modes[services.SSHD_PASSWORD_LOGIN] == 0o644
    assert modes[services.SYSCTL_CONF] == 0o644
    assert modes[services.NFTABLES_CONF] == 0o755     # Debian ships it executable (#!/usr/sbin/nft -f)


def test_unset_services_write_no_file_and_leave_the_defaults():
    modes = paths_of(config_with(ssh_password_login=None, sysctl={}, firewall=None))
    assert not {services.SSHD_PASSWORD_LOGIN, services.SYSCTL_CONF, services.NFTABLES_CONF} & modes.keys()


def test_password_login_on_is_written_as_yes():
    assert services.render_sshd_password_login(True).endswith("PasswordAuthentication yes\n")


def test_a_firewall_without_cluster_or_extra_networks_opens_only_ssh_and_icmp():
    text = services.render_nftables_conf(Firewall())
    assert "saddr" not in text and "tcp dport 22 accept" in text and "policy drop" in text


@pytest.mark.parametrize("firewall", [SVC.firewall, Firewall(), Firewall(("fd00:1::/64",), ("0.0.0.0/0",))],
                         ids=["the sample ruleset", "ssh only", "ipv6 cluster and everything allowed"])
def test_nft_accepts_the_ruleset(tmp_path, firewall):
    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("nft is not installed on this host (apt install nftables to check the ruleset syntax)")
    conf = tmp_path / "nftables.conf"
    conf.write_text(services.render_nftables_conf(firewall))
    result = subprocess.run([nft, "-c", "-f", str(conf)], capture_output=True, text=True, timeout=30)
    if result.returncode != 0 and "Operation not permitted" in result.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN (run as root to check the ruleset syntax)")
    assert result.returncode == 0, result.stderr


def target(tmp_path: Path, passwd: str = PASSWD, group: str = GROUP) -> Path:
    root = tmp_path / "target"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(passwd)
    (root / "etc/group").write_text(group)
    return root


def context(root: Path, config=PROVISION_CONFIG, *, installed: tuple[str, ...] = ("sudo", "nftables")):
    def useradd(argv, stdin):
        if argv[2] == "useradd":
            with (root / "etc/passwd").open("a") as passwd:
                passwd.write(f"{argv[-1]}:x:1000:1000::/home/{argv[-1]}:/bin/bash\n")
            return Result(argv, 0)
        return None

    def dpkg_query(argv, stdin):
        if argv[2] == "dpkg-query":
            return Result(argv, 0, "installed") if argv[-1] in installed else Result(argv, 1, "", "not installed")
        return None

    sink = ListSink()
    ctx = SimpleNamespace(config=config, target=root, dry_run=False, events=EventBus([sink]), sink=sink,
                          runner=FakeRunner(responders=[useradd, dpkg_query]))
    ctx.path = lambda inside: root / inside.lstrip("/")
    ctx.chroot_run = lambda argv, **kw: ctx.runner.run(["chroot", str(root), *argv], **kw)
    return ctx


def test_a_user_gets_an_account_a_password_hash_and_keys_only_it_can_read(tmp_path):
    root = target(tmp_path)
    ctx = context(root)
    apply_services(ctx)
    commands = [argv[2:] for argv in ctx.runner.commands]
    assert ("useradd", "--create-home", "--shell", "/bin/bash", "--user-group", "--groups", "sudo",
            "admin") in commands
    assert (("chroot", str(root), "chpasswd", "-e"), f"admin:{USER_HASH}\n") in ctx.runner.calls
    keys = root / "home/admin/.ssh/authorized_keys"
    assert keys.read_text() == USER_KEY + "\n"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.parent.stat().st_mode) == 0o700


def test_the_hash_never_reaches_a_command_line(tmp_path):
    ctx = context(target(tmp_path))
    apply_services(ctx)
    assert not any(USER_HASH in arg for argv in ctx.runner.commands for arg in argv)


def test_the_firewall_unit_is_enabled_in_the_chroot(tmp_path):
    root = target(tmp_path)
    ctx = context(root)
    apply_services(ctx)
    assert ("chroot", str(root), "systemctl", "enable", "nftables.service") in ctx.runner.commands


def test_without_a_firewall_nftables_stays_off(tmp_path):
    ctx = context(target(tmp_path), config_with(firewall=None))
    apply_services(ctx)
    assert not any("nftables.service" in argv for argv in ctx.runner.commands)


def test_a_key_only_user_gets_no_password(tmp_path):
    user = UserAccount("ops", (USER_KEY,))
    ctx = context(target(tmp_path), config_with(users=(user,)))
    apply_services(ctx)
    assert not any("chpasswd" in argv for argv in ctx.runner.commands)


def test_an_account_the_system_already_has_is_refused(tmp_path):
    root = target(tmp_path, passwd=PASSWD + "admin:x:1000:1000::/home/admin:/bin/bash\n")
    with pytest.raises(ServicesError, match="'admin' is already an account of the installed system"):
        apply_services(context(root))


def test_a_group_the_system_lacks_is_refused_before_useradd(tmp_path):
    ctx = context(target(tmp_path, group="root:x:0:\n"))
    with pytest.raises(ServicesError, match="group 'sudo' of user 'admin' does not exist"):
        apply_services(ctx)
    assert not any("useradd" in argv for argv in ctx.runner.commands)


def test_a_package_the_payload_lacks_stops_the_install_naming_it(tmp_path):
    ctx = context(target(tmp_path), installed=("sudo",))
    with pytest.raises(ServicesError, match=r"provision\.services\.packages: nftables not in this ISO's payload"):
        apply_services(ctx)


def test_an_install_without_provision_does_nothing(tmp_path):
    ctx = context(target(tmp_path), replace(PROVISION_CONFIG, provision=None))
    apply_services(ctx)
    assert ctx.runner.commands == []


def listing(tmp_path: Path, *names: str) -> Path:
    path = tmp_path / "payload.files"
    path.write_text("squashfs-root\nsquashfs-root/var/lib/dpkg/info\n" + "".join(
        f"squashfs-root/var/lib/dpkg/info/{name}\n" for name in names)
        + f"squashfs-root{provision.UNIT_PATH}\n")
    return path


def test_packages_are_looked_up_in_the_payloads_dpkg_lists(tmp_path):
    files = listing(tmp_path, "sudo.list", "sudo.md5sums", "libc6:amd64.list", "nftables.conffiles")
    assert packages_missing_from_payload(("sudo", "libc6", "nftables", "vim"), files) == ["nftables", "vim"]
    assert packages_missing_from_payload(("vim",), None) == []


def test_a_package_missing_from_the_payload_listing_refuses_the_install_before_any_disk_is_touched(tmp_path):
    live = tmp_path / "live.json"
    live.write_text(json.dumps({"payload": str(tmp_path / "payload.squashfs"),
                                "payload_files": str(listing(tmp_path, "sudo.list"))}))
    runner, sink = FakeRunner(), ListSink()
    outcome = start_install(PROVISION_CONFIG, HARDWARE, [sink], dry_run=False,
                            settings=InstallSettings(live_path=live, runner=runner, target=tmp_path / "target",
                                                     log_path=tmp_path / "install.log",
                                                     events_path=tmp_path / "events.jsonl"))
    assert not outcome.started and runner.commands == []
    assert sink.of_type("error")[0].text.startswith("provision.services.packages: nftables not in this ISO's payload")
