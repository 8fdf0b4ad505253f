"""A GPT disk image around an ESP image: what a test wrote onto an ESP (with mtools, no mount) made bootable.

The ESP becomes the disk's only partition, at 1 MiB and exactly its own size, as `Disk(image=...)` for OVMF.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from installer.runner import CommandError, Runner

from .spec import HarnessError, MiB

SECTOR = 512
ESP_START = MiB // SECTOR
_TAIL = MiB  # room for the backup GPT at the end


def esp_disk_image(esp: Path, dest: Path, runner: Runner | None = None) -> Path:
    """Write a raw GPT disk to `dest` whose one partition, an EFI system partition, holds `esp`; returns `dest`."""
    size = esp.stat().st_size
    if size % SECTOR:
        raise HarnessError(f"{esp}: {size} bytes is not a whole number of {SECTOR}-byte sectors")
    runner = runner or Runner(default_timeout=60)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as f:
        f.truncate(MiB + size + _TAIL)
    last = ESP_START + size // SECTOR - 1
    try:
        runner.run(["sgdisk", "-n", f"1:{ESP_START}:{last}", "-t", "1:EF00", str(dest)])
    except CommandError as err:
        raise HarnessError(f"ESP disk {dest}: {err}") from err
    with open(dest, "r+b") as f, open(esp, "rb") as src:
        f.seek(ESP_START * SECTOR)
        shutil.copyfileobj(src, f)
    return dest
