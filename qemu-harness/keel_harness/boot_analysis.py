"""What systemd says about a guest's boot, read in its shell: where the time to the shell went."""

from __future__ import annotations

import re

from .machine import Machine

# "Startup finished in 4.1s (kernel) + 36.5s (userspace) = 40.6s" (an initrd adds a term)
STARTUP = re.compile(r"Startup finished in (.*) = ([\d.]+(?:min )?[\d.]*m?s)")


def seconds(text: str) -> float:
    """systemd's time spans ("1min 2.345s", "812ms", "3.5s") in seconds."""
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)\s*(min|ms|s|us|h)", text):
        total += float(number) * {"h": 3600, "min": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return round(total, 3)


def parse_blame(text: str, top: int) -> list[dict]:
    """The `top` slowest units of `systemd-analyze blame` as {"unit", "seconds"}."""
    rows = []
    for line in text.splitlines():
        match = re.match(r"\s*(.+?)\s+(\S+\.\S+|\S+@\S+)\s*$", line)
        if not match:
            continue
        span, unit = match.groups()
        rows.append({"unit": unit, "seconds": seconds(span)})
    return rows[:top]


def systemd_analysis(machine: Machine, *, top: int = 10, timeout: float = 300) -> dict:
    """`systemd-analyze time`, the `top` units of `blame` and the critical chain of the default target, from the
    guest's shell (the boot must have finished: the shell is up)."""
    machine.succeed("timeout 120 systemctl is-system-running --wait >/dev/null 2>&1 || true", timeout=timeout)
    time_line = machine.succeed("systemd-analyze time 2>&1 | head -n1", timeout=timeout).strip()
    blame = machine.succeed("systemd-analyze blame --no-pager 2>&1", timeout=timeout)
    chain = machine.succeed("systemd-analyze critical-chain --no-pager 2>&1", timeout=timeout)
    match = STARTUP.search(time_line)
    return {
        "systemd_analyze_time": time_line,
        "startup_seconds": seconds(match.group(2)) if match else None,
        "blame_top": parse_blame(blame, top),
        "critical_chain": [line.rstrip() for line in chain.splitlines() if line.strip()][:30],
    }
