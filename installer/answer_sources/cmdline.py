"""The kernel parameters that steer the live environment: keel.mode, keel.answer, keel.fingerprint, keel.fault."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KernelParams:
    mode: str = "tui"
    answer_url: str | None = None
    fingerprint: str | None = None
    fault: str | None = None


def parse_kernel_params(cmdline: str) -> KernelParams:
    """The keel.* words of a kernel command line (the last of each wins, as with the kernel's own)."""
    found: dict[str, str] = {}
    for word in cmdline.split():
        key, sep, value = word.partition("=")
        if sep and key in ("keel.mode", "keel.answer", "keel.fingerprint", "keel.fault") and value:
            found[key] = value
    return KernelParams(
        mode=found.get("keel.mode", "tui"),
        answer_url=found.get("keel.answer"),
        fingerprint=found.get("keel.fingerprint"),
        fault=found.get("keel.fault"),
    )


def read_kernel_params(path: Path = Path("/proc/cmdline")) -> KernelParams:
    try:
        return parse_kernel_params(path.read_text())
    except OSError:
        return KernelParams()
