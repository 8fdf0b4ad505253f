"""How long e2e waits may take on a loaded 2-core host running QEMU under TCG; KEEL_E2E_TIMEOUT_FACTOR scales all."""

from __future__ import annotations

import os


def _factor() -> float:
    raw = os.environ.get("KEEL_E2E_TIMEOUT_FACTOR", "1")
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"KEEL_E2E_TIMEOUT_FACTOR={raw!r} is not a number") from None
    if value <= 0:
        raise SystemExit(f"KEEL_E2E_TIMEOUT_FACTOR={raw!r} must be positive")
    return value


FACTOR = _factor()


def scaled(seconds: float) -> float:
    return seconds * FACTOR


GRUB_MENU = scaled(300)  # firmware + boot loader from a CD/USB/disk
READY = scaled(1500)  # menu choice -> KEEL-READY or the debug shell (live-boot, systemd, DHCP wait)
COMMAND = scaled(300)  # one shell command in the guest
PER_TEST = scaled(7200)  # hard ceiling for one e2e test (installs included), so a hang cannot run forever
