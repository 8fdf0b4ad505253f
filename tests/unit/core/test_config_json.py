"""InstallConfig and HardwareProfile survive a JSON round trip and reject malformed documents clearly."""

import pytest

from installer.core import jsoncodec
from installer.core.config import (
    BtrfsOptions,
    BtrfsRaid,
    DiskSetup,
    Filesystem,
    FirstBoot,
    InstallConfig,
    LvmOptions,
    NetworkConfig,
    RootAccess,
    Webhook,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import Address, Disk, ExistingContent, HardwareProfile, NetworkRuntime, Nic, Route


def make_config(**overrides) -> InstallConfig:
    values = dict(
        disk_setup=DiskSetup(
            filesystem=Filesystem.ZFS,
            disks=("/dev/sda", "/dev/sdb"),
            zfs=ZfsOptions(raid=ZfsRaid.RAID1, compress="lz4", copies=2, arc_max_mib=2048, hdsize=80.0),
        ),
        network=NetworkConfig(
            interface="eno1", hostname="pve1", domain="example.com", cidr="192.168.1.10/24",
            gateway="192.168.1.1", dns="192.168.1.254", pin_names={"b4:2e:99:ac:ad:b4": "mgmt"},
        ),
        root=RootAccess(password="correct horse", ssh_keys=("ssh-ed25519 AAAA test",)),
        country="at", timezone="Europe/Vienna", keyboard="de", mailto="admin@example.com",
        first_boot=FirstBoot(source="from-url", url="https://example.com/fb", ordering="network-online"),
        webhook=Webhook(url="https://example.com/hook", auth_token="s3cret-token"),
        subscription_key="pve4c-0123456789",
    )
    values.update(overrides)
    return InstallConfig(**values)


@pytest.mark.parametrize(
    "disk_setup",
    [
        DiskSetup(filesystem=Filesystem.EXT4, disks=("/dev/sda",), lvm=LvmOptions(hdsize=32.0, swapsize=0.0)),
        DiskSetup(filesystem=Filesystem.BTRFS, disks=("/dev/sda", "/dev/sdb"),
                  btrfs=BtrfsOptions(raid=BtrfsRaid.RAID1, compress="zstd")),
        DiskSetup(filesystem=Filesystem.ZFS, disks=("/dev/sda",), zfs=ZfsOptions(raid=ZfsRaid.RAIDZ2)),
    ],
    ids=["ext4 with sizing options", "btrfs raid1 with compression", "zfs raidz-2 defaults"],
)
def test_install_config_round_trips_through_json(disk_setup):
    config = make_config(disk_setup=disk_setup)
    assert InstallConfig.from_json(config.to_json()) == config


def test_zfs_raid_level_is_written_with_proxmox_spelling():
    data = jsoncodec.to_data(make_config())
    assert data["disk_setup"]["zfs"]["raid"] == "RAID1"
    assert make_config().disk_setup.label == "zfs (RAID1)"


def test_redacted_config_hides_every_secret():
    text = make_config().redacted().to_json()
    for secret in ("correct horse", "s3cret-token", "pve4c-0123456789"):
        assert secret not in text
    assert "<redacted>" in text


def test_unknown_key_in_config_json_names_its_path():
    data = jsoncodec.to_data(make_config())
    data["network"]["gatway"] = "10.0.0.1"
    with pytest.raises(jsoncodec.DecodeError, match=r"InstallConfig\.network: unknown key\(s\) gatway"):
        jsoncodec.from_data(InstallConfig, data)


def test_wrong_enum_value_lists_the_choices():
    data = jsoncodec.to_data(make_config())
    data["disk_setup"]["filesystem"] = "ntfs"
    with pytest.raises(jsoncodec.DecodeError, match=r"disk_setup\.filesystem: expected one of 'ext4'"):
        jsoncodec.from_data(InstallConfig, data)


def test_wrong_scalar_type_is_refused():
    data = jsoncodec.to_data(make_config())
    data["disk_setup"]["zfs"]["copies"] = "two"
    with pytest.raises(jsoncodec.DecodeError, match="copies: expected int"):
        jsoncodec.from_data(InstallConfig, data)


def test_hardware_profile_round_trips_through_json():
    profile = HardwareProfile(
        disks=(
            Disk(name="nvme0n1", path="/dev/nvme0n1", size_bytes=3_200_631_791_616, logical_block_size=4096,
                 physical_block_size=4096, model="Micron_9300", bus="nvme", udev={"ID_SERIAL": "X1"},
                 existing=(ExistingContent(kind="lvm-pv", device="/dev/nvme0n1", group="ceph", group_id="u1"),)),
        ),
        nics=(Nic(name="eno1", mac="b4:2e:99:ac:ad:b4", index=4, driver="igb", state="UP",
                  addresses=(Address(family="inet", address="192.168.1.114", prefix=24),), pinned_id="0"),),
        network=NetworkRuntime(gateway4=Route(dev="eno1", gateway="192.168.1.1"), dns=("192.168.1.254",),
                               domain="test.local", hostname="pveauto"),
        memory_mib=257597, boot_mode="efi",
    )
    assert HardwareProfile.from_json(profile.to_json()) == profile
