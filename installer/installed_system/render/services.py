"""[provision.services] as files of the installed system, written by the installer (everything is known then):
chrony's servers, the postfix relay and its credentials, the apt proxy and extra apt sources, the sshd password
login drop-in, the sysctl settings and the nftables baseline."""

from __future__ import annotations

import ipaddress

from installer.core import provision, services
from installer.core.config import Firewall, MailRelay

CHRONY_CONF = "/etc/chrony/chrony.conf"
SASL_PASSWD = "/etc/postfix/sasl_passwd"
APT_PROXY = "/etc/apt/apt.conf.d/80keel-proxy"
APT_SOURCES = "/etc/apt/sources.list.d/keel-provision.list"
# sshd takes the first value it reads, and reads sshd_config.d/*.conf in name order before sshd_config: "10-" puts
# the answer's choice ahead of other drop-ins (cloud-init's 50-cloud-init.conf)
SSHD_PASSWORD_LOGIN = "/etc/ssh/sshd_config.d/10-keel-password-login.conf"
SYSCTL_CONF = "/etc/sysctl.d/90-keel.conf"
NFTABLES_CONF = "/etc/nftables.conf"


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


def render_sshd_password_login(allowed: bool) -> str:
    """The sshd drop-in: password login on or off for every user, root included (keys always work)."""
    return ("# Written by the Keel installer from [provision.services] ssh-password-login.\n"
            f"PasswordAuthentication {'yes' if allowed else 'no'}\n")


def render_sysctl_conf(settings: dict[str, str]) -> str:
    """/etc/sysctl.d/90-keel.conf: the answer's settings in its order; "90-" sorts after Debian's own files, so
    the answer's value wins (systemd-sysctl applies the files in name order, the last value of a key counts)."""
    return "# Written by the Keel installer from [provision.services] sysctl; see sysctl.d(5).\n" + "".join(
        f"{key} = {value}\n" for key, value in settings.items())


def _saddr_rules(networks: tuple[str, ...], match: str) -> list[str]:
    """One rule per address family: `ip saddr { ... } <match>` and `ip6 saddr { ... } <match>`."""
    rules = []
    for version, family in ((4, "ip"), (6, "ip6")):
        nets = [n for n in networks if ipaddress.ip_network(n, strict=False).version == version]
        if nets:
            listed = ", ".join(services.normal_network(n) for n in nets)
            rules.append(f"\t\t{family} saddr {{ {listed} }} {match}\n")
    return rules


def render_nftables_conf(firewall: Firewall) -> str:
    """/etc/nftables.conf (loaded by nftables.service at boot): an input policy only. Forwarded and bridged
    traffic (the guests') and output are left alone: the baseline keeps the host itself reachable only where the
    cluster and its administrators need it. SSH stays open to everyone, so a wrong network list cannot lock the
    administrator out; ICMP stays open, IPv6 needs it for neighbour discovery."""
    low, high = services.COROSYNC_PORTS
    return "".join([
        "#!/usr/sbin/nft -f\n"
        "# Written by the Keel installer from [provision.services] firewall.\n"
        "flush ruleset\n"
        "\n"
        "table inet keel {\n"
        "\tchain input {\n"
        "\t\ttype filter hook input priority filter; policy drop;\n"
        "\t\tct state established,related accept\n"
        "\t\tct state invalid drop\n"
        "\t\tiif \"lo\" accept\n"
        "\t\tmeta l4proto { icmp, ipv6-icmp } accept\n"
        f"\t\ttcp dport {services.SSH_PORT} accept\n",
        *_saddr_rules(firewall.cluster_networks, f"udp dport {low}-{high} accept"),
        *_saddr_rules(firewall.cluster_networks, f"tcp dport {provision.JOIN_PORT} accept"),
        *_saddr_rules(firewall.allow_from, "accept"),
        "\t}\n"
        "}\n",
    ])
