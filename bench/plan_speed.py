"""Benchmark of the storage planner: time per plan on the recorded 10-disk server and over a sweep of disk sizes.

`make bench` runs it without arguments and writes build/bench/plan_speed.json. The planner runs in the
wizard on every change of the disk selection, so a plan should take well under a millisecond or two.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from installer.core.config import BtrfsRaid, ZfsRaid
from installer.hardware.pve_env import load_pve_env
from installer.storage.plan import plan
from keel_testing.builders import btrfs_setup, compat_dir, config, disk, hardware, lvm_setup, zfs_setup

REPO = Path(__file__).resolve().parent.parent
COMPAT = compat_dir()


def timed(fn, repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return {"median_us": round(statistics.median(samples), 1), "max_us": round(max(samples), 1), "runs": repeat}


def main() -> int:
    results: dict[str, dict[str, float]] = {}
    if (COMPAT / "run-env-info.json").is_file():
        server = load_pve_env(COMPAT / "run-env-info.json", COMPAT / "run-env-udev.json")
        sata = ("/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd")
        layouts = {
            "fixture ext4": lvm_setup("/dev/sda"),
            "fixture zfs RAID10": zfs_setup(ZfsRaid.RAID10, *sata),
            "fixture btrfs RAID1": btrfs_setup(BtrfsRaid.RAID1, *sata[:2]),
        }
        for name, setup in layouts.items():
            cfg = config(setup)
            results[name] = timed(lambda cfg=cfg: plan(cfg, server), 500)
    sweep = [hardware(disk("sda", gib), memory_mib=8192, boot_mode="efi") for gib in range(8, 4096, 4)]
    cfg = config(lvm_setup("/dev/sda"))
    start = time.perf_counter()
    for hw in sweep:
        plan(cfg, hw)
    results["ext4 sweep 8 GiB-4 TiB"] = {"plans": len(sweep),
                                        "total_ms": round((time.perf_counter() - start) * 1e3, 1)}
    out = REPO / "build" / "bench" / "plan_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    for name, values in results.items():
        print(f"{name:<24} " + "  ".join(f"{k}={v}" for k, v in values.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
