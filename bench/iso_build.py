"""Benchmark (and boot check) of the Keel ISO: size, cold and warm build time, and boot-to-ready time per
firmware and medium, all booted through the QEMU harness.

`make bench` runs it without arguments: it reads build/iso-build.json and the build history iso-build.py keeps
(the newest cold and warm build), boots build/keel.iso as a CD under SeaBIOS and OVMF into debug mode (the
live system as the installer has it, with a shell), runs the shell checks, records where the boot's time went
(`systemd-analyze time`, the slowest units of `blame`, the `critical-chain`) and writes
build/bench/iso_build.json. Options boot other media (a raw USB stick, PXE) or time the serial installer entry
to `KEEL-READY` instead, e.g.
  .venv/bin/python bench/iso_build.py --boot bios-cd,uefi-usb,pxe --serial
It also records the ISO size of each payload profile: build/keel.iso's own, and the others built for the
purpose into build/bench/iso-<profile>/ (a warm cache takes minutes; --no-profile-builds skips it). The
standard profile's ISO must stay at or below 1 GiB.
TCG on a shared host is noisy: the load average at the start of each boot is recorded beside its time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from keel_harness import (
    BuildOutputs,
    CommandFailed,
    Disk,
    GiB,
    HarnessError,
    Iso,
    Machine,
    Pxe,
    UsbImage,
    build_outputs,
    timeouts,
)
from keel_harness.boot_analysis import systemd_analysis

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build"
OUT = BUILD / "bench" / "iso_build.json"
BOOTS = ("bios-cd", "uefi-cd", "bios-usb", "uefi-usb", "pxe")
PROFILES = ("minimal", "standard")
STANDARD_ISO_LIMIT = 2**30
DEBUG_CHECKS = ("lsblk", "vgs", "zpool version", "python3 -c 'import blivet, urwid, pyudev, parted, requests'",
                "test -s /etc/hostid", "test $(hostname) = keel")


def machine_for(boot: str, build: BuildOutputs, debug: bool, state_dir: Path) -> tuple[Machine, str | None]:
    """The machine for one boot kind, and the GRUB hotkey to press (None: PXE has its own menu choice)."""
    firmware, medium = boot.split("-") if "-" in boot else ("bios", boot)
    if medium == "pxe":
        entry = "debug-serial" if debug else "tui-serial"
        # live-boot copies the fetched squashfs into RAM, beside the live system
        return Machine(f"bench-{boot}", firmware=firmware, memory=3072, disks=[Disk(8 * GiB)],
                       boot=Pxe(build.pxe_dir, http_root=build.pxe_dir, menu_entry=entry),
                       extra_kernel_args=["systemd.default_device_timeout_sec=1800"], state_dir=state_dir), None
    media = Iso(build.iso) if medium == "cd" else UsbImage(build.iso)
    return Machine(f"bench-{boot}", firmware=firmware, disks=[Disk(8 * GiB)], boot=media,
                   state_dir=state_dir), "d" if debug else "s"


def boot_to_ready(boot: str, build: BuildOutputs, debug: bool, state_dir: Path) -> dict:
    """Boot the `boot` way, choose the serial (or debug) entry, and time the way to KEEL-READY / the shell."""
    result: dict = {"boot": boot, "load_average_at_start": round(os.getloadavg()[0], 2)}
    machine, hotkey = machine_for(boot, build, debug, state_dir)
    start = time.monotonic()
    try:
        with machine as m:
            if hotkey:
                m.select_boot_entry(hotkey, timeout=timeouts.GRUB_MENU)
                result["grub_menu_seconds"] = round(time.monotonic() - start, 1)
            if debug:
                m.wait_for_debug_shell("before-install", timeout=timeouts.READY)
                result["ready_seconds"] = round(time.monotonic() - start, 1)
                result["debug_checks"] = {command: m.execute(command, timeout=timeouts.COMMAND)[0]
                                          for command in DEBUG_CHECKS}
                result["systemd"] = systemd_analysis(m, timeout=timeouts.COMMAND)
            else:
                match = m.wait_for_console_text(r"KEEL-READY mode=(\w+)", timeout=timeouts.READY)
                result["ready_seconds"] = round(time.monotonic() - start, 1)
                result["mode"] = match.group(1)
        result["ok"] = not any(result.get("debug_checks", {}).values())
    except (HarnessError, CommandFailed) as err:
        result["ok"] = False
        result["error"] = str(err).splitlines()[0]
    result["console_log"] = str(machine.console_log_path)
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


def profile_sizes(build: BuildOutputs, rebuild: bool) -> dict:
    """ISO size in bytes per payload profile: the built ISO's, and the others built into build/bench/iso-<p>/."""
    built = json.loads((BUILD / "iso-build.json").read_text()) if (BUILD / "iso-build.json").is_file() else {}
    sizes = {built.get("profile", "minimal"): build.iso.stat().st_size}
    for profile in PROFILES:
        if profile in sizes:
            continue
        out = OUT.parent / f"iso-{profile}"
        record = out / "iso-build.json"
        if rebuild:
            print(f"building the {profile} profile's ISO into {out.relative_to(REPO)} ...", flush=True)
            done = subprocess.run([sys.executable, str(REPO / "iso-build/build.py"), "--profile", profile,
                                   "--output", str(out)], stdout=subprocess.DEVNULL, check=False)
            if done.returncode != 0:
                print(f"bench/iso_build.py: the {profile} ISO build failed (exit {done.returncode})", file=sys.stderr)
                continue
            for iso in out.glob("*.iso"):          # only its size is wanted; keep the disk free
                iso.unlink()
            shutil.rmtree(out / "pxe", ignore_errors=True)
        if record.is_file():
            sizes[profile] = json.loads(record.read_text())["iso_size_bytes"]
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Example: .venv/bin/python bench/iso_build.py --boot bios-cd,uefi-cd")
    parser.add_argument("--boot", default="bios-cd,uefi-cd", help=f"comma-separated, from: {', '.join(BOOTS)}")
    parser.add_argument("--no-profile-builds", action="store_true",
                        help="do not build the other payload profiles' ISOs (their last recorded size is kept)")
    parser.add_argument("--serial", action="store_true",
                        help="boot the serial installer entry and time it to KEEL-READY (default: debug mode, "
                             "with the shell checks and systemd-analyze)")
    args = parser.parse_args(argv)
    boots = args.boot.split(",")
    unknown = [b for b in boots if b not in BOOTS]
    if unknown:
        print(f"bench/iso_build.py: unknown boot {unknown[0]!r}: expected one of {', '.join(BOOTS)}", file=sys.stderr)
        return 2
    build = build_outputs(REPO)
    if build is None:
        print(f"bench/iso_build.py: {BUILD / 'keel.iso'} does not exist: run `make iso` first", file=sys.stderr)
        return 2
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sizes = profile_sizes(build, rebuild=not args.no_profile_builds)
    report = {**build.bench_header(), "builds": build_records(), "iso_size_bytes_by_profile": sizes,
              "standard_iso_within_1_gib": sizes.get("standard", 0) <= STANDARD_ISO_LIMIT if sizes.get("standard")
              else None, "boots": []}
    for boot in boots:
        state_dir = OUT.parent / f"iso_build-{boot}{'-debug' if not args.serial else ''}"
        shutil.rmtree(state_dir, ignore_errors=True)  # a fresh disk and firmware store for every run
        result = boot_to_ready(boot, build, not args.serial, state_dir)
        print(json.dumps(result), flush=True)
        report["boots"].append(result)
    # Keep earlier results of boot kinds not run this time (a PXE run stays next to the CD runs) for this ISO.
    if OUT.is_file():
        previous = json.loads(OUT.read_text())
        if previous.get("iso_size_bytes") == report["iso_size_bytes"]:
            ran = {(r["boot"], "debug_checks" in r) for r in report["boots"]}
            report["boots"] += [old for old in previous.get("boots", [])
                                if (old.get("boot"), "debug_checks" in old) not in ran]
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    ready = ", ".join(f"{r['boot']} {r.get('ready_seconds', 'failed')} s" for r in report["boots"])
    by_profile = ", ".join(f"{p} {n / 2**20:.0f} MiB" for p, n in sizes.items())
    print(f"ISO {by_profile}; to ready: {ready}; results in {OUT.relative_to(REPO)}")
    return 0 if all(r["ok"] for r in report["boots"]) and report["standard_iso_within_1_gib"] is not False else 1


if __name__ == "__main__":
    sys.exit(main())
