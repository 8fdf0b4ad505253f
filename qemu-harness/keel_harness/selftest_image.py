"""A tiny stand-in for the Keel ISO, to test the harness itself in seconds instead of minutes.

A hybrid BIOS+UEFI ISO (grub-mkrescue) whose GRUB menu has the real ISO's hotkeys and serial console, booting a
Debian kernel with a busybox initramfs that speaks the live environment's console protocol: `KEEL-DEBUG-SHELL
before-install` + a `root@keel:~# ` shell in debug mode, `KEEL-READY mode=<mode>`, and a root login on ttyS0
(password "keel") afterwards. The kernel and busybox come from Debian packages (`apt-get download`).

    python -m keel_harness.selftest_image build/harness-selftest
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from installer.runner import CommandError, Runner

from .artifacts import one_at_a_time
from .spec import HarnessError

GRUB_CFG = """\
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
set timeout=20
set default=0
menuentry 'Install (Terminal UI)' --hotkey=t {
  linux /vmlinuz keel.mode=tui quiet
  initrd /initrd.gz
}
menuentry 'Install (Terminal UI, serial console)' --hotkey=s {
  linux /vmlinuz keel.mode=tui console=ttyS0,115200 quiet
  initrd /initrd.gz
}
menuentry 'Debug mode, serial console' --hotkey=d {
  linux /vmlinuz keel.mode=debug console=ttyS0,115200 quiet
  initrd /initrd.gz
}
"""

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /root
hostname keel
for module in /lib/modules/*.ko; do insmod "$module" 2>/dev/null; done
mode=tui
fetch=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    keel.mode=*) mode="${arg#keel.mode=}" ;;
    fetch=*) fetch="${arg#fetch=}" ;;
  esac
done
exec </dev/ttyS0 >/dev/ttyS0 2>&1
if [ -n "$fetch" ]; then
  ip link set lo up
  ip link set eth0 up
  udhcpc -i eth0 -q -n -s /bin/keel-udhcpc >/dev/null 2>&1
  wget -q -O /tmp/filesystem.squashfs "$fetch" && echo "KEEL-FETCHED bytes=$(wc -c </tmp/filesystem.squashfs)"
fi
export HOME=/root
cd /root
if [ "$mode" = debug ]; then
  echo "KEEL-DEBUG-SHELL before-install"
  PS1='root@keel:~# ' setsid cttyhack sh -i
  # The shell was a session leader: its exit hung up our descriptors for the console.
  exec </dev/ttyS0 >/dev/ttyS0 2>&1
fi
echo "KEEL-READY mode=$mode"
while true; do
  setsid cttyhack getty -l /bin/keel-login 115200 ttyS0 vt100
done
"""

# busybox login needs shadow handling; this stand-in asks for the password itself.
LOGIN = r"""#!/bin/sh
printf 'Password: '
read -r pw
if [ "$pw" = keel ]; then
  echo "Welcome to the Keel harness self-test image"
  PS1='root@keel:~# ' exec sh -i
fi
echo "Login incorrect"
sleep 1
"""

PACKAGES = ("busybox-static", "linux-image-amd64")
# Loaded in this order at boot, so virtio disks show up as /dev/vd* (the stand-in has no udev or modprobe).
MODULES = (
    "drivers/virtio/virtio_ring.ko",
    "drivers/virtio/virtio.ko",
    "drivers/virtio/virtio_pci_modern_dev.ko",
    "drivers/virtio/virtio_pci_legacy_dev.ko",
    "drivers/virtio/virtio_pci.ko",
    "drivers/block/virtio_blk.ko",
    "net/core/failover.ko",
    "drivers/net/net_failover.ko",
    "drivers/net/virtio_net.ko",
)

# The contract's keel.ipxe, reduced: kernel and initrd relative to this script, the squashfs from keel-base.
KEEL_IPXE = """#!ipxe
isset ${keel-base} || set keel-base http://${next-server}
isset ${keel-mode} || set keel-mode tui-serial
iseq ${keel-mode} debug-serial && set keel-kargs keel.mode=debug console=ttyS0,115200 ||
iseq ${keel-mode} tui-serial && set keel-kargs keel.mode=tui console=ttyS0,115200 ||
kernel vmlinuz initrd=initrd.img boot=live fetch=${keel-base}/filesystem.squashfs ${keel-kargs} ${keel-args}
initrd initrd.img
boot
"""

# What the stand-in "fetches" over HTTP, like live-boot's fetch= of the real squashfs.
SQUASHFS_STANDIN = b"keel harness self-test: not a squashfs\n" * 1024

UDHCPC_SCRIPT = r"""#!/bin/sh
case "$1" in
  bound|renew)
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "$router" dev "$interface"
    ;;
esac
exit 0
"""


def _cpio_newc(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A newc cpio archive of (path, mode, data) entries; directories have empty data."""
    out = io.BytesIO()
    for ino, (name, mode, data) in enumerate([*entries, ("TRAILER!!!", 0, b"")], start=1):
        encoded = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0]
        out.write(b"070701" + b"".join(f"{v:08X}".encode() for v in fields) + encoded)
        out.write(b"\0" * (-(110 + len(encoded)) % 4) + data + b"\0" * (-len(data) % 4))
    return out.getvalue()


def _download(packages: tuple[str, ...], dest: Path, runner: Runner) -> dict[str, Path]:
    dest.mkdir(parents=True, exist_ok=True)
    # linux-image-amd64 is a metapackage: what counts is the versioned image it depends on.
    patterns = {"busybox-static": "busybox-static_*.deb", "linux-image-amd64": "linux-image-[0-9]*.deb"}
    found = {pkg: deb for pkg in packages for deb in sorted(dest.glob(patterns.get(pkg, f"{pkg}_*.deb")))}
    missing = [p for p in packages if p not in found]
    if missing:
        runner.run(["apt-get", "download", *missing], cwd=dest, timeout=600)
        meta = next(dest.glob("linux-image-amd64_*.deb"), None)
        if meta is not None:
            depends = runner.run(["dpkg-deb", "-f", str(meta), "Depends"]).stdout.strip()
            image = depends.split(",")[0].split()[0]
            runner.run(["apt-get", "download", image], cwd=dest, timeout=600)
            meta.unlink()
        return _download(packages, dest, runner)
    return found


def build(out_dir: Path, runner: Runner | None = None) -> Path:
    """Build (or reuse) out_dir/selftest.iso (and out_dir/pxe/, the same system as a PXE tree); return the ISO.
    Test workers that need it at once build it one after the other (a lock beside `out_dir`), as the services
    image: side by side, both downloaded into the same debs/ directory."""
    out_dir = Path(out_dir).resolve()
    with one_at_a_time(out_dir.parent / f".{out_dir.name}.lock"):
        return _build(out_dir, runner or Runner(default_timeout=300))


def _build(out_dir: Path, runner: Runner) -> Path:
    iso = out_dir / "selftest.iso"
    if iso.is_file() and (out_dir / "pxe" / "keel.ipxe").is_file():
        return iso
    try:
        debs = _download(PACKAGES, out_dir / "debs", runner)
        with tempfile.TemporaryDirectory(prefix="keel-selftest-") as tmp:
            root = Path(tmp) / "root"
            for deb in debs.values():
                runner.run(["dpkg-deb", "-x", str(deb), str(root)])
            kernel = next((root / "boot").glob("vmlinuz-*"))
            entries: list[tuple[str, int, bytes]] = [
                (d, stat.S_IFDIR | 0o755, b"") for d in ("bin", "dev", "proc", "sys", "tmp", "root", "etc")
            ]
            entries += [
                ("bin/busybox", stat.S_IFREG | 0o755, (root / "bin" / "busybox").read_bytes()),
                ("init", stat.S_IFREG | 0o755, INIT.encode()),
                ("bin/keel-login", stat.S_IFREG | 0o755, LOGIN.encode()),
                ("bin/bash", stat.S_IFREG | 0o755, b'#!/bin/busybox sh\nexec /bin/busybox sh "$@"\n'),
                ("etc/passwd", stat.S_IFREG | 0o644, b"root:x:0:0:root:/root:/bin/sh\n"),
                ("bin/keel-udhcpc", stat.S_IFREG | 0o755, UDHCPC_SCRIPT.encode()),
            ]
            modules = next((root / "lib" / "modules").glob("*/kernel"))
            entries.append(("lib", stat.S_IFDIR | 0o755, b""))
            entries.append(("lib/modules", stat.S_IFDIR | 0o755, b""))
            entries += [
                (f"lib/modules/{i:02d}-{Path(m).name}", stat.S_IFREG | 0o644, (modules / m).read_bytes())
                for i, m in enumerate(MODULES)
            ]
            staging = Path(tmp) / "iso"
            (staging / "boot" / "grub").mkdir(parents=True)
            shutil.copyfile(kernel, staging / "vmlinuz")
            initrd = gzip.compress(_cpio_newc(entries), compresslevel=6)
            (staging / "initrd.gz").write_bytes(initrd)
            pxe = out_dir / "pxe"
            pxe.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kernel, pxe / "vmlinuz")
            (pxe / "initrd.img").write_bytes(initrd)
            (pxe / "filesystem.squashfs").write_bytes(SQUASHFS_STANDIN)
            (pxe / "keel.ipxe").write_text(KEEL_IPXE)
            (staging / "boot" / "grub" / "grub.cfg").write_text(GRUB_CFG)
            out_dir.mkdir(parents=True, exist_ok=True)
            partial = iso.with_suffix(".iso.part")
            runner.run(["grub-mkrescue", "-o", str(partial), str(staging)], env={"MTOOLS_SKIP_CHECK": "1"})
            os.replace(partial, iso)
    except (CommandError, StopIteration, OSError) as err:
        raise HarnessError(f"self-test image in {out_dir}: {err}") from err
    return iso


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the harness self-test ISO (a stand-in for the Keel ISO).",
        epilog="Example: python -m keel_harness.selftest_image build/harness-selftest",
    )
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        print(build(args.out_dir))
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
