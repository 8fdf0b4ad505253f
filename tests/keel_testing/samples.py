"""Hand-built inputs shared by the target and engine tests: one config, one machine, three storage plans."""

from __future__ import annotations

from dataclasses import replace

from installer.core.config import (
    ClusterSettings,
    DiskSetup,
    Filesystem,
    Firewall,
    InstallConfig,
    LvmOptions,
    MailRelay,
    NetworkConfig,
    Provision,
    RootAccess,
    ServicesSettings,
    StorageSpec,
    UserAccount,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import Disk, HardwareProfile, Nic
from installer.storage.plan import (
    BtrfsPlan,
    Dataset,
    LogicalVolume,
    LvmPlan,
    Mount,
    Partition,
    PlannedDisk,
    StorageEntry,
    StoragePlan,
    Vdev,
    ZfsPlan,
)

GiB = 1024**3
MiB = 1024**2
BIOS_GUID = "21686148-6449-6E6F-744E-656564454649"
ESP_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LVM_GUID = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
ZFS_GUID = "6A898CC3-1DD2-11B2-99A6-080020736631"

PASSWORD = "s3cret-Pa55word"

NETWORK = NetworkConfig(
    interface="eno1", hostname="pve1", domain="example.com", cidr="192.168.1.10/24",
    gateway="192.168.1.1", dns="192.168.1.2",
)

CONFIG = InstallConfig(
    disk_setup=DiskSetup(Filesystem.EXT4, ("/dev/sda",), lvm=LvmOptions()),
    network=NETWORK,
    root=RootAccess(password=PASSWORD, ssh_keys=("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeel admin@example.com",)),
    country="at",
    timezone="Europe/Vienna",
    keyboard="de",
    mailto="admin@example.com",
)

HARDWARE = HardwareProfile(
    disks=(Disk("sda", "/dev/sda", 32 * GiB), Disk("sdb", "/dev/sdb", 32 * GiB, index=1)),
    nics=(
        Nic("eno1", "52:54:00:12:34:56", index=2, state="UP"),
        Nic("eno2", "52:54:00:AB:CD:EF", index=3),
    ),
    memory_mib=4096,
    boot_mode="bios",
)


def _disk(name: str, esp_mib: int = 512) -> PlannedDisk:
    end = 32 * GiB // 512 - 34
    esp_end = 2048 + esp_mib * 2048 - 1
    return PlannedDisk(
        path=f"/dev/{name}", name=name, logical_block_size=512, size_bytes=32 * GiB,
        partitions=(
            Partition(1, "bios-boot", 34, 2047, 2014 * 512, BIOS_GUID, f"/dev/{name}1"),
            Partition(2, "esp", 2048, esp_end, esp_mib * MiB, ESP_GUID, f"/dev/{name}2"),
            Partition(3, "lvm", esp_end + 1, end, (end - esp_end) * 512, LVM_GUID, f"/dev/{name}3"),
        ),
    )


LVM_PLAN = StoragePlan(
    filesystem=Filesystem.EXT4,
    disks=(_disk("sda"),),
    lvm=LvmPlan("pve", ("/dev/sda3",), (
        LogicalVolume("swap", 4 * GiB),
        LogicalVolume("root", 7 * GiB),
        LogicalVolume("data", 12 * GiB, thin_pool=True, metadata_bytes=1 * GiB),
    ), free_bytes=4 * GiB),
    zfs=None,
    btrfs=None,
    mounts=(
        Mount("/dev/pve/root", "/", "ext4", "errors=remount-ro", 0, 1),
        Mount("/dev/pve/swap", "none", "swap", "sw", 0, 0),
        Mount("proc", "/proc", "proc", "defaults", 0, 0),
    ),
    kernel_root="root=/dev/mapper/pve-root",
    storage=(
        StorageEntry("dir", "local", (("path", "/var/lib/vz"), ("content", "iso,vztmpl,backup,import"))),
        StorageEntry("lvmthin", "local-lvm", (("thinpool", "data"), ("vgname", "pve"),
                                             ("content", "rootdir,images"))),
    ),
    fs_uuids={"root": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "esp:/dev/sda": "ABCD-1234"},
    destroy=(),
    rename=(),
    warnings=(),
)

ZFS_CONFIG = replace(CONFIG, disk_setup=DiskSetup(
    Filesystem.ZFS, ("/dev/sda", "/dev/sdb"), zfs=ZfsOptions(ZfsRaid.RAID1, arc_max_mib=410)))

ZFS_PLAN = StoragePlan(
    filesystem=Filesystem.ZFS,
    disks=(_disk("sda"), _disk("sdb")),
    lvm=None,
    zfs=ZfsPlan("rpool", (Vdev("mirror", ("/dev/sda3", "/dev/sdb3")),), 12, "on", "on", 1, 410, (
        Dataset("rpool/ROOT", None, {}),
        Dataset("rpool/ROOT/pve-1", "/", {"acltype": "posix"}),
        Dataset("rpool/data", None, {}),
        Dataset("rpool/var-lib-vz", "/var/lib/vz", {}),
    ), {"cachefile": "none", "ashift": "12"}),
    btrfs=None,
    mounts=(
        Mount("rpool/ROOT/pve-1", "/", "zfs", "defaults", in_fstab=False),
        Mount("rpool/var-lib-vz", "/var/lib/vz", "zfs", "defaults", in_fstab=False),
        Mount("proc", "/proc", "proc", "defaults", 0, 0),
    ),
    kernel_root="root=ZFS=rpool/ROOT/pve-1 boot=zfs",
    storage=(
        StorageEntry("dir", "local", (("path", "/var/lib/vz"), ("content", "iso,vztmpl,backup,import"))),
        StorageEntry("zfspool", "local-zfs", (("pool", "rpool/data"), ("sparse", ""),
                                              ("content", "images,rootdir"))),
    ),
    fs_uuids={"esp:/dev/sda": "ABCD-1234", "esp:/dev/sdb": "ABCD-5678"},
    destroy=(),
    rename=(),
    warnings=(),
)

BTRFS_PLAN = replace(
    ZFS_PLAN,
    filesystem=Filesystem.BTRFS,
    zfs=None,
    btrfs=BtrfsPlan("raid1", "raid1", ("/dev/sda3", "/dev/sdb3"), "defaults,compress=zstd"),
    mounts=(
        Mount("UUID=5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "/", "btrfs", "defaults,compress=zstd", 0, 1),
        Mount("proc", "/proc", "proc", "defaults", 0, 0),
    ),
    kernel_root="root=UUID=5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
    storage=(
        StorageEntry("dir", "local", (("path", "/var/lib/vz"), ("content", "iso,vztmpl,backup,import")),
                     disabled=True),
        StorageEntry("btrfs", "local-btrfs", (("path", "/var/lib/pve/local-btrfs"),
                                              ("content", "iso,vztmpl,backup,images,rootdir,import"))),
    ),
    fs_uuids={"root": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"},
)


CLUSTER_SECRET = "kcs1-" + "C" * 43
USER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEy+CzwdUoNTzg2abLiT953963nKTL82boaiIuJMp2E5 admin@example.com"
USER_HASH = "$y$j9T$F5Jx5fExrKuJdvC0Mz1o0.$" + "h" * 43  # the shape of a yescrypt hash, checks.CRYPT_SCHEMES
SAMPLE_DISK = "/dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC10AAA"
# [provision] with a storage of every type (as resolved: disks are by-id links), a cluster founder and services
PROVISION = Provision(
    cluster=ClusterSettings(name="rack1", mode="create", link0="192.168.1.10", cluster_secret=CLUSTER_SECRET,
                            link1="10.10.0.1", link0_priority=20, link1_priority=10),
    storage=(
        StorageSpec("scratch", "dir", ("backup", "iso"), nodes=("pve1",), disks=(f"{SAMPLE_DISK}5",),
                    path="/mnt/pve/scratch"),
        StorageSpec("fast", "lvmthin", ("images", "rootdir"), disks=("/dev/nvme0n1",)),
        StorageSpec("tank", "zfspool", ("images", "rootdir"), nodes=("pve1", "pve2"), raid="RAID1",
                    disks=(f"{SAMPLE_DISK}3", f"{SAMPLE_DISK}4")),
        StorageSpec("bulk", "btrfs", ("images", "rootdir"), raid="RAID1", path="/mnt/pve/bulk",
                    disks=(f"{SAMPLE_DISK}6", f"{SAMPLE_DISK}7")),
        StorageSpec("shared-vz", "dir", ("iso", "vztmpl"), shared=True, path="/srv/cluster-fs/vz"),
        StorageSpec("backups", "nfs", ("backup",), server="nas.example.com", export="/srv/backup"),
        StorageSpec("smb", "cifs", ("images",), server="files.example.com", share="vm", username="pve",
                    password="smb-pw"),
        StorageSpec("san", "iscsi", ("images",), portal="10.0.0.9:3260",
                    target="iqn.2024-01.com.example:storage.lun1"),
        StorageSpec("ceph-vm", "rbd", ("images", "rootdir"), monhost="10.0.0.21 10.0.0.22", pool="vm",
                    keyring="[client.admin]\n\tkey = AQD-ceph-key==\n"),
        StorageSpec("ceph-fs", "cephfs", ("backup", "iso"), monhost="10.0.0.21", username="pve",
                    keyring="AQD-cephfs-key=="),
    ),
    services=ServicesSettings(
        ntp_servers=("ntp1.example.com", "10.0.0.1"),
        mail_relay=MailRelay("smtp.example.com", 587, "pve", "relay-pw"),
        apt_proxy="http://proxy.example.com:3142",
        apt_repositories=("deb http://deb.example.com/debian trixie main",
                          "deb [arch=amd64] https://repo.example.com/keel trixie extra"),
        users=(UserAccount("admin", (USER_KEY,), ("sudo",), USER_HASH),),
        ssh_password_login=False,
        sysctl={"vm.swappiness": "10", "net/ipv4/conf/vmbr0.100/forwarding": "1",
                "net.ipv4.tcp_rmem": "4096 87380 6291456"},
        firewall=Firewall(cluster_networks=("192.168.1.0/24", "10.10.0.0/24"),
                          allow_from=("10.99.0.0/16", "2001:db8:99::/48")),
        packages=("sudo", "nftables"),
    ),
)
PROVISION_CONFIG = replace(CONFIG, provision=PROVISION)
