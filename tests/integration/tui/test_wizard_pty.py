"""The real wizard in a pseudo-terminal at 80x24 on the 10-disk fixture server: ZFS RAID10 to the summary,
Install (dry run), and the written InstallConfig and answer file compared with what was chosen."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import answerfile
from installer.core.config import (
    DiskSetup,
    Filesystem,
    InstallConfig,
    NetworkConfig,
    RootAccess,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import HardwareProfile

pexpect = pytest.importorskip("pexpect")

REPO = Path(__file__).resolve().parents[3]
ESC = "\x1b"
RIGHT, DOWN = "\x1b[C", "\x1b[B"
PASSWORD = "install-test-pw"
# sda..sdd: 468862128 sectors of 512 bytes = 223.5706... GiB, the first selected disk's size (hdsize default)
SDA_GIB = 468862128 * 512 / 1024**3

EXPECTED = InstallConfig(
    disk_setup=DiskSetup(
        Filesystem.ZFS, ("/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd"),
        # 257597 MiB of RAM: 10 % is 25760 MiB, above the 16384 MiB cap
        zfs=ZfsOptions(ZfsRaid.RAID10, ashift=12, compress="on", checksum="on", copies=1, arc_max_mib=16384,
                       hdsize=SDA_GIB)),
    network=NetworkConfig(
        interface="eno1", hostname="pveauto", domain="test.local", cidr="192.168.1.114/24",
        gateway="192.168.1.1", dns="192.168.1.254",
        pin_names={"b4:2e:99:ac:ad:b4": "nic0", "b4:2e:99:ac:ad:b5": "nic1", "1c:34:da:5c:5e:24": "nic2",
                   "1c:34:da:5c:5e:25": "nic3", "24:8a:07:1e:05:bc": "nic4", "24:8a:07:1e:05:bd": "nic5",
                   "a0:36:9f:0a:b3:82": "nic6", "a0:36:9f:0a:b3:83": "nic7", "5a:47:32:dd:c7:47": "nic8"}),
    root=RootAccess(password=PASSWORD),
    country="at", timezone="Europe/Vienna", keyboard="de", mailto="admin@example.com",
)


def shared_dir() -> Path:
    env = os.environ.get("KEEL_SHARED_DIR")
    return Path(env) if env else REPO / ".." / "shared"


@pytest.fixture
def fixture_profile(tmp_path: Path) -> Path:
    from installer.hardware.pve_env import load_pve_env

    base = shared_dir() / "compat" / "pve-auto-installer"
    if not (base / "run-env-info.json").is_file():
        pytest.skip(f"the compat corpus is not at {base} (set KEEL_SHARED_DIR)")
    path = tmp_path / "server.json"
    load_pve_env(base / "run-env-info.json", base / "run-env-udev.json").save(path)
    return path


class Wizard:
    """The wizard process, with named steps that wait for the screen before typing."""

    def __init__(self, child: pexpect.spawn):
        self.child = child

    def wait_for(self, text: str, timeout: float = 20) -> None:
        self.child.expect_exact(text, timeout=timeout)

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def mnemonic(self, letter: str) -> None:
        self.send(ESC + letter)

    def pick(self, what: str) -> None:
        """Open the focused choice's list, type to find `what`, take it."""
        self.send("\r")
        self.wait_for("type to find")
        self.send(what)
        self.wait_for(f"find: {what}")
        self.send("\r")


def test_zfs_raid10_on_the_fixture_server_writes_the_expected_config(fixture_profile: Path, tmp_path: Path):
    output, answer = tmp_path / "config.json", tmp_path / "answer.toml"
    env = {**os.environ, "TERM": "vt100", "LANG": "C.UTF-8"}
    child = pexpect.spawn(sys.executable, ["-m", "installer.cli", "tui", "--hardware", str(fixture_profile),
                                           "--dry-run", "--output", str(output), "--save-answer", str(answer)],
                          cwd=str(REPO), env=env, dimensions=(24, 80), encoding="utf-8", timeout=30)
    w = Wizard(child)
    try:
        w.wait_for("I agree")
        w.mnemonic("g")
        w.wait_for("Target disks and options")
        w.send(RIGHT * 4)                       # ext4 -> xfs -> zfs (RAID0) -> zfs (RAID1) -> zfs (RAID10)
        w.wait_for("RAID10")
        w.wait_for("eselect all")           # the button; its D is drawn apart (the mnemonic)
        w.mnemonic("d")
        w.wait_for("do not use")
        for i, disk in enumerate(("sda", "sdb", "sdc", "sdd")):
            if i:
                w.send(DOWN)
            w.pick(disk)
        w.wait_for("Storage plan: zfs (RAID10) on 4 disks")
        w.mnemonic("n")
        w.wait_for("Location, time zone and keyboard")
        w.mnemonic("n")
        w.wait_for("Administration password")
        w.send(PASSWORD + DOWN + PASSWORD + DOWN + "\x05\x15" + "admin@example.com")   # Ctrl-E, Ctrl-U
        w.wait_for("admin@example.com")
        w.mnemonic("n")
        w.wait_for("Management network configuration")
        w.mnemonic("n")
        w.wait_for("Will be erased")
        w.wait_for("I understand")
        w.send(" ")                             # the erase confirmation has the focus
        w.mnemonic("i")
        w.wait_for("no disk was touched", timeout=60)
        w.mnemonic("q")
        child.expect(pexpect.EOF, timeout=20)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    assert "Storage plan: zfs (RAID10) on 4 disks" in child.before
    saved = InstallConfig.load(output)
    # a dry run's config holds the password only as a hash, and is readable by its owner only
    assert saved.root.password is None and saved.root.password_hashed.startswith("$6$")
    assert PASSWORD not in output.read_text() and output.stat().st_mode & 0o777 == 0o600
    assert replace(saved, root=EXPECTED.root) == EXPECTED

    # the saved answer file installs the next server the same way: it resolves to the same choices
    again = answerfile.load_install_config(answer, HardwareProfile.load(fixture_profile), unattended=False)
    assert again.disk_setup == EXPECTED.disk_setup and again.network == EXPECTED.network
    assert again.root.password is None and again.root.password_hashed.startswith("$6$")
    assert PASSWORD not in answer.read_text()


def test_ctrl_c_asks_before_aborting_and_resizing_keeps_the_wizard_usable(fixture_profile: Path, tmp_path: Path):
    output = tmp_path / "config.json"
    env = {**os.environ, "TERM": "vt100", "LANG": "C.UTF-8"}
    child = pexpect.spawn(sys.executable, ["-m", "installer.cli", "tui", "--hardware", str(fixture_profile),
                                           "--dry-run", "--output", str(output)],
                          cwd=str(REPO), env=env, dimensions=(24, 80), encoding="utf-8", timeout=30)
    w = Wizard(child)
    try:
        w.wait_for("I agree")
        w.mnemonic("g")
        w.wait_for("Target disks and options")
        child.setwinsize(50, 170)               # 160 columns and more: the preview moves beside the options
        w.wait_for("Plan preview")
        child.setwinsize(24, 80)
        w.send("\x03")                          # Ctrl-C
        w.wait_for("Abort the installation?")
        w.send("n")
        w.wait_for("Storage plan")
        w.send("\x03")
        w.wait_for("Abort the installation?")
        w.send("y")
        child.expect(pexpect.EOF, timeout=20)
    finally:
        child.close(force=True)
    assert child.exitstatus == 2
    assert "aborted, nothing was written to any disk" in child.before
    assert not output.exists()


def test_a_serial_line_that_reports_no_size_gets_80x24(fixture_profile: Path):
    env = {**os.environ, "TERM": "vt220", "LANG": "C.UTF-8"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    child = pexpect.spawn(sys.executable, ["-m", "installer.cli", "tui", "--hardware", str(fixture_profile),
                                           "--dry-run", "--output", os.devnull],
                          cwd=str(REPO), env=env, dimensions=(0, 0), encoding="utf-8", timeout=30)
    try:
        Wizard(child).wait_for("End-user license agreement")
        child.expect_exact("\x1b[24;1H", timeout=10)   # the button row is drawn on line 24
    finally:
        child.close(force=True)
