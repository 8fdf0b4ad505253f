"""The services guest: dnsmasq (DHCP, DNS, TFTP) and a small HTTP server on a harness `Network`, per test.

The host cannot put a process on a guest LAN without a tap device, so these servers run in a guest. It is not
the Keel live system (about 4 minutes to boot under TCG here) but a Debian kernel with a busybox initramfs
(seconds, like the harness self-test image): Debian's kernel and busybox-static (`apt-get download`) and the
host's own dnsmasq with the libraries it links (Debian package dnsmasq-base). The base image is built once and
cached outside the repository (KEEL_HARNESS_CACHE, default ~/.cache/keel-harness). Each test's configuration is
a second, small cpio archive appended to the base initramfs (the kernel unpacks concatenated archives), so a
new configuration costs no image build and no extra disk.

    with Network("lan") as lan:
        cfg = DnsmasqConfig(domain="keel.test", dhcp_options=((250, url), (251, fingerprint)))
        services = services_machine(machine, lan, ServicesSpec(dnsmasq=cfg), state_dir)
        services.start()
        services.wait_for_console_text(SERVICES_READY, timeout=300)

On the console: `KEEL-SERVICES-READY` once the LAN addresses are up and the servers run, then a
`root@keel:~# ` shell (attach_shell) to look at /var/log/dnsmasq.log or /tmp/dnsmasq.leases.
"""

from __future__ import annotations

import gzip
import ipaddress
import lzma
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer.runner import CommandError, Runner

from .artifacts import one_at_a_time
from .network import Network
from .selftest_image import _cpio_newc, _download
from .spec import HarnessError, Kernel

SERVICES_READY = "KEEL-SERVICES-READY"
IMAGE_VERSION = "5"  # bump when the base image's contents change
LAN_ADDRESS = "10.77.0.1/24"  # the services guest on the LAN; user networking's 10.0.2.0/24 stays distinct
DNSMASQ = Path("/usr/sbin/dnsmasq")
# The drivers a LAN NIC and a VLAN on it need; their dependencies come from modules.dep.
MODULES = ("virtio_pci", "virtio_net", "e1000e", "e1000", "8021q", "af_packet")

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
# The harness runs shell commands with bash; busybox has no bash applet, so a script hands them to its sh.
rm -f /bin/bash
printf '#!/bin/sh\nexec /bin/sh "$@"\n' >/bin/bash
chmod 755 /bin/bash
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /root /var/log /run /var/run /var/lib/misc
hostname keel-services
for module in $(cat /lib/modules/load-order); do insmod "/lib/modules/$module" 2>/dev/null; done
exec </dev/ttyS0 >/dev/ttyS0 2>&1
ip link set lo up
sh /etc/keel-services/network.sh || echo "KEEL-SERVICES-FAILED network"
if [ -f /etc/keel-services/dnsmasq.conf ]; then
  dnsmasq --keep-in-foreground --user=root --conf-file=/etc/keel-services/dnsmasq.conf &
  sleep 1
  kill -0 $! 2>/dev/null || echo "KEEL-SERVICES-FAILED dnsmasq"
fi
if [ -d /srv/www ]; then
  httpd -p 80 -h /srv/www || echo "KEEL-SERVICES-FAILED httpd"
fi
ip address
echo "KEEL-SERVICES-READY"
export HOME=/root
cd /root
while true; do
  PS1='root@keel:~# ' setsid cttyhack sh -i
  exec </dev/ttyS0 >/dev/ttyS0 2>&1
done
"""

# A POSTed answer request (the installer sends its system information) gets the answer file back.
ANSWER_CGI = """#!/bin/sh
head -c "${{CONTENT_LENGTH:-0}}" >/dev/null
printf 'Content-Type: application/toml\\r\\n\\r\\n'
cat /srv/answers/{name}
"""


@dataclass(frozen=True)
class DnsmasqConfig:
    """What dnsmasq serves on the LAN; `render_dnsmasq_conf` turns it into dnsmasq.conf.

    `dhcp_range` None means no DHCP at all (the static fetch network's LAN); `dns` False turns DNS off.
    `dhcp_options` are (code, text) pairs such as (250, answer URL) and (251, fingerprint); the text is always
    sent as a string (dnsmasq would send colon-separated hex, like a fingerprint, as raw bytes otherwise).
    `txt_records` are (name, text). `router` None leaves the default route to another NIC (user networking).
    `tftp` serves /srv/tftp (ServicesSpec.tftp_files); `ipxe_script` with `efi_loader`/`bios_loader` hands
    firmware PXE the loader and iPXE itself (user class "iPXE") the script, so iPXE does not load itself again.
    """

    interfaces: tuple[str, ...] = ("eth0",)
    dhcp_range: tuple[str, str] | None = ("10.77.0.100", "10.77.0.199")
    netmask: str = "255.255.255.0"
    lease_time: str = "1h"
    domain: str | None = None
    router: str | None = None
    dns: bool = True
    dhcp_options: tuple[tuple[int, str], ...] = ()
    txt_records: tuple[tuple[str, str], ...] = ()
    tftp: bool = False
    ipxe_script: str | None = None
    efi_loader: str | None = None
    bios_loader: str | None = None
    extra: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in self.interfaces:
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", name):
                raise HarnessError(f"dnsmasq: interface name {name!r} is not a Linux interface name")
        if self.dhcp_range is not None:
            for address in self.dhcp_range:
                ipaddress.IPv4Address(address)
        for code, text in self.dhcp_options:
            if not 1 <= code <= 254:
                raise HarnessError(f"dnsmasq: DHCP option {code} is not between 1 and 254")
            _check_text(f"DHCP option {code}", text)
        for name, text in self.txt_records:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                raise HarnessError(f"dnsmasq: TXT record name {name!r} is not a DNS name")
            _check_text(f"TXT record {name}", text)
        if self.domain is not None and not re.fullmatch(r"[A-Za-z0-9.-]+", self.domain):
            raise HarnessError(f"dnsmasq: domain {self.domain!r} is not a DNS name")
        loaders = [x for x in (self.ipxe_script, self.efi_loader, self.bios_loader) if x is not None]
        if loaders and not self.tftp:
            raise HarnessError("dnsmasq: PXE boot files need tftp=True")
        if (self.efi_loader or self.bios_loader) and self.ipxe_script is None:
            raise HarnessError("dnsmasq: an iPXE loader needs ipxe_script (what iPXE runs once it is loaded)")
        for line in self.extra:
            if "\n" in line:
                raise HarnessError(f"dnsmasq: extra line {line!r} holds a line break")


def _check_text(what: str, text: str) -> None:
    if not text or any(c in text for c in '"\\\n') or not text.isprintable():
        raise HarnessError(f"dnsmasq: {what}: {text!r} must be non-empty printable text without quotes or '\\'")


def render_dnsmasq_conf(cfg: DnsmasqConfig) -> str:
    """dnsmasq.conf for the services guest (paths are the guest's)."""
    lines = [
        "# generated by keel_harness.services",
        "no-resolv",  # nothing upstream: the LAN has no way out
        "no-hosts",
        "bind-dynamic",
        *(f"interface={name}" for name in cfg.interfaces),
        "user=root",
        "group=root",
        "log-facility=/var/log/dnsmasq.log",
        "log-dhcp",
    ]
    if cfg.dns:
        lines.append("log-queries")
    else:
        lines.append("port=0")
    if cfg.domain:
        lines += [f"domain={cfg.domain}", f"dhcp-option=option:domain-search,{cfg.domain}"]
    for name, text in cfg.txt_records:
        lines.append(f'txt-record={name},"{text}"')
    if cfg.dhcp_range is not None:
        start, end = cfg.dhcp_range
        lines += [
            f"dhcp-range={start},{end},{cfg.netmask},{cfg.lease_time}",
            "dhcp-authoritative",
            "dhcp-leasefile=/tmp/dnsmasq.leases",
            f"dhcp-option=option:router,{cfg.router}" if cfg.router else "dhcp-option=option:router",
        ]
        if not cfg.dns:
            lines.append("dhcp-option=option:dns-server")
        for code, text in cfg.dhcp_options:
            lines.append(f'dhcp-option={code},"{text}"')
    if cfg.tftp:
        lines += ["enable-tftp", "tftp-root=/srv/tftp"]
    if cfg.ipxe_script is not None:
        lines += [
            "dhcp-userclass=set:ipxe,iPXE",
            "dhcp-match=set:efi64,option:client-arch,7",
            "dhcp-match=set:efi64,option:client-arch,9",
            f"dhcp-boot=tag:ipxe,{cfg.ipxe_script}",
        ]
        if cfg.efi_loader:
            lines.append(f"dhcp-boot=tag:!ipxe,tag:efi64,{cfg.efi_loader}")
        if cfg.bios_loader:
            lines.append(f"dhcp-boot=tag:!ipxe,tag:!efi64,{cfg.bios_loader}")
    lines += list(cfg.extra)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ServicesSpec:
    """One services guest: its LAN addresses, dnsmasq (or none), TFTP files and HTTP answers.

    `vlans` are (VLAN id, address/prefix) pairs: an 802.1Q interface eth0.<id> on the LAN NIC each. `answers`
    (name -> answer TOML) are served by busybox httpd on port 80 at /cgi-bin/<name> for GET and POST.
    """

    dnsmasq: DnsmasqConfig | None = field(default_factory=DnsmasqConfig)
    address: str | None = LAN_ADDRESS
    vlans: tuple[tuple[int, str], ...] = ()
    tftp_files: Mapping[str, Path] = field(default_factory=dict)
    answers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.address is not None:
            ipaddress.IPv4Interface(self.address)
        for vid, address in self.vlans:
            if not 1 <= vid <= 4094:
                raise HarnessError(f"services: VLAN id {vid} is not between 1 and 4094")
            ipaddress.IPv4Interface(address)
        for name in [*self.tftp_files, *self.answers]:
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
                raise HarnessError(f"services: file name {name!r} must be a plain name")


def render_network_script(spec: ServicesSpec) -> str:
    """The shell lines (busybox `ip`) that bring up the services guest's LAN addresses."""
    lines = ["set -e", "ip link set eth0 up"]
    if spec.address:
        lines.append(f"ip address add {spec.address} dev eth0")
    for vid, address in spec.vlans:
        lines += [
            f"ip link add link eth0 name eth0.{vid} type vlan id {vid}",
            f"ip link set eth0.{vid} up",
            f"ip address add {address} dev eth0.{vid}",
        ]
    return "\n".join(lines) + "\n"


def config_archive(spec: ServicesSpec) -> bytes:
    """The per-test cpio archive laid over the base initramfs (uncompressed newc)."""
    directories = ["etc", "etc/keel-services"]
    entries: list[tuple[str, int, bytes]] = [
        ("etc/keel-services/network.sh", stat.S_IFREG | 0o755, render_network_script(spec).encode()),
    ]
    if spec.dnsmasq is not None:
        entries.append(("etc/keel-services/dnsmasq.conf", stat.S_IFREG | 0o644,
                        render_dnsmasq_conf(spec.dnsmasq).encode()))
    if spec.tftp_files:
        directories += ["srv", "srv/tftp"]
        for name, source in spec.tftp_files.items():
            if not Path(source).is_file():
                raise HarnessError(f"services: TFTP file {name}: {source} does not exist")
            entries.append((f"srv/tftp/{name}", stat.S_IFREG | 0o644, Path(source).read_bytes()))
    if spec.answers:
        directories += ["srv", "srv/answers", "srv/www", "srv/www/cgi-bin"]
        for name, text in spec.answers.items():
            entries.append((f"srv/answers/{name}", stat.S_IFREG | 0o644, text.encode()))
            entries.append((f"srv/www/cgi-bin/{name}", stat.S_IFREG | 0o755, ANSWER_CGI.format(name=name).encode()))
    dirs = [(d, stat.S_IFDIR | 0o755, b"") for d in dict.fromkeys(directories)]
    return _cpio_newc(dirs + entries)


def cache_dir() -> Path:
    return Path(os.environ.get("KEEL_HARNESS_CACHE") or Path.home() / ".cache" / "keel-harness")


@dataclass(frozen=True)
class ServicesImage:
    vmlinuz: Path
    initrd: Path  # the base initramfs (gzip); per-test archives are appended to a copy


def module_load_order(wanted: tuple[str, ...], depends: Callable[[str], list[str] | None]) -> list[str]:
    """Module names to insmod for `wanted`, each after the modules it depends on.

    `depends(name)` gives a module's dependencies (its `depends=` modinfo), or None when the kernel has no such
    module file (built in, or absent): such names are left out.
    """
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        needs = depends(name)
        if needs is None:
            return
        for dep in needs:
            visit(dep)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def modinfo_depends(module: bytes) -> list[str]:
    """The `depends=` field of a module's .modinfo section (comma-separated module names)."""
    match = re.search(rb"(?:^|\0)depends=([^\0]*)\0", module)
    if match is None:
        return []
    return [name.replace("-", "_") for name in match.group(1).decode().split(",") if name]


def _module_name(path: Path) -> str:
    base = path.name
    for suffix in (".xz", ".zst", ".gz"):
        base = base.removesuffix(suffix)
    return base.removesuffix(".ko").replace("-", "_")


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".gz":
        return gzip.decompress(data)
    return data


def shared_libraries(ldd_output: str) -> list[Path]:
    """The library files `ldd` lists (the dynamic loader included), in its order."""
    found = []
    for line in ldd_output.splitlines():
        match = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if match:
            found.append(Path(match.group(1)))
    return found


def build_services_image(dest: Path | None = None, runner: Runner | None = None) -> ServicesImage:
    """Build (or reuse) the base image in `dest` (default: the cache); the kernel and busybox come from Debian.
    Two test workers that need it at once build it one after the other (a lock beside `dest`): side by side, one
    removed the package the other was unpacking."""
    dest = Path(dest or cache_dir() / f"services-{IMAGE_VERSION}").resolve()
    with one_at_a_time(dest.parent / f".{dest.name}.lock"):
        return _build_services_image(dest, runner or Runner(default_timeout=300))


def _build_services_image(dest: Path, runner: Runner) -> ServicesImage:
    image = ServicesImage(dest / "vmlinuz", dest / "initrd.gz")
    if image.vmlinuz.is_file() and image.initrd.is_file():
        return image
    if not DNSMASQ.is_file():
        raise HarnessError(f"services image: {DNSMASQ} is missing (Debian package dnsmasq-base; make deps)")
    try:
        debs = _download(("busybox-static", "linux-image-amd64"), dest / "debs", runner)
        with tempfile.TemporaryDirectory(prefix="keel-services-") as tmp:
            root = Path(tmp) / "root"
            for deb in debs.values():
                runner.run(["dpkg-deb", "-x", str(deb), str(root)])
            kernel = next((root / "boot").glob("vmlinuz-*"))
            modules_root = next((root / "lib" / "modules").iterdir())
            # The package ships no modules.dep (depmod writes it on install): read depends= from each module.
            files = {_module_name(p): p for p in (modules_root / "kernel").rglob("*.ko*")}
            contents: dict[str, bytes] = {}

            def depends(name: str) -> list[str] | None:
                if name not in files:
                    return None
                contents[name] = _module_bytes(files[name])
                return modinfo_depends(contents[name])

            order = module_load_order(MODULES, depends)
            entries: list[tuple[str, int, bytes]] = [
                (d, stat.S_IFDIR | 0o755, b"")
                for d in ("bin", "sbin", "usr", "usr/sbin", "dev", "proc", "sys", "tmp", "root", "etc", "var",
                          "var/log", "run", "lib", "lib/modules", "lib64", "lib/x86_64-linux-gnu")
            ]
            entries += [
                ("bin/busybox", stat.S_IFREG | 0o755, (root / "bin" / "busybox").read_bytes()),
                ("init", stat.S_IFREG | 0o755, INIT.encode()),
                ("etc/passwd", stat.S_IFREG | 0o644, b"root:x:0:0:root:/root:/bin/sh\n"),
                ("etc/group", stat.S_IFREG | 0o644, b"root:x:0:\n"),
                ("usr/sbin/dnsmasq", stat.S_IFREG | 0o755, DNSMASQ.read_bytes()),
            ]
            names = []
            for i, module in enumerate(order):
                name = f"{i:02d}-{module}.ko"
                names.append(name)
                entries.append((f"lib/modules/{name}", stat.S_IFREG | 0o644, contents[module]))
            entries.append(("lib/modules/load-order", stat.S_IFREG | 0o644, ("\n".join(names) + "\n").encode()))
            libraries = shared_libraries(runner.run(["ldd", str(DNSMASQ)]).stdout)
            for library in libraries:
                target = library.resolve()
                entries.append((str(library).lstrip("/"), stat.S_IFREG | 0o755, target.read_bytes()))
            # Parents of the library paths (e.g. /lib64) must exist before the files.
            parents = {str(p).lstrip("/") for lib in libraries for p in lib.parents if str(p) != "/"}
            known = {e[0] for e in entries}
            entries = [(p, stat.S_IFDIR | 0o755, b"") for p in sorted(parents - known, key=len)] + entries
            dest.mkdir(parents=True, exist_ok=True)
            partial = image.initrd.with_suffix(".part")
            partial.write_bytes(_pad4(gzip.compress(_cpio_newc(entries), compresslevel=6)))
            shutil.copyfile(kernel, image.vmlinuz)
            os.replace(partial, image.initrd)
    except (CommandError, StopIteration, OSError) as err:
        raise HarnessError(f"services image in {dest}: {err}") from err
    return image


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def services_initrd(image: ServicesImage, spec: ServicesSpec, dest: Path) -> Path:
    """The base initramfs with this spec's archive appended, written to `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as out:
        out.write(_pad4(image.initrd.read_bytes()))
        out.write(config_archive(spec))
    return dest


def services_machine(make: Callable[..., Any], network: Network, spec: ServicesSpec, state_dir: Path,
                     name: str = "services", image: ServicesImage | None = None, **kwargs: Any) -> Any:
    """A services guest on `network`: `make` is Machine or the e2e `machine` fixture (called with name=...)."""
    image = image or build_services_image()
    initrd = services_initrd(image, spec, Path(state_dir) / f"{name}-initrd.gz")
    kwargs.setdefault("memory", 512)
    kwargs.setdefault("cpus", 1)
    return make(
        name=name,
        nics=[network.nic()],
        boot=Kernel(image.vmlinuz, initrd, cmdline="console=ttyS0,115200 quiet panic=-1"),
        **kwargs,
    )
