"""Benchmark (and boot check) of the Keel ISO: size, cold/warm build time, and boot-to-ready time per firmware.

`make bench` runs it without arguments: it reads build/iso-build.json (and the build history iso-build.py
keeps), boots build/keel.iso as a CD under SeaBIOS and OVMF up to `KEEL-READY`, and writes
build/bench/iso_build.json. Options boot other media (raw disk, PXE) or run the debug-shell checks, e.g.
  .venv/bin/python bench/iso_build.py --boot bios-cd,uefi-disk,pxe --debug-check
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build"
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
BOOTS = ("bios-cd", "uefi-cd", "bios-disk", "uefi-disk", "pxe", "pxe-uefi")
DEBUG_CHECKS = ("lsblk", "vgs", "zpool version", "python3 -c 'import blivet, urwid, pyudev, parted, requests'",
                "test -s /etc/hostid", "test $(hostname) = keel")
PROMPT = "root@keel:~# "


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def http_server(directory: Path) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                            cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def qemu_argv(boot: str, iso: Path, tmp: Path, memory: int) -> list[str]:
    argv = ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "2", "-m", str(memory),
            "-nographic", "-no-reboot", "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
    if boot.startswith("uefi") or boot == "pxe-uefi":
        vars_copy = tmp / "OVMF_VARS.fd"
        shutil.copyfile(OVMF_VARS, vars_copy)
        argv += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,file={vars_copy}"]
    if boot.endswith("-cd"):
        argv += ["-drive", f"file={iso},media=cdrom,readonly=on,if=none,id=cd0",
                 "-device", "ide-cd,drive=cd0,bootindex=0"]
    elif boot.endswith("-disk"):
        disk = tmp / "usb.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(iso), str(disk)],
                       check=True)
        argv += ["-drive", f"file={disk},format=qcow2,if=none,id=usb0",
                 "-device", "qemu-xhci", "-device", "usb-storage,drive=usb0,bootindex=0"]
    return argv


def pxe_argv(argv: list[str], tftp: Path) -> list[str]:
    argv = list(argv)
    argv[argv.index("user,id=n0")] = f"user,id=n0,tftp={tftp},bootfile=boot.ipxe"
    return [*argv, "-boot", "n"]


def boot_to_ready(boot: str, iso: Path, debug: bool, log: Path, timeout: float = 1800) -> dict:
    """Boot `iso` (or build/pxe) the `boot` way, press the serial entry's hotkey, wait for KEEL-READY."""
    result: dict = {"boot": boot}
    with tempfile.TemporaryDirectory(prefix="keel-bench-") as tmpdir, contextlib.ExitStack() as stack:
        tmp = Path(tmpdir)
        memory = 2048
        argv = qemu_argv(boot, iso, tmp, memory)
        if boot.startswith("pxe"):
            port = stack.enter_context(http_server(BUILD / "pxe"))
            tftp = tmp / "tftp"
            tftp.mkdir()
            for name in ("vmlinuz", "initrd.img", "keel.ipxe"):
                shutil.copyfile(BUILD / "pxe" / name, tftp / name)
            mode = "debug-serial" if debug else "tui-serial"
            (tftp / "boot.ipxe").write_text(
                f"#!ipxe\nset keel-base http://10.0.2.2:{port}\nset keel-mode {mode}\nchain keel.ipxe\n")
            argv = qemu_argv(boot, iso, tmp, 3584)
            argv = pxe_argv(argv, tftp)
        start = time.monotonic()
        child = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace", timeout=timeout)
        child.logfile_read = stack.enter_context(log.open("w"))
        try:
            if not boot.startswith("pxe"):
                child.expect("GNU GRUB", timeout=300)
                result["grub_seconds"] = round(time.monotonic() - start, 1)
                time.sleep(1)
                child.send("d" if debug else "s")
            if debug:
                child.expect("KEEL-DEBUG-SHELL before-install")
                child.expect_exact(PROMPT)
                result["ready_seconds"] = round(time.monotonic() - start, 1)
                checks = {}
                for command in DEBUG_CHECKS:
                    child.sendline(f"{command}; echo KEEL-RC=$?")
                    child.expect(r"KEEL-RC=(\d+)", timeout=300)
                    checks[command] = int(child.match.group(1))
                    child.expect_exact(PROMPT)
                result["debug_checks"] = checks
            else:
                child.expect(r"KEEL-READY mode=(\w+)[\r\n]")
                result["ready_seconds"] = round(time.monotonic() - start, 1)
                result["mode"] = child.match.group(1)
            result["ok"] = True
        except (pexpect.TIMEOUT, pexpect.EOF) as err:
            result["ok"] = False
            result["error"] = type(err).__name__
        finally:
            child.terminate(force=True)
            child.close(force=True)
    return result


def build_records() -> dict:
    """The latest build record and the latest cold and warm ones from build/iso-build-history.jsonl."""
    out: dict = {}
    latest = BUILD / "iso-build.json"
    if latest.is_file():
        out["latest"] = json.loads(latest.read_text())
    history = BUILD / "iso-build-history.jsonl"
    if history.is_file():
        for line in history.read_text().splitlines():
            record = json.loads(line)
            out[f"last_{record.get('cache', 'unknown')}"] = record
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Example: .venv/bin/python bench/iso_build.py --boot bios-cd,uefi-cd")
    parser.add_argument("--boot", default="bios-cd,uefi-cd", help=f"comma-separated, from: {', '.join(BOOTS)}")
    parser.add_argument("--debug-check", action="store_true",
                        help="boot debug mode and run lsblk, vgs, zpool version and the Python imports")
    parser.add_argument("--iso", default=str(BUILD / "keel.iso"))
    args = parser.parse_args(argv)
    iso = Path(args.iso).resolve()
    if not iso.is_file():
        print(f"bench/iso_build.py: {iso} does not exist: run `make iso` first", file=sys.stderr)
        return 2
    out_dir = BUILD / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    iso_size = iso.stat().st_size
    report = {"iso": str(iso), "iso_size_bytes": iso_size, "builds": build_records(), "boots": []}
    ok = True
    for boot in args.boot.split(","):
        if boot not in BOOTS:
            print(f"bench/iso_build.py: unknown boot {boot!r}: expected one of {', '.join(BOOTS)}", file=sys.stderr)
            return 2
        log = out_dir / f"iso_build-{boot}{'-debug' if args.debug_check else ''}.log"
        result = boot_to_ready(boot, iso, args.debug_check, log)
        result["iso_size_bytes_at_run"] = iso_size
        print(json.dumps(result), flush=True)
        report["boots"].append(result)
        ok = ok and result["ok"] and not any(result.get("debug_checks", {}).values())
    # Keep earlier results of boot kinds not run this time (e.g. a PXE run stays next to the CD runs).
    previous = out_dir / "iso_build.json"
    if previous.is_file():
        ran = {(r["boot"], "debug_checks" in r) for r in report["boots"]}
        for old in json.loads(previous.read_text()).get("boots", []):
            if (old.get("boot"), "debug_checks" in old) not in ran and old.get("iso_size_bytes_at_run") == iso_size:
                report["boots"].append(old)
    previous.write_text(json.dumps(report, indent=2) + "\n")
    print(f"ISO {report['iso_size_bytes'] / 2**20:.0f} MiB; results in {out_dir / 'iso_build.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
