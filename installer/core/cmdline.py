"""The kernel command line: the keel.* parameters that steer the live environment, and what carries over.

This is the one parser of `keel.mode`, `keel.answer`, `keel.fingerprint` and `keel.fault` in Python (the live
start script only dispatches on `keel.mode` and `console=` before Python runs). Which parameters a person added
at the boot menu carry over to the installed system (`console=ttyS0,115200`, `nomodeset`, ...) is decided here
too (reference §1.3): what only the live medium needs is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC_CMDLINE = Path("/proc/cmdline")
KEEL_PARAMS = ("keel.mode", "keel.answer", "keel.fingerprint", "keel.fault")

DROPPED_WORDS = frozenset({"ro", "rw", "quiet", "boot=live", "components", "noeject", "toram"})
DROPPED_PREFIXES = (
    "BOOT_IMAGE=", "root=", "splash=", "vga=", "ramdisk_size=", "initrd=", "BOOTIF=",
    "fetch=", "live-media", "findiso=", "keel.", "prox",
)


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
        if sep and key in KEEL_PARAMS and value:
            found[key] = value
    return KernelParams(
        mode=found.get("keel.mode", "tui"),
        answer_url=found.get("keel.answer"),
        fingerprint=found.get("keel.fingerprint"),
        fault=found.get("keel.fault"),
    )


def read_kernel_params(path: Path = PROC_CMDLINE) -> KernelParams:
    """keel.* of this machine's kernel command line; none set when the file cannot be read."""
    try:
        return parse_kernel_params(path.read_text())
    except OSError:
        return KernelParams()


def target_cmdline(kernel_cmdline: str) -> str:
    """The live system's kernel command line minus what belongs to the live medium, in the original order."""
    kept = [
        word for word in kernel_cmdline.split()
        if word not in DROPPED_WORDS and not word.startswith(DROPPED_PREFIXES)
    ]
    return " ".join(kept)
