"""The dnsmasq configuration `keel-server dnsmasq-config` writes: DHCP (a full range, or proxy-DHCP beside an
existing DHCP server), TFTP serving iPXE loaders from the PXE directory, iPXE chaining to the server's
`/boot/${mac}.ipxe`, and options 250/251 (answer URL, certificate fingerprint) for Proxmox ISOs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# The loaders build/pxe ships (keel_iso.image.PXE_LOADERS): BIOS through the NIC's PXE ROM, UEFI with iPXE's
# own drivers (full DHCP) or through the firmware's network driver (proxy-DHCP, where the firmware keeps the NIC).
BIOS_LOADER = "undionly.kpxe"
UEFI_LOADER = "ipxe.efi"
UEFI_SNP_LOADER = "snponly.efi"


class DnsmasqError(ValueError):
    """Options that do not make a configuration."""


@dataclass(frozen=True)
class DnsmasqOptions:
    interface: str
    answer_url: str                 # https://server:8443/answer (option 250)
    fingerprint: str                # the server certificate's SHA-256 (option 251)
    boot_url: str                   # where iPXE fetches /boot/${mac}.ipxe (plain HTTP: iPXE cannot pin)
    pxe_dir: str                    # the TFTP root: build/pxe
    dhcp_range: tuple[str, str] | None = None      # full DHCP
    proxy_subnet: str | None = None                # proxy-DHCP
    router: str | None = None
    dns: str | None = None
    lease_time: str = "12h"


def _address(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as err:
        raise DnsmasqError(f"{what} {value}: not an IPv4 address") from err


def render(options: DnsmasqOptions) -> str:
    if (options.dhcp_range is None) == (options.proxy_subnet is None):
        raise DnsmasqError("give exactly one of --range FIRST,LAST (full DHCP) and --proxy SUBNET (proxy-DHCP)")
    chain = f"{options.boot_url.rstrip('/')}/boot/${{mac}}.ipxe"
    lines = [
        "# Written by keel-server dnsmasq-config: DHCP for PXE, TFTP for the iPXE loaders, iPXE chained to",
        f"# {chain}, and options 250/251 for Proxmox ISOs (answer URL and certificate fingerprint).",
        "port=0",
        f"interface={options.interface}",
        "bind-interfaces",
        "log-dhcp",
        "enable-tftp",
        f"tftp-root={options.pxe_dir}",
        "dhcp-userclass=set:ipxe,iPXE",
        "dhcp-match=set:efi64,option:client-arch,7",
        "dhcp-match=set:efi64,option:client-arch,9",
    ]
    if options.dhcp_range is not None:
        first, last = (_address(v, "--range") for v in options.dhcp_range)
        lines += [
            f"dhcp-range={first},{last},{options.lease_time}",
            *([f"dhcp-option=option:router,{_address(options.router, '--router')}"] if options.router else []),
            *([f"dhcp-option=option:dns-server,{_address(options.dns, '--dns')}"] if options.dns else []),
            f"dhcp-boot=tag:ipxe,{chain}",
            f"dhcp-boot=tag:!ipxe,tag:efi64,{UEFI_LOADER}",
            f"dhcp-boot=tag:!ipxe,tag:!efi64,{BIOS_LOADER}",
        ]
    else:
        subnet = options.proxy_subnet or ""
        try:
            network = ipaddress.ip_network(subnet, strict=False)
        except ValueError as err:
            raise DnsmasqError(f"--proxy {subnet}: not a subnet (e.g. 192.0.2.0/24)") from err
        lines += [
            f"dhcp-range={network.network_address},proxy,{network.netmask}",
            # the firmware's PXE client asks the proxy for its boot file; iPXE, once loaded, for the chain URL
            "dhcp-no-override",
            "pxe-prompt=\"Keel network boot\",0",
            f"pxe-service=tag:!ipxe,x86PC,\"Keel (BIOS)\",{BIOS_LOADER}",
            f"pxe-service=tag:!ipxe,X86-64_EFI,\"Keel (UEFI)\",{UEFI_SNP_LOADER}",
            f"pxe-service=tag:!ipxe,BC_EFI,\"Keel (UEFI)\",{UEFI_SNP_LOADER}",
            f"dhcp-boot=tag:ipxe,{chain}",
        ]
    lines += [
        f"dhcp-option-force=250,\"{options.answer_url}\"",
        f"dhcp-option-force=251,\"{options.fingerprint}\"",
        "",
    ]
    return "\n".join(lines)
