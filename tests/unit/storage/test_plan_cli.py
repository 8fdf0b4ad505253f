"""`keel-installer plan` on the recorded 10-disk server: a readable table, valid JSON, one line per refusal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from installer.cli import main
from installer.core.config import BtrfsRaid, ZfsRaid
from keel_testing.builders import btrfs_setup, config, disk, hardware, lvm_setup, zfs_setup

REPO = Path(__file__).resolve().parents[3]
SATA = ("/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd")


@pytest.fixture
def server_json(fixture_server, tmp_path: Path) -> Path:
    path = tmp_path / "server.json"
    fixture_server.save(path)
    return path


def write_answer(tmp_path: Path, disk_setup: str) -> Path:
    path = tmp_path / "answer.toml"
    path.write_text(
        '[global]\nkeyboard = "de"\ncountry = "at"\nfqdn = "pve1.example.com"\nmailto = "ops@example.com"\n'
        'timezone = "Europe/Vienna"\nroot-password = "12345678"\n\n[network]\nsource = "from-dhcp"\n\n'
        f"[disk-setup]\n{disk_setup}\n"
    )
    return path


ANSWERS = {
    "ext4": 'filesystem = "ext4"\ndisk-list = ["sda"]',
    "zfs-raid10": 'filesystem = "zfs"\nzfs.raid = "raid10"\ndisk-list = ["sda", "sdb", "sdc", "sdd"]',
    "btrfs-raid1": 'filesystem = "btrfs"\nbtrfs.raid = "raid1"\ndisk-list = ["sda", "sdb"]',
}


@pytest.mark.parametrize(("name", "heading"), [
    pytest.param("ext4", "Storage plan: ext4 on 1 disk", id="ext4 answer prints the LVM plan"),
    pytest.param("zfs-raid10", "Storage plan: zfs (RAID10) on 4 disks", id="ZFS RAID10 answer prints the pool"),
    pytest.param("btrfs-raid1", "Storage plan: btrfs (RAID1) on 2 disks", id="Btrfs RAID1 answer prints profiles"),
])
def test_table_for_an_answer_fits_80_columns(name, heading, server_json, tmp_path, capsys) -> None:
    pytest.importorskip("answerfile")
    answer = write_answer(tmp_path, ANSWERS[name])
    assert main(["plan", "--hardware", str(server_json), "--answer", str(answer)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(heading + "\n")
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "/dev/sda3" in out and "Mounts" in out and "Destroyed" in out


@pytest.mark.parametrize("name", list(ANSWERS), ids=[f"{n} answer gives valid JSON" for n in ANSWERS])
def test_json_for_an_answer(name, server_json, tmp_path, capsys) -> None:
    pytest.importorskip("answerfile")
    answer = write_answer(tmp_path, ANSWERS[name])
    assert main(["plan", "--hardware", str(server_json), "--answer", str(answer), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["filesystem"] == name.split("-")[0]
    assert data["disks"][0]["path"] == "/dev/sda"
    if name == "zfs-raid10":
        assert [v["type"] for v in data["zfs"]["vdevs"]] == ["mirror", "mirror"]
    if name == "btrfs-raid1":
        assert data["btrfs"]["data_profile"] == "raid1"


@pytest.mark.parametrize("setup", [
    pytest.param(lvm_setup("/dev/sda"), id="ext4 config"),
    pytest.param(zfs_setup(ZfsRaid.RAID10, *SATA), id="ZFS RAID10 config"),
    pytest.param(btrfs_setup(BtrfsRaid.RAID1, "/dev/sda", "/dev/sdb"), id="Btrfs RAID1 config"),
])
def test_a_saved_config_plans_to_table_and_json(setup, server_json, tmp_path, capsys) -> None:
    cfg = tmp_path / "config.json"
    config(setup).save(cfg)
    assert main(["plan", "--hardware", str(server_json), "--config", str(cfg)]) == 0
    assert capsys.readouterr().out.startswith("Storage plan: ")
    assert main(["plan", "--hardware", str(server_json), "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["filesystem"] == setup.filesystem


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "installer.cli", "plan", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("setup", "machine", "message"), [
    pytest.param(zfs_setup(ZfsRaid.RAID10, "/dev/sda", "/dev/sdb", "/dev/sdc"), "server",
                 "ZFS RAID10 needs at least 4 disks, got 3", id="ZFS RAID10 on 3 disks"),
    pytest.param(lvm_setup("/dev/sda"), "4kn-bios",
                 "Booting from 4Kn drive in legacy BIOS mode is not supported: sda has 4096-byte logical sectors",
                 id="4Kn disk on a BIOS machine"),
    pytest.param(zfs_setup(ZfsRaid.RAID1, "/dev/nvme4n1", "/dev/sda"), "server",
                 "mirrored disks must have about the same size (within 10 %): nvme4n1 has 465.76 GiB, "
                 "sda has 223.57 GiB", id="mirror of a 500 GB and a 240 GB disk"),
])
def test_bad_combinations_exit_1_with_one_line_and_no_traceback(setup, machine, message, server_json,
                                                                tmp_path) -> None:
    cfg = tmp_path / "config.json"
    config(setup).save(cfg)
    hw = server_json
    if machine == "4kn-bios":
        hw = tmp_path / "bios.json"
        hardware(disk("sda", 64, sector=4096), boot_mode="bios").save(hw)
    result = run_cli("--hardware", str(hw), "--config", str(cfg))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"keel-installer plan: {message}\n"


def test_a_refused_answer_gives_one_line_per_problem(server_json, tmp_path) -> None:
    pytest.importorskip("answerfile")
    answer = write_answer(tmp_path, 'filesystem = "zfs"\nzfs.raid = "raidz-2"\ndisk-list = ["sda", "sdb", "sdc"]')
    result = run_cli("--hardware", str(server_json), "--answer", str(answer))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("keel-installer plan: ") for line in lines)
    assert any("RAIDZ-2" in line and "4" in line for line in lines)


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--hardware", "/nonexistent/hw.json", "--config", "c.json"],
                 "keel-installer plan: /nonexistent/hw.json: cannot read the hardware profile "
                 "(No such file or directory)",
                 id="a missing hardware file"),
])
def test_unreadable_input_exits_2_with_one_line(args, message) -> None:
    result = run_cli(*args)
    assert (result.returncode, result.stderr) == (2, message + "\n")


def test_a_broken_config_names_the_file_and_key(server_json, tmp_path) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text('{"disk_setup": {"filesystem": "ext5"}}')
    result = run_cli("--hardware", str(server_json), "--config", str(cfg))
    assert result.returncode == 2
    assert result.stderr.startswith(f"keel-installer plan: {cfg}: not a valid InstallConfig: ")
    assert len(result.stderr.splitlines()) == 1


def test_help_has_an_example() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "keel-installer plan --hardware server.json --answer answer.toml" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
