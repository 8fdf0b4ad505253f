"""The hypervisor's cluster configuration files, written as plain files: storage.cfg, datacenter.cfg, user.cfg."""

from __future__ import annotations

from installer.storage.plan import StorageEntry


def render_storage_cfg(entries: tuple[StorageEntry, ...]) -> str:
    """/etc/pve/storage.cfg: one stanza per entry, properties tab-indented, a blank line after each."""
    out = []
    for entry in entries:
        out.append(f"{entry.type}: {entry.id}\n")
        out += [f"\t{key} {value}\n" if value else f"\t{key}\n" for key, value in entry.properties]
        if entry.disabled:
            out.append("\tdisable\n")
        out.append("\n")
    return "".join(out)


def render_datacenter_cfg(kvm_keymap: str | None) -> str:
    """/etc/pve/datacenter.cfg: the console keyboard for the web UI's VNC viewer, when the keymap has one."""
    return f"keyboard: {kvm_keymap}\n" if kvm_keymap else ""


def render_user_cfg(mailto: str) -> str:
    """/etc/pve/user.cfg: root@pam enabled, never expiring, with the admin's e-mail address."""
    return f"user:root@pam:1:0:::{mailto}::\n"
