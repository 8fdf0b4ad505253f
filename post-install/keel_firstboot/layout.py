"""Where the hook, its flag, its status and its log live, and the unit for each ordering.

This is the contract with the installer, which writes the script and the flag and enables one unit
(installer/installed_system/render/first_boot.py); a unit test keeps both sides equal, since neither package may
import the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATE_DIR = "/var/lib/keel/first-boot"          # root's only (0700), like Proxmox's /var/lib/proxmox-first-boot
SCRIPT = f"{STATE_DIR}/script"                  # the executable, 0700
PENDING = f"{STATE_DIR}/pending"                # while it exists, the enabled unit runs the hook at boot
STATUS = f"{STATE_DIR}/status.json"             # the last run: state, exit code, start and end
LOG = "/var/log/keel/first-boot.log"            # every run's output, appended (0600)
UNIT_DIR = "/usr/lib/systemd/system"
ALIAS = "keel-firstboot.service"                # the enabled ordering's unit also answers to this name
ALIAS_LINK = f"/etc/systemd/system/{ALIAS}"
DEFAULT_ORDERING = "fully-up"
PROVISION_UNIT = "keel-provision.service"       # runs `keel-firstboot provision`; enabled when provision.json is
PROVISION_WANTED_BY = "multi-user.target"       # written (installer/installed_system/render/provision.py)


@dataclass(frozen=True)
class Ordering:
    name: str           # the answer's [first-boot] ordering, and the hook's first argument (as in Proxmox)
    unit: str           # the unit that runs it
    wanted_by: str      # the target whose .wants/ directory enables the unit
    when: str           # for people: "once the network is online"


ORDERINGS = {o.name: o for o in (
    Ordering("before-network", "keel-firstboot-network-pre.service", "network.target",
             "before the network is configured (before network-pre.target)"),
    Ordering("network-online", "keel-firstboot-network-online.service", "multi-user.target",
             "once the network is online (after network-online.target)"),
    Ordering("fully-up", "keel-firstboot-multi-user.service", "multi-user.target",
             "once the system is fully up (after multi-user.target)"),
)}


@dataclass(frozen=True)
class Paths:
    """The files above under `root`: "/" on the installed system, a scratch directory in tests."""

    root: Path = Path("/")

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    @property
    def state_dir(self) -> Path:
        return self.at(STATE_DIR)

    @property
    def script(self) -> Path:
        return self.at(SCRIPT)

    @property
    def pending(self) -> Path:
        return self.at(PENDING)

    @property
    def status(self) -> Path:
        return self.at(STATUS)

    @property
    def log(self) -> Path:
        return self.at(LOG)

    @property
    def alias_link(self) -> Path:
        return self.at(ALIAS_LINK)

    def enabled_ordering(self) -> Ordering | None:
        """The ordering whose unit the alias names (the one the installer enabled), if any."""
        try:
            unit = Path(self.alias_link.readlink()).name
        except OSError:
            return None
        return next((o for o in ORDERINGS.values() if o.unit == unit), None)
