"""The [first-boot] hook on the installed system: where the script and its flag go, and the links that enable the
unit of the answer's ordering (as Proxmox's installer links proxmox-first-boot-<ordering>.service by hand).

keel-firstboot (post-install/keel_firstboot) runs the hook; these paths and unit names are its layout.py's, and a
unit test keeps the two equal (neither package may import the other).
"""

from __future__ import annotations

from installer.core.config import FirstBoot

STATE_DIR = "/var/lib/keel/first-boot"      # 0700: the script may hold secrets (Proxmox chmods its dir 0700 too)
SCRIPT = f"{STATE_DIR}/script"
PENDING = f"{STATE_DIR}/pending"
UNIT_DIR = "/usr/lib/systemd/system"
ALIAS_LINK = "/etc/systemd/system/keel-firstboot.service"

# ordering -> (the unit that runs the hook, the target whose .wants/ enables it)
UNITS = {
    "before-network": ("keel-firstboot-network-pre.service", "network.target"),
    "network-online": ("keel-firstboot-network-online.service", "multi-user.target"),
    "fully-up": ("keel-firstboot-multi-user.service", "multi-user.target"),
}


def unit_of(first_boot: FirstBoot) -> str:
    """/usr/lib/systemd/system/<unit> of the answer's ordering."""
    return f"{UNIT_DIR}/{UNITS[first_boot.ordering][0]}"


def render_pending_flag(first_boot: FirstBoot) -> str:
    """/var/lib/keel/first-boot/pending: while it exists, the enabled unit runs the hook at boot."""
    unit = UNITS[first_boot.ordering][0]
    return (f"# Written by the Keel installer. While this file exists, {unit} runs\n"
            f"# {SCRIPT} {first_boot.ordering} at boot; keel-firstboot removes it after the run.\n")


def render_unit_links(first_boot: FirstBoot) -> dict[str, str]:
    """The enablement symlinks (link path -> what it points to): the alias and the target's .wants/ entry, what
    `systemctl enable` would make from the unit's [Install] section."""
    unit, wanted_by = UNITS[first_boot.ordering]
    return {
        ALIAS_LINK: f"{UNIT_DIR}/{unit}",
        f"/etc/systemd/system/{wanted_by}.wants/{unit}": f"{UNIT_DIR}/{unit}",
    }
