"""Small system files: timezone, keyboard, apt sources, mail (postfix local-only), sshd and policy-rc.d."""

from __future__ import annotations

from installer.core.config import MailRelay, NetworkConfig
from installer.core.locales import XkbLayout
from installer.installed_system.render.services import relayhost, render_postfix_relay

DEBIAN_SUITE = "trixie"
DEBIAN_COMPONENTS = "main contrib non-free-firmware"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def render_timezone(timezone: str) -> str:
    return f"{timezone}\n"


def render_keyboard(xkb: XkbLayout) -> str:
    """/etc/default/keyboard, read by console-setup and X."""
    return (
        "# Keyboard configuration written by the Keel installer (see keyboard(5)).\n"
        'XKBMODEL="pc105"\n'
        f'XKBLAYOUT="{xkb.layout}"\n'
        f'XKBVARIANT="{xkb.variant}"\n'
        'XKBOPTIONS=""\n'
        "\n"
        'BACKSPACE="guess"\n'
    )


def render_apt_sources(mirror: str, security_mirror: str = "") -> str:
    """/etc/apt/sources.list.d/debian.sources (deb822) for trixie from the mirror the ISO was built from."""
    if not mirror:
        return "# The installer did not know a Debian mirror; add one here (deb822 format, see sources.list(5)).\n"
    text = (
        "Types: deb\n"
        f"URIs: {mirror}\n"
        f"Suites: {DEBIAN_SUITE} {DEBIAN_SUITE}-updates\n"
        f"Components: {DEBIAN_COMPONENTS}\n"
        f"Signed-By: {DEBIAN_KEYRING}\n"
    )
    if security_mirror:
        text += (
            "\n"
            "Types: deb\n"
            f"URIs: {security_mirror}\n"
            f"Suites: {DEBIAN_SUITE}-security\n"
            f"Components: {DEBIAN_COMPONENTS}\n"
            f"Signed-By: {DEBIAN_KEYRING}\n"
        )
    return text


def render_sources_list_pointer() -> str:
    """/etc/apt/sources.list once debian.sources holds the archive (so apt sees no entry twice)."""
    return "# Debian's archive is configured in /etc/apt/sources.list.d/debian.sources (deb822 format).\n"


def render_postfix_main_cf(net: NetworkConfig, relay: MailRelay | None = None) -> str:
    """/etc/postfix/main.cf: deliver local mail and send out mail for this host, through the answer's relay when
    it names one; listen on loopback only."""
    return (
        "# Postfix for a hypervisor host, written by the Keel installer: local delivery and outgoing mail,\n"
        "# listening on loopback only. See /usr/share/postfix/main.cf.dist for every option.\n"
        "\n"
        f"myhostname = {net.fqdn}\n"
        "mydomain = localdomain\n"
        "myorigin = $myhostname\n"
        "mydestination = $myhostname, localhost.$mydomain, localhost\n"
        "mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n"
        "inet_interfaces = loopback-only\n"
        "inet_protocols = all\n"
        f"relayhost ={' ' + relayhost(relay) if relay else ''}\n"
        + (render_postfix_relay(relay) if relay else "")
        + "\n"
        "smtpd_banner = $myhostname ESMTP $mail_name (Debian)\n"
        "biff = no\n"
        "append_dot_mydomain = no\n"
        "compatibility_level = 3.6\n"
        "\n"
        "alias_maps = hash:/etc/aliases\n"
        "alias_database = hash:/etc/aliases\n"
        "recipient_delimiter = +\n"
        "mailbox_size_limit = 0\n"
    )


def render_aliases(mailto: str) -> str:
    """/etc/aliases: system mail ends up with root, and root's mail goes to the admin's address."""
    return (
        "# Mail aliases, written by the Keel installer (see aliases(5)); run newaliases after editing.\n"
        "postmaster: root\n"
        "nobody: root\n"
        "hostmaster: root\n"
        "webmaster: root\n"
        "www: root\n"
        f"root: {mailto}\n"
    )


def render_mailname(net: NetworkConfig) -> str:
    return f"{net.fqdn}\n"


def render_sshd_root_login() -> str:
    """/etc/ssh/sshd_config.d/keel.conf: root may log in (with a password until keys are the rule)."""
    return "# Written by the Keel installer: the hypervisor is administered as root.\nPermitRootLogin yes\n"


def render_policy_rc_d() -> str:
    """/usr/sbin/policy-rc.d while configuring: no package may start a daemon inside the chroot."""
    return "#!/bin/sh\n# Keel installer: no daemons start while the target is configured.\nexit 101\n"


def render_authorized_keys(keys: tuple[str, ...]) -> str:
    return "".join(f"{key.strip()}\n" for key in keys if key.strip())
