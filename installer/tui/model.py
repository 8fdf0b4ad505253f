"""The wizard's state: what a person has entered so far, its defaults, its checks, and the InstallConfig it makes.

Screens read from and write into one `WizardState`; values stay the text that was typed so Back and Next
keep it exactly. `Wizard` wraps the state with the hardware and the checks, validates one step at a time
(returning `Problem`s that name the field) and builds the `InstallConfig`. Nothing here draws or runs
anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from installer.core import rules
from installer.core.cmdline import target_cmdline
from installer.core.config import (
    BtrfsCompress,
    BtrfsOptions,
    BtrfsRaid,
    DiskSetup,
    Filesystem,
    InstallConfig,
    LvmOptions,
    NetworkConfig,
    RootAccess,
    ZfsChecksum,
    ZfsCompress,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import Disk, GiB, HardwareProfile, Nic
from installer.core.network import FALLBACK_CIDR, FALLBACK_GATEWAY, dhcp_network
from installer.tui.checks import Checks, Locale, selection_problems

DEFAULT_EMAIL = "mail@example.invalid"
FALLBACK_COUNTRY = "at"
DO_NOT_USE = "-- do not use --"

ZFS_COMPRESS = tuple(str(value) for value in ZfsCompress)
ZFS_CHECKSUM = tuple(str(value) for value in ZfsChecksum)
BTRFS_COMPRESS = tuple(str(value) for value in BtrfsCompress)


@dataclass(frozen=True)
class FsChoice:
    """One entry of the filesystem list: "ext4", "zfs (RAID10)", "btrfs (RAID1)"."""

    filesystem: Filesystem
    raid: str | None = None

    @property
    def label(self) -> str:
        return f"{self.filesystem} ({self.raid})" if self.raid else str(self.filesystem)

    @property
    def multi_disk(self) -> bool:
        return self.raid is not None


FS_CHOICES: tuple[FsChoice, ...] = (
    FsChoice(Filesystem.EXT4),
    FsChoice(Filesystem.XFS),
    *(FsChoice(Filesystem.ZFS, str(r)) for r in ZfsRaid),
    *(FsChoice(Filesystem.BTRFS, str(r)) for r in BtrfsRaid),
)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of one step: `field` names the widget to mark."""

    field: str
    message: str


@dataclass
class WizardState:
    """Everything entered so far, as typed. Mutable: the screens edit it in place."""

    accepted_license: bool = False
    fs: FsChoice = FS_CHOICES[0]
    lvm_disk: str = ""                                  # device path of the one ext4/xfs disk
    slots: list[str | None] = field(default_factory=list)  # per slot: device path or None (do not use)
    hdsize: str = ""                                    # GiB as typed; shared by all filesystems
    hdsize_auto: bool = True                            # not typed: follows the selected disks' size
    swapsize: str = ""
    maxroot: str = ""
    minfree: str = ""
    maxvz: str = ""
    ashift: str = "12"
    zfs_compress: str = "on"
    checksum: str = "on"
    copies: str = "1"
    arc_max: str = ""
    btrfs_compress: str = "off"
    country: str = ""
    timezone: str = ""
    keyboard: str = ""
    password: str = ""
    password_confirm: str = ""
    email: str = DEFAULT_EMAIL
    interface: str = ""
    fqdn: str = ""
    cidr: str = ""
    gateway: str = ""
    dns: str = ""
    pin_enabled: bool = True
    pin_names: dict[str, str] = field(default_factory=dict)   # MAC -> name as typed
    autoreboot: bool = True
    erase_confirmed: bool = False


def sorted_nics(hardware: HardwareProfile) -> list[Nic]:
    """Management NIC candidates, links that are UP first, then by interface index (Proxmox's order)."""
    return sorted(hardware.nics, key=lambda n: (n.state != "UP", n.index, n.name))


def format_size(size_bytes: int) -> str:
    """A disk size for a 80-column list: "223.57 GiB", "2.91 TiB"."""
    gib = size_bytes / GiB
    return f"{gib / 1024:.2f} TiB" if gib >= 1024 else f"{gib:.2f} GiB"


class Wizard:
    """The wizard's logic over a `WizardState`: defaults from the hardware, checks per step, the config."""

    def __init__(self, hardware: HardwareProfile, checks: Checks, state: WizardState | None = None):
        self.hardware = hardware
        self.checks = checks
        self._by_path = {d.path: d for d in hardware.disks}   # selections hold paths; looked up on every key
        self.locale: Locale = checks.locale()
        self.state = state or self.initial_state()

    # ---- defaults -------------------------------------------------------------------------------------

    def initial_state(self) -> WizardState:
        hw = self.hardware
        disks = hw.target_disks
        state = WizardState(
            lvm_disk=disks[0].path if disks else "",
            slots=[d.path for d in disks],
        )
        self.reset_fs_options(state)
        country = hw.country if hw.country in dict(self.locale.countries) else FALLBACK_COUNTRY
        self.set_country(state, country)
        self.fill_network_defaults(state)
        return state

    def fs_disks(self, state: WizardState | None = None) -> list[Disk]:
        """The disks the current choice would use, in selection order (duplicates kept: the rules report them)."""
        state = state or self.state
        paths = [p for p in state.slots if p] if state.fs.multi_disk else [state.lvm_disk]
        return [d for p in paths if (d := self.disk(p))]

    def disk(self, path: str | None) -> Disk | None:
        return self._by_path.get(path) if path else None

    def default_hdsize(self, state: WizardState | None = None) -> float:
        """The whole size of the (smallest) selected disk in GiB: the largest hdsize allowed."""
        disks = self.fs_disks(state)
        return min((d.size_bytes for d in disks), default=0) / GiB

    def reset_fs_options(self, state: WizardState) -> None:
        """Changing the filesystem resets its options to their defaults, as Proxmox does."""
        defaults = WizardState()
        for name in ("swapsize", "maxroot", "minfree", "maxvz", "ashift", "zfs_compress", "checksum",
                     "copies", "btrfs_compress"):
            setattr(state, name, getattr(defaults, name))
        state.arc_max = str(rules.default_arc_max_mib(self.hardware.memory_mib))
        state.hdsize_auto = True
        self.follow_disks(state)

    def follow_disks(self, state: WizardState) -> None:
        """An hdsize nobody typed shows the size of the (smallest) selected disk, as Proxmox's dialog does."""
        if state.hdsize_auto:
            state.hdsize = f"{self.default_hdsize(state):.2f}"

    def set_country(self, state: WizardState, country: str) -> None:
        """A new country brings its first time zone and its keyboard layout (or en-us)."""
        state.country = country
        zones = self.locale.zones_of(country)
        state.timezone = zones[0]
        state.keyboard = self.locale.country_keyboard.get(country, "en-us")

    def fill_network_defaults(self, state: WizardState) -> None:
        """Interface, address, gateway and DNS from what DHCP gave the live system; hostname from DHCP too."""
        hw = self.hardware
        rt = hw.network
        proposed = dhcp_network(hw)
        if proposed is None:
            state.interface, state.cidr = "", FALLBACK_CIDR
            state.gateway = state.dns = FALLBACK_GATEWAY
        else:
            state.interface = proposed.nic.name
            state.cidr, state.gateway, state.dns = proposed.cidr, proposed.gateway, proposed.dns
        state.fqdn = f"{rt.hostname or 'pve'}.{rt.domain or 'example.invalid'}"
        state.pin_names = {n.mac: f"nic{n.pinned_id}" for n in hw.nics if n.pinned_id is not None}

    # ---- checks per step ------------------------------------------------------------------------------

    def problems(self, step: str) -> list[Problem]:
        return getattr(self, f"_check_{step}")(self.state)

    def _check_license(self, state: WizardState) -> list[Problem]:
        return [] if state.accepted_license else [Problem("license", "Please read and accept the license.")]

    def _check_location(self, state: WizardState) -> list[Problem]:
        out = []
        for name, check in (("country", self.checks.country), ("timezone", self.checks.timezone),
                            ("keyboard", self.checks.keyboard)):
            if message := check(getattr(state, name)):
                out.append(Problem(name, message))
        return out

    def _check_password(self, state: WizardState) -> list[Problem]:
        out = []
        if message := self.checks.password(state.password):
            out.append(Problem("password", message))
        elif state.password != state.password_confirm:
            out.append(Problem("password_confirm", "passwords do not match"))
        if message := self.checks.email(state.email.strip()):
            out.append(Problem("email", message))
        return out

    def _check_network(self, state: WizardState) -> list[Problem]:
        out = []
        if not self.hardware.nic(state.interface):
            out.append(Problem("interface", "choose the management interface"))
        fqdn = state.fqdn.strip()
        if message := self.checks.fqdn(fqdn):
            out.append(Problem("fqdn", message))
        elif fqdn.lower().endswith(".invalid"):
            out.append(Problem("fqdn", "Hostname does not look like a valid fully qualified domain name"))
        cidr_problem = self.checks.cidr(state.cidr.strip())
        if cidr_problem:
            out.append(Problem("cidr", cidr_problem))
        for name in ("gateway", "dns"):
            value = getattr(state, name).strip()
            if message := self.checks.ip(value):
                out.append(Problem(name, message))
            elif not cidr_problem and (v := _ip_version(value)) != (c := _ip_version(state.cidr.split("/")[0])):
                out.append(Problem(name, f"{name} is IPv{v} but the IP address is IPv{c}; the management "
                                         "network uses one address family"))
        if state.pin_enabled:
            names = {mac: name.strip() for mac, name in state.pin_names.items()}
            out += [Problem("pin_names", m) for m in self.checks.pin_names(names)]
        return out

    def _check_disks(self, state: WizardState) -> list[Problem]:
        out: list[Problem] = []
        sizes: dict[str, float | None] = {}
        names = ["hdsize", "swapsize", "maxroot", "minfree", "maxvz"] if not state.fs.multi_disk else ["hdsize"]
        if state.fs.filesystem == Filesystem.ZFS:
            names.append("arc_max")
        for name in names:
            try:
                sizes[name] = _number(getattr(state, name))
            except ValueError:
                out.append(Problem(name, f"'{getattr(state, name)}' is not a number"))
        hdsize = None if self.hdsize_untouched(state) else sizes.get("hdsize")
        if hdsize is not None and self.fs_disks(state) and hdsize > self.default_hdsize(state) + 0.005:
            out.append(Problem("hdsize", f"hdsize {hdsize:g} GiB is larger than the disk "
                                         f"({self.default_hdsize(state):.2f} GiB)"))
        if state.fs.filesystem == Filesystem.ZFS:
            out += self._check_zfs_numbers(state)
        disks = self.fs_disks(state)
        if not state.fs.multi_disk and not disks:
            out.append(Problem("disks", "choose the target disk"))
        for message in selection_problems(self.checks, str(state.fs.filesystem), state.fs.raid, disks,
                                          boot_mode=self.hardware.boot_mode, hdsize=hdsize):
            out.append(Problem("disks", message))
        if not state.fs.multi_disk and not any(p.field in ("swapsize", "hdsize") for p in out):
            effective = hdsize if hdsize is not None else self.default_hdsize(state)
            if message := self.checks.swap(sizes.get("swapsize"), effective):
                out.append(Problem("swapsize", message))
        return out

    def _check_zfs_numbers(self, state: WizardState) -> list[Problem]:
        out = []
        for name, (low, high) in (("ashift", rules.ZFS_ASHIFT), ("copies", rules.ZFS_COPIES)):
            value = getattr(state, name).strip()
            if not value.isdigit() or not low <= int(value) <= high:
                out.append(Problem(name, f"{name} must be a whole number from {low} to {high}"))
        arc = state.arc_max.strip()
        # above RAM - 1 GiB is lowered by the planner, with the same warning as for an answer file
        if arc and (not arc.isdigit() or int(arc) < rules.ARC_MIN_MIB):
            out.append(Problem("arc_max", f"ARC maximum must be a whole number of MiB, at least {rules.ARC_MIN_MIB}"))
        return out

    def _check_summary(self, state: WizardState) -> list[Problem]:
        if not state.erase_confirmed:
            return [Problem("erase", "Confirm that the listed disks will be erased before installing.")]
        return []

    # ---- the result -----------------------------------------------------------------------------------

    def hdsize_untouched(self, state: WizardState | None = None) -> bool:
        """hdsize still shows the pre-filled size of the selected disks: the person wants whole disks."""
        state = state or self.state
        return state.hdsize.strip() in ("", f"{self.default_hdsize(state):.2f}")

    def disk_setup(self, state: WizardState | None = None) -> DiskSetup:
        """The disk choice as a DiskSetup; assumes the disks step passed its checks (numbers parse).

        Like a resolved answer file, the config records the effective hdsize: the typed value, or the first
        selected disk's whole size (a planner treats that as "the whole disk" on every selected disk).
        """
        state = state or self.state
        selected = self.fs_disks(state)
        disks = tuple(d.path for d in selected)
        if self.hdsize_untouched(state):
            hdsize = selected[0].size_bytes / GiB if selected else None
        else:
            hdsize = _number(state.hdsize)
        fs = state.fs.filesystem
        if fs == Filesystem.ZFS:
            zfs = ZfsOptions(raid=ZfsRaid(state.fs.raid), ashift=int(state.ashift), compress=state.zfs_compress,
                             checksum=state.checksum, copies=int(state.copies),
                             arc_max_mib=int(state.arc_max or rules.default_arc_max_mib(self.hardware.memory_mib)),
                             hdsize=hdsize)
            return DiskSetup(fs, disks, zfs=zfs)
        if fs == Filesystem.BTRFS:
            btrfs = BtrfsOptions(raid=BtrfsRaid(state.fs.raid), compress=state.btrfs_compress, hdsize=hdsize)
            return DiskSetup(fs, disks, btrfs=btrfs)
        lvm = LvmOptions(hdsize=hdsize, swapsize=_number(state.swapsize), maxroot=_number(state.maxroot),
                         minfree=_number(state.minfree), maxvz=_number(state.maxvz))
        return DiskSetup(fs, disks, lvm=lvm)

    def network(self, state: WizardState | None = None) -> NetworkConfig:
        state = state or self.state
        hostname, _, domain = state.fqdn.strip().partition(".")
        pins = {mac.lower(): name.strip() for mac, name in state.pin_names.items()} if state.pin_enabled else {}
        return NetworkConfig(interface=state.interface, hostname=hostname, domain=domain,
                             cidr=state.cidr.strip(), gateway=state.gateway.strip(), dns=state.dns.strip(),
                             pin_names=pins)

    def config(self, state: WizardState | None = None) -> InstallConfig:
        """The InstallConfig of every choice; call after every step passed its checks."""
        state = state or self.state
        return InstallConfig(
            disk_setup=self.disk_setup(state),
            network=self.network(state),
            root=RootAccess(password=state.password),
            country=state.country,
            timezone=state.timezone,
            keyboard=state.keyboard,
            mailto=state.email.strip(),
            autoreboot=state.autoreboot,
            target_cmdline=target_cmdline(self.hardware.kernel_cmdline),
        )

    def plan_problems(self) -> list[Problem]:
        """What the storage planner refuses for the current disk choice (e.g. a volume group that spans
        selected and unselected disks); call once the disk step's own checks pass."""
        from installer.storage.plan import PlanError, plan

        try:
            plan(self.preview_config(), self.hardware)
        except PlanError as err:
            return [Problem("disks", message) for message in err.problems]
        return []

    def preview_config(self) -> InstallConfig:
        """A config good enough to plan the disks while the later steps are still at their defaults."""
        state = replace(self.state, password=self.state.password or "preview-only")
        return self.config(state)


def _number(text: str) -> float | None:
    """A GiB value as typed; empty means the default (None). Raises ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if value < 0 or value != value:
        raise ValueError(text)
    return value


def _ip_version(address: str) -> int:
    return 6 if ":" in address else 4
