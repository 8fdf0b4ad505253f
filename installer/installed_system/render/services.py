"""[provision.services] as files of the installed system, written by the installer (everything is known then):
chrony's servers, the postfix relay and its credentials, the apt proxy and extra apt sources."""

from __future__ import annotations

from installer.core.config import MailRelay

CHRONY_CONF = "/etc/chrony/chrony.conf"
SASL_PASSWD = "/etc/postfix/sasl_passwd"
APT_PROXY = "/etc/apt/apt.conf.d/80keel-proxy"
APT_SOURCES = "/etc/apt/sources.list.d/keel-provision.list"


def render_chrony_conf(servers: tuple[str, ...]) -> str:
    """/etc/chrony/chrony.conf as Debian ships it, with the answer's servers in place of the pool and of the
    servers DHCP offers (the answer names the time sources)."""
    return (
        "# Written by the Keel installer from [provision.services] ntp-servers; see chrony.conf(5).\n"
        "confdir /etc/chrony/conf.d\n"
        + "".join(f"server {server} iburst\n" for server in servers)
        + "sourcedir /etc/chrony/sources.d\n"
        "keyfile /etc/chrony/chrony.keys\n"
        "driftfile /var/lib/chrony/chrony.drift\n"
        "ntsdumpdir /var/lib/chrony\n"
        "logdir /var/log/chrony\n"
        "maxupdateskew 100.0\n"
        "rtcsync\n"
        "makestep 1 3\n"
        "leapsectz right/UTC\n"
    )


def relayhost(relay: MailRelay) -> str:
    """postfix's relayhost: [host]:port (brackets: no MX lookup)."""
    return f"[{relay.host}]:{relay.port}"


def render_postfix_relay(relay: MailRelay) -> str:
    """The main.cf lines after `relayhost =` for a relay with credentials: SASL from a texthash table (read as
    it is, no postmap), and never over an unencrypted connection."""
    if not relay.username:
        return ""
    return (
        "smtp_sasl_auth_enable = yes\n"
        f"smtp_sasl_password_maps = texthash:{SASL_PASSWD}\n"
        "smtp_sasl_security_options = noanonymous\n"
        "smtp_tls_security_level = encrypt\n"
    )


def render_sasl_passwd(relay: MailRelay) -> str:
    """/etc/postfix/sasl_passwd (0600): the relay's user and password."""
    return f"{relayhost(relay)} {relay.username}:{relay.password}\n"


def render_apt_proxy(url: str) -> str:
    """/etc/apt/apt.conf.d/80keel-proxy: apt's http:// downloads through the proxy (https ones stay direct)."""
    return f"// Written by the Keel installer from [provision.services] apt-proxy.\nAcquire::http::Proxy \"{url}\";\n"


def render_apt_repositories(lines: tuple[str, ...]) -> str:
    """/etc/apt/sources.list.d/keel-provision.list: the answer's extra sources, one line each."""
    return "# Written by the Keel installer from [provision.services] apt-repositories.\n" + "".join(
        f"{line.strip()}\n" for line in lines)
