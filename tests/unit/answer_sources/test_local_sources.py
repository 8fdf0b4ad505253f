"""Answers from the medium and from a labelled partition, the kernel parameters and the system-info body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.fetch import Places, fetch
from installer.answer_sources.partition import label_variants, udev_escape
from installer.answer_sources.sysinfo import system_info
from installer.core.cmdline import KernelParams, parse_kernel_params
from installer.core.hardware import HardwareProfile, Nic
from installer.runner import FakeRunner

ANSWER = '[global]\nkeyboard = "de"\n'


def places_in(tmp_path: Path) -> Places:
    (tmp_path / "medium").mkdir()
    (tmp_path / "by-label").mkdir()
    return Places(medium=tmp_path / "medium", by_label=tmp_path / "by-label", mountpoint=tmp_path / "mnt",
                  leases=tmp_path / "leases", resolv_conf=tmp_path / "resolv.conf")


def labelled(places: Places, name: str) -> Path:
    device = places.by_label.parent / "sdb1"
    device.touch()
    (places.by_label / name).symlink_to(device)
    return device


def mounting_runner(places: Places, answer: str | None = ANSWER) -> FakeRunner:
    """A runner whose `mount` 'mounts' by writing the answer into the mount point."""
    def respond(argv, stdin):
        if argv[0] == "mount" and answer is not None:
            (places.mountpoint / "answer.toml").write_text(answer)
        return None
    return FakeRunner(responders=[respond])


def no_info():
    raise AssertionError("no HTTP request expected")


@pytest.mark.parametrize("name", [pytest.param("PROXMOX-AIS", id="upper case label as given"),
                                  pytest.param("proxmox-ais", id="lower case label")])
def test_the_answer_partition_is_found_by_label_and_mounted_read_only(tmp_path, name):
    places = places_in(tmp_path)
    device = labelled(places, name)
    runner = mounting_runner(places)
    answer = fetch(KernelParams(), runner, no_info, places)
    assert answer.text == ANSWER
    assert answer.source == "partition labelled PROXMOX-AIS"
    assert runner.commands[0] == ("mount", "-o", "ro", str(places.by_label / name), str(places.mountpoint))
    assert runner.commands[-1] == ("umount", str(places.mountpoint))
    assert device.exists()


def test_a_label_in_mixed_case_from_the_iso_is_also_tried_upper_and_lower():
    assert label_variants("Proxmox-AIS") == ["Proxmox-AIS", "PROXMOX-AIS", "proxmox-ais"]


def test_udev_escapes_unsafe_label_characters():
    assert udev_escape("my answers/1") == "my\\x20answers\\x2f1"


def test_a_partition_without_answer_toml_is_a_clear_error_and_still_unmounted(tmp_path):
    places = places_in(tmp_path)
    labelled(places, "PROXMOX-AIS")
    runner = mounting_runner(places, answer=None)
    with pytest.raises(AnswerSourceError, match=r"has no answer\.toml in its top directory"):
        fetch(KernelParams(), runner, no_info, places)
    assert runner.commands[-1][0] == "umount"


def test_the_answer_on_the_medium_comes_before_a_partition(tmp_path):
    places = places_in(tmp_path)
    labelled(places, "PROXMOX-AIS")
    (places.medium / "keel").mkdir()
    (places.medium / "keel/answer.toml").write_text(ANSWER)
    runner = FakeRunner()
    answer = fetch(KernelParams(), runner, no_info, places)
    assert answer.source == str(places.medium / "keel/answer.toml")
    assert runner.commands == []


def test_fetch_mode_partition_uses_the_label_it_names(tmp_path):
    places = places_in(tmp_path)
    (places.medium / "keel").mkdir()
    (places.medium / "keel/auto-installer-mode.toml").write_text('mode = "partition"\npartition_label = "myans"\n')
    labelled(places, "MYANS")
    answer = fetch(KernelParams(), mounting_runner(places), no_info, places)
    assert answer.source == "partition labelled myans"


def test_the_mode_file_at_the_medium_root_counts_as_prepare_iso_writes_it(tmp_path):
    places = places_in(tmp_path)
    (places.medium / "auto-installer-mode.toml").write_text('mode = "partition"\npartition_label = "myans"\n')
    labelled(places, "MYANS")
    answer = fetch(KernelParams(), mounting_runner(places), no_info, places)
    assert answer.source == "partition labelled myans"


def test_the_mode_file_at_the_root_wins_over_keels_own(tmp_path):
    places = places_in(tmp_path)
    (places.medium / "keel").mkdir()
    (places.medium / "keel/auto-installer-mode.toml").write_text('mode = "partition"\n')
    (places.medium / "keel/answer.toml").write_text(ANSWER)
    (places.medium / "auto-installer-mode.toml").write_text('mode = "iso"\n')
    answer = fetch(KernelParams(), FakeRunner(), no_info, places)
    assert answer.source == str(places.medium / "keel/answer.toml")


def test_no_answer_anywhere_lists_every_place_looked_at(tmp_path):
    places = places_in(tmp_path)
    with pytest.raises(AnswerSourceError) as err:
        fetch(KernelParams(), FakeRunner(), no_info, places, lookup_txt=no_info)
    lines = str(err.value).splitlines()
    assert lines[0] == "no answer file found; looked at:"
    assert "keel/answer.toml: not there" in lines[1]
    assert "no partition labelled PROXMOX-AIS / proxmox-ais" in lines[2]
    assert lines[3:] == ["  DHCP option 250: no DHCP lease",
                         "  DNS TXT proxmox-auto-installer.<search domain>: no search domain",
                         "  kernel command line: no keel.answer=<url>"]


def test_a_bad_fetch_mode_file_names_its_key(tmp_path):
    places = places_in(tmp_path)
    (places.medium / "keel").mkdir()
    (places.medium / "keel/auto-installer-mode.toml").write_text('mode = "floppy"\n')
    with pytest.raises(AnswerSourceError, match="key 'mode' must be iso, http or partition"):
        fetch(KernelParams(), FakeRunner(), no_info, places)


def test_kernel_parameters_are_read_and_others_ignored():
    params = parse_kernel_params("BOOT_IMAGE=/live/vmlinuz boot=live keel.mode=auto console=ttyS0,115200 "
                                 "keel.answer=https://10.0.2.2:8443/answer keel.fingerprint=AB:CD keel.fault=sgdisk")
    assert params == KernelParams("auto", "https://10.0.2.2:8443/answer", "AB:CD", "sgdisk")


def test_system_info_follows_the_reference_shape():
    hw = HardwareProfile(nics=(Nic("eno2", "52:54:00:AB:CD:EF", index=3), Nic("eno1", "52:54:00:12:34:56", index=2)),
                         dmi={"system.serial": "S123", "system.uuid": "u-1", "chassis.asset_tag": "A7"})
    assert system_info(hw, version="0.1.0") == {
        "$schema": {"version": "1.0"},
        "product": {"fullname": "Keel (Proxmox VE compatible)", "product": "pve", "enable_btrfs": True},
        "iso": {"release": "0.1.0", "isorelease": "1"},
        "dmi": {"system": {"serial": "S123", "uuid": "u-1"}, "baseboard": {}, "chassis": {"asset_tag": "A7"}},
        "network_interfaces": [{"link": "eno1", "mac": "52:54:00:12:34:56"},
                               {"link": "eno2", "mac": "52:54:00:ab:cd:ef"}],
        "keel": {"hardware": json.loads(hw.to_json())},
    }


def test_system_info_carries_the_whole_hardware_profile_for_a_keel_server():
    hw = HardwareProfile(nics=(Nic("eno1", "52:54:00:12:34:56", index=2),), memory_mib=65536, boot_mode="efi",
                         dmi={"system.serial": "S123"})
    sent = json.loads(json.dumps(system_info(hw, version="0.1.0")))       # as it goes over the wire
    assert HardwareProfile.from_json(json.dumps(sent["keel"]["hardware"])) == hw
    assert sent["keel"]["hardware"]["memory_mib"] == 65536
