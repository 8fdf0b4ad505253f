"""Which of the installer's kernel parameters carry over to the installed system (reference §1.3).

Parameters a person added at the boot menu (`console=ttyS0,115200`, `nomodeset`, ...) are kept; what only
the live medium needs is dropped: the boot image and root, `ro`/`rw`/`quiet`, splash and video mode, the
ramdisk size, live-boot's own parameters, Keel's `keel.*` switches and Proxmox's `prox*` mode words.
"""

from __future__ import annotations

DROPPED_WORDS = frozenset({"ro", "rw", "quiet", "boot=live", "components", "noeject", "toram"})
DROPPED_PREFIXES = (
    "BOOT_IMAGE=", "root=", "splash=", "vga=", "ramdisk_size=", "initrd=", "BOOTIF=",
    "fetch=", "live-media", "findiso=", "keel.", "prox",
)


def target_cmdline(kernel_cmdline: str) -> str:
    """The live system's kernel command line minus what belongs to the live medium, in the original order."""
    kept = [
        word for word in kernel_cmdline.split()
        if word not in DROPPED_WORDS and not word.startswith(DROPPED_PREFIXES)
    ]
    return " ".join(kept)
