"""Benchmark: seconds from QEMU start to `KEEL-READY` on the serial console, booting the ISO as a CD under
SeaBIOS and under OVMF (serial TUI entry). Writes build/bench/boot.json and prints the numbers.

    .venv/bin/python bench/boot_to_ready.py [--runs N] [--firmware bios uefi]

TCG on a shared host is noisy: the load average at the start of each run is recorded beside its time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "qemu-harness"))

from keel_harness import Disk, GiB, HarnessError, Iso, Machine, ensure_built, timeouts  # noqa: E402

OUT = REPO / "build" / "bench" / "boot.json"


def boot_once(iso: Path, firmware: str, state_dir: Path) -> dict:
    load = os.getloadavg()[0]
    start = time.monotonic()
    machine = Machine(f"bench-{firmware}", firmware=firmware, disks=[Disk(8 * GiB)], boot=Iso(iso), state_dir=state_dir)
    with machine as m:
        m.select_boot_entry("s", timeout=timeouts.GRUB_MENU)
        menu = time.monotonic() - start
        m.wait_for_console_text(r"KEEL-READY mode=tui", timeout=timeouts.READY)
        ready = time.monotonic() - start
    return {"seconds": round(ready, 1), "grub_menu_seconds": round(menu, 1), "load_average_at_start": round(load, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="boots per firmware (default 1)")
    parser.add_argument("--firmware", nargs="+", choices=["bios", "uefi"], default=["bios", "uefi"])
    args = parser.parse_args(argv)
    try:
        build = ensure_built(REPO)
        results: dict[str, list[dict]] = {}
        with tempfile.TemporaryDirectory(prefix="keel-bench-boot-") as tmp:
            for firmware in args.firmware:
                for run in range(args.runs):
                    result = boot_once(build.iso, firmware, Path(tmp) / f"{firmware}-{run}")
                    results.setdefault(firmware, []).append(result)
                    print(f"{firmware}: KEEL-READY after {result['seconds']} s "
                          f"(GRUB menu at {result['grub_menu_seconds']} s, load {result['load_average_at_start']})")
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    record = {
        **build.bench_header(),
        "boot_to_ready_seconds": {fw: min(r["seconds"] for r in runs) for fw, runs in results.items()},
        "runs": results,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}: {record['boot_to_ready_seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
