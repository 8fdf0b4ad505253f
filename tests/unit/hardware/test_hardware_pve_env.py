"""Converting the Proxmox run-env recording (10 disks incl. 4Kn NVMe, 9 NICs) into a HardwareProfile."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from installer.core.hardware import ExistingContent, HardwareProfile, Route
from installer.hardware.pve_env import PveEnvError, existing_from_udev, load_pve_env, profile_from_pve_env


@pytest.fixture
def server(pve_compat) -> HardwareProfile:
    return load_pve_env(pve_compat / "run-env-info.json", pve_compat / "run-env-udev.json")


def test_disks_keep_proxmox_index_path_and_size(server):
    assert [(d.index, d.name) for d in server.disks][:2] == [(0, "nvme0n1"), (1, "nvme1n1")]
    sda = server.disk("sda")
    assert sda.index == 6 and sda.size_bytes == 468862128 * 512
    assert sda.udev["ID_SERIAL_SHORT"] == "S2HRNX0J403550"
    assert sda.bus == "ata"


def test_4kn_disks_come_from_the_logical_block_size(server):
    assert [d.name for d in server.disks if d.logical_block_size == 4096] == [
        "nvme0n1", "nvme1n1", "nvme2n1", "nvme3n1"]


def test_lvm_members_become_existing_content_with_their_vg(server):
    assert server.disk("nvme0n1").existing == (
        ExistingContent("lvm-pv", "/dev/nvme0n1", detail="LVM2_member",
                        group="ceph-67f6a633-8bac-4ba6-a54c-40f0d24a9701"),
    )
    assert server.disk("nvme5n1").existing[0].kind == "partition-table"


def test_nics_merge_run_env_state_with_udev_properties(server):
    eno1 = server.nic("eno1")
    assert (eno1.mac, eno1.state, eno1.driver, eno1.pinned_id) == ("b4:2e:99:ac:ad:b4", "UP", "igb", "0")
    assert eno1.addresses[0].address == "192.168.1.114" and eno1.addresses[0].prefix == 24
    assert eno1.udev["ID_NET_NAME_MAC"] == "enxb42e99acadb4"


def test_a_nic_only_udev_saw_is_kept_unpinned_with_its_mac_from_the_udev_name(server):
    bmc = server.nic("enxaa0c304b6362")
    assert (bmc.mac, bmc.pinned_id, bmc.state) == ("aa:0c:30:4b:63:62", None, "UNKNOWN")
    assert server.nic("enx5a4732ddc747").pinned_id == "8"


def test_runtime_network_and_machine_facts(server):
    assert server.network.gateway4 == Route(dev="eno1", gateway="192.168.1.1")
    assert server.network.dns == ("192.168.1.254",)
    assert (server.network.domain, server.network.hostname) == ("test.local", "pveauto")
    assert (server.memory_mib, server.boot_mode, server.hvm) == (257597, "efi", True)


def test_override_replaces_the_run_env_and_drops_udev_of_other_disks(pve_compat):
    profile = load_pve_env(pve_compat / "run-env-info.json", pve_compat / "run-env-udev.json",
                           pve_compat / "parse_answer" / "no_network.run-env.json")
    assert [d.name for d in profile.disks] == ["sda"]
    assert profile.disks[0].udev == {}  # index 0 in the udev dump is nvme0n1, not this sda
    assert profile.network.gateway4 is None


def test_profile_survives_a_json_round_trip(server):
    assert HardwareProfile.from_json(server.to_json()) == server


@pytest.mark.parametrize(
    ("props", "kind", "group"),
    [
        ({"ID_FS_TYPE": "zfs_member", "ID_FS_LABEL": "rpool", "ID_FS_UUID": "123"}, "zfs-member", "rpool"),
        ({"ID_FS_TYPE": "linux_raid_member", "ID_FS_LABEL": "host:0", "ID_FS_UUID": "u"}, "md-member", "host:0"),
        ({"ID_FS_TYPE": "btrfs", "ID_FS_LABEL": "data", "ID_FS_UUID": "u"}, "btrfs-member", "data"),
        ({"ID_FS_TYPE": "ext4", "ID_FS_LABEL": "root", "ID_FS_UUID": "u"}, "filesystem", "root"),
    ],
    ids=["zfs pool member", "md array member", "btrfs member", "plain filesystem"],
)
def test_existing_content_kinds_from_udev(props, kind, group):
    (found,) = existing_from_udev("/dev/sdx1", {**props, "DEVTYPE": "partition"})
    assert (found.kind, found.group) == (kind, group)


def test_bad_boot_type_is_a_clear_error():
    with pytest.raises(PveEnvError, match="boot_type"):
        profile_from_pve_env({"boot_type": "uefi"}, {})


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=10,
)
run_env_keys = st.sampled_from(["disks", "network", "boot_type", "total_memory", "secure_boot", "interfaces",
                                "routes", "dns", "hostname", "gateway4", "nics", "0", "eno1", "kernel_cmdline"])
run_env_like = st.dictionaries(run_env_keys, json_values, max_size=5)


@settings(max_examples=200, deadline=None)
@given(info=run_env_like, udev=run_env_like)
def test_malformed_run_env_gives_only_pve_env_errors(info, udev):
    with contextlib.suppress(PveEnvError):
        profile_from_pve_env(info, udev)
