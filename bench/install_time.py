"""Benchmark: install time per filesystem, next to a plain `unsquashfs` of the payload onto the same disk in the
same VM. The ratio install / unsquashfs is the figure that matters: how much the installer adds on top of the
copy it cannot avoid. Writes build/bench/install.json and prints one line per filesystem.

    .venv/bin/python bench/install_time.py [--fs ext4 xfs zfs btrfs]

Each filesystem gets a fresh VM (SeaBIOS, 16 GiB virtio disks, the answer on a PROXMOX-AIS stick) booted into
the ISO's debug mode. In its shell, first the baseline: mkfs.ext4 on the first disk, `unsquashfs` of the
payload onto it, `sync`, wipe. Then `keel-installer auto --no-reboot` installs from the stick; its time runs
from the start of the command to its end (answer, hardware probe and plan included). Last, for xfs, ZFS and
Btrfs, a second baseline on the install's own data partitions (a ZFS mirror with compression, Btrfs RAID1): a
ZFS install cannot copy faster than ZFS does, so that ratio shows what the installer adds on top of it. Each
timed step starts from a dropped page cache. The phase times come from the install's own events
(/var/log/keel/events.jsonl); the install log is kept as build/bench/install-<fs>.log and its slowest commands
are listed in the results. Every guest runs single-threaded TCG as the tests do; `--tcg-threads multi` gives each
vCPU its own host thread, to see how the install spends its time on a guest with real cores.
"""

from __future__ import annotations

import argparse
import fcntl
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from keel_harness import (
    TCG_THREADS,
    BuildOutputs,
    Disk,
    GiB,
    HarnessError,
    Iso,
    Machine,
    build_answer_image,
    ensure_built,
)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "build" / "bench" / "install.json"
PAYLOAD = "/usr/share/keel/payload.squashfs"
INSTALL_TIMEOUT = 3600
DEFAULT_CPUS = 2
LAYOUTS: dict[str, tuple[list[str], str]] = {
    "ext4": (["vda"], ""),
    "xfs": (["vda"], ""),
    "zfs": (["vda", "vdb"], 'zfs.raid = "RAID1"'),
    "btrfs": (["vda", "vdb"], 'btrfs.raid = "RAID1"'),
}


# The copy onto the storage the install makes for each filesystem (the install's data partitions, its pool and mkfs
# options where they change the copy: ZFS's compression and ashift, Btrfs's RAID1): what the extraction itself
# cannot undercut. ext4 needs none: its baseline is the ext4 one.
# An empty mount point of its own: zpool create refuses a non-empty one (/mnt held the baseline's mount point).
SAME_MNT = "/run/keel-bench"
SAME_STORAGE: dict[str, str] = {
    "xfs": f"mkfs.xfs -q -f {{0}} && mkdir -p {SAME_MNT} && mount {{0}} {SAME_MNT}",
    "zfs": f"zpool create -f -o ashift=12 -O compression=on -O mountpoint={SAME_MNT} keelbench mirror {{0}} {{1}}",
    "btrfs": f"mkfs.btrfs -q -f -d raid1 -m raid1 {{0}} {{1}} && mkdir -p {SAME_MNT} && mount {{0}} {SAME_MNT}",
}
# Onto the install's own data partitions (partition 3 of each disk), their signatures wiped again; the GPT stays
# (the install leaves LVM active and rpool exported)
WIPE = "vgchange -an pve >/dev/null 2>&1; wipefs -q -a {parts} && udevadm settle"


def answer(fs: str) -> str:
    disks, extra = LAYOUTS[fs]
    return (
        '[global]\nkeyboard = "en-us"\ncountry = "at"\nfqdn = "bench.example.com"\n'
        'mailto = "admin@example.com"\ntimezone = "Europe/Vienna"\nroot-password = "bench-password"\n\n'
        '[network]\nsource = "from-dhcp"\n\n'
        f'[disk-setup]\nfilesystem = "{fs}"\ndisk-list = {json.dumps(disks)}\n{extra}\n'
    )


def phase_seconds(events_jsonl: str) -> dict[str, float]:
    """Seconds per phase: from each phase event to the next phase event (the last one to the finished event)."""
    marks = []
    for line in events_jsonl.splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        if event["type"] in ("phase", "finished"):
            marks.append((event.get("phase") or event.get("text", ""), float(event["time"]), event["type"]))
    out: dict[str, float] = {}
    for (name, start, kind), (_, end, _) in itertools.pairwise(marks):
        if kind == "phase":
            out[name] = round(out.get(name, 0.0) + end - start, 1)
    return out


def slowest_commands(install_log: str, top: int = 15) -> list[dict]:
    """The `top` slowest commands of an install log. The runner writes `$ argv` and later `  exit N (S s)`, or
    `  exit N (S s) for $ argv` when other commands were started in between (work run beside other work)."""
    found = []
    command = None
    for line in install_log.splitlines():
        if line.startswith("$ "):
            command = line[2:].removesuffix("  (streamed)").removesuffix("  (with input on stdin)")
            continue
        if not line.startswith("  exit "):
            continue
        status, _, named = line.partition(" for $ ")
        if status.endswith(" s)") and (named or command):
            found.append({"command": (named or command)[:160], "seconds": float(status.rsplit("(", 1)[1].split()[0])})
        if not named:
            command = None
    return sorted(found, key=lambda c: -c["seconds"])[:top]


# Before each timed copy: the guest's page cache is dropped, so the baseline and the install both read the payload
# from the medium as an install after boot does (the first copy of a boot took 59 s, a second one 41-44 s, in one
# guest: a baseline run cold beside an install run warm flattered the install).
COLD = "sync; echo 3 > /proc/sys/vm/drop_caches"
# Nothing is timed before the live boot has finished: the debug shell can come up while the boot's last units still
# run, and a copy beside them is not the copy an install is compared with (in one run the baselines took 87-93 s
# against 63-65 s the night before, and the install's own extraction, timed later, 57 s). udev's queue too: after
# systemd said "running", udev was still loading modules for the boot's devices (bochs-drm, kvm, crypto) for 15 s in a
# guest, at 1.5-2 s of CPU per second, beside whatever came first.
BOOT_DONE = ("timeout 300 systemctl is-system-running --wait >/dev/null 2>&1; udevadm settle --timeout=300; "
             "cut -d' ' -f1-3 /proc/loadavg")


def timed(machine: Machine, command: str, timeout: float) -> float:
    """Run `command` in the guest's shell from a cold page cache and return its wall time as the guest's clock
    measured it; a command that fails stops the benchmark (a failed install is not a fast one), its last output
    lines in the error."""
    out = machine.succeed(f"{COLD}; s=$(date +%s.%N); {command}; rc=$?; e=$(date +%s.%N); "
                          f"echo \"KEEL-TIME $s $e $rc\"", timeout=timeout)
    lines = out.splitlines()
    start, end, status = next(line for line in lines if line.startswith("KEEL-TIME")).split()[1:]
    if status != "0":
        said = " / ".join(line.strip() for line in lines if line.strip() and not line.startswith("KEEL-TIME"))
        raise HarnessError(f"{machine.name}: `{command}` exited {status}: no time is recorded for it"
                           + (f"; it said: {said[-400:]}" if said else ""))
    return float(end) - float(start)


def bench_one(iso: Path, fs: str, state_dir: Path, cpus: int = DEFAULT_CPUS, tcg_threads: str = "single") -> dict:
    disks, _ = LAYOUTS[fs]
    image = build_answer_image(state_dir / "answer.img", answer(fs))
    machine = Machine(f"bench-install-{fs}", firmware="bios", memory=3072, cpus=cpus, tcg_threads=tcg_threads,
                      disks=[Disk(16 * GiB)] * len(disks), boot=Iso(iso), answer_image=image,
                      state_dir=state_dir / "vm")
    load = os.getloadavg()[0]
    with machine as m:
        m.select_boot_entry("d")
        m.wait_for_debug_shell("before-install", timeout=1800)
        guest_load = m.succeed(BOOT_DONE, timeout=600).strip()
        first = f"/dev/{disks[0]}"
        unsquash = timed(m, f"mkfs.ext4 -q -F {first} && mount {first} /mnt && "
                            f"unsquashfs -q -n -f -d /mnt/root {PAYLOAD} >/dev/null && sync", timeout=INSTALL_TIMEOUT)
        m.succeed(f"umount /mnt && wipefs -q -a {first}")
        try:
            install = timed(m, "keel-installer auto --no-reboot > /var/log/keel/bench-auto.out 2>&1", INSTALL_TIMEOUT)
        finally:  # the log of a failed install too: it says why
            log = m.succeed("cat /var/log/keel/install.log")
            OUT.parent.mkdir(parents=True, exist_ok=True)
            (OUT.parent / f"install-{result_key(fs, cpus, tcg_threads)}.log").write_text(log)
        phases = phase_seconds(m.succeed("cat /var/log/keel/events.jsonl"))
        files = int(m.succeed(f"wc -l < {PAYLOAD.replace('.squashfs', '.files')}").strip())
        same: float | None = unsquash
        same_error = None
        if fs in SAME_STORAGE:       # after the install, on its data partitions wiped again
            parts = [f"/dev/{d}3" for d in disks]
            try:
                m.succeed(WIPE.format(parts=" ".join(parts)), timeout=300)
                same = timed(m, f"{SAME_STORAGE[fs].format(*parts)} && "
                                f"unsquashfs -q -n -f -d {SAME_MNT}/root {PAYLOAD} >/dev/null && sync",
                             timeout=INSTALL_TIMEOUT)
            except HarnessError as err:      # the install's figures are kept; this baseline says why it is missing
                same, same_error = None, str(err)[:500]
    return {
        "guest_cpus": cpus,
        "tcg_threads": tcg_threads,
        "disks": len(disks),
        "install_seconds": round(install, 1),
        "unsquashfs_seconds": round(unsquash, 1),
        "ratio": round(install / unsquash, 2) if unsquash else None,
        "unsquashfs_same_storage_seconds": round(same, 1) if same else None,
        "ratio_same_storage": round(install / same, 2) if same else None,
        "same_storage_error": same_error,
        "payload_files": files,
        "phases": phases,
        "before_first_phase_seconds": round(install - sum(phases.values()), 1),
        "slowest_commands": slowest_commands(log),
        "load_average_at_start": round(load, 2),
        "guest_load_average_after_boot": guest_load,     # 1, 5 and 15 minutes, once the boot had finished
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Example: .venv/bin/python bench/install_time.py --fs ext4 zfs")
    parser.add_argument("--fs", nargs="+", choices=list(LAYOUTS), default=list(LAYOUTS),
                        help="filesystems to install (default: all four)")
    parser.add_argument("--cpus", type=int, default=DEFAULT_CPUS, metavar="N",
                        help=f"vCPUs of each VM (default {DEFAULT_CPUS}, the e2e machines' count; under "
                             "single-threaded TCG they share one host thread)")
    parser.add_argument("--tcg-threads", choices=TCG_THREADS, default="single",
                        help="QEMU's TCG threads: 'single' (default; the e2e tests' setting) or 'multi' (one host "
                             "thread per vCPU: how a guest with real cores spends its time; QEMU 7.2 can crash the "
                             "guest's kernel this way, so a failed run says nothing about the installer)")
    args = parser.parse_args(argv)
    try:
        build = ensure_built(REPO)
        with tempfile.TemporaryDirectory(prefix="keel-bench-install-") as tmp:
            for fs in args.fs:
                started = time.monotonic()
                result = bench_one(build.iso, fs, Path(tmp) / fs, args.cpus, args.tcg_threads)
                print(f"{fs} ({args.cpus} vCPUs, {args.tcg_threads}-threaded TCG): "
                      f"install {result['install_seconds']} s, unsquashfs {result['unsquashfs_seconds']} s, "
                      f"ratio {result['ratio']}; onto {fs}'s own storage {result['unsquashfs_same_storage_seconds']} "
                      f"s, ratio {result['ratio_same_storage']} (VM total {time.monotonic() - started:.0f} s, "
                      f"load {result['load_average_at_start']})", flush=True)
                # after each filesystem: a run stopped later keeps what it measured
                record(build, result_key(fs, args.cpus, args.tcg_threads), result)
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


def result_key(fs: str, cpus: int, tcg_threads: str = "single") -> str:
    """A filesystem's key in install.json and in its log's name: "ext4", "ext4-1cpu" for another vCPU count,
    "ext4-mttcg" (or "ext4-1cpu-mttcg") with multi-threaded TCG."""
    key = fs if cpus == DEFAULT_CPUS else f"{fs}-{cpus}cpu"
    return key if tcg_threads == "single" else f"{key}-mttcg"


def record(build: BuildOutputs, fs: str, result: dict) -> None:
    """Add one filesystem's result to build/bench/install.json, keeping earlier results for the same ISO (two
    runs side by side, one filesystem each, share the file: a lock keeps one from losing the other's result)."""
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with (OUT.parent / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = json.loads(OUT.read_text()) if OUT.exists() else {}
        header = build.bench_header()
        kept = previous.get("filesystems", {}) if previous.get("iso_size_bytes") == header["iso_size_bytes"] else {}
        report = {
            **header,
            "baseline": "unsquashfs of the payload onto ext4 on the first disk, then sync, in the same VM; the "
                        "guest's page cache dropped before it and before the install",
            "baseline_same_storage": "the same onto the filesystem's own storage on the install's data "
                                     "partitions after the install (xfs; a ZFS mirror with ashift=12 and "
                                     "compression=on; Btrfs RAID1); for ext4 the ext4 baseline",
            "filesystems": {**kept, fs: result},
        }
        OUT.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
