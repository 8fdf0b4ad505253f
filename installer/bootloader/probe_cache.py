"""An install-time cache of the one LVM query that GRUB's tools repeat, so update-grub on LVM costs seconds.

grub-probe resolves an LVM device by running `vgs --options vg_uuid,pv_name --noheadings --separator :`, and
update-grub runs grub-probe about twenty times: 42 runs of vgs, 14 of its 28 s under TCG (issue 13, measured in
the chroot of an ext4 install). Nothing changes the volume group while the boot loaders are installed, so the
first answer serves all the others. The cache is a `vgs` found first on PATH, in the target's /tmp (a tmpfs of the
install's chroot, gone when the install ends; the live /run is noexec). Any other vgs query goes to the real vgs.
grub.cfg comes out byte for byte the same with and without it (checked in a guest); the installed system's own
update-grub never sees it.
"""

from __future__ import annotations

from pathlib import Path

CACHE_DIR = "/tmp/keel-vgs-cache"          # inside the target
QUERY = "--options vg_uuid,pv_name --noheadings --separator :"
SEARCH_PATH = f"{CACHE_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

SCRIPT = f"""#!/bin/sh
# Keel installer: answers grub-probe's repeated vgs query from the first answer (installer/bootloader/probe_cache.py)
if [ "$*" = "{QUERY}" ]; then
    f={CACHE_DIR}/answer
    if [ ! -f "$f" ]; then
        /usr/sbin/vgs "$@" > "$f.$$" || {{ rc=$?; rm -f "$f.$$"; exit $rc; }}
        mv -f "$f.$$" "$f"
    fi
    while IFS= read -r line; do printf '%s\\n' "$line"; done < "$f"
    exit 0
fi
exec /usr/sbin/vgs "$@"
"""


def install_vgs_cache(target_tmp: Path) -> dict[str, str]:
    """Write the cache into the target's /tmp (`target_tmp`); the environment the boot commands run with."""
    directory = target_tmp / Path(CACHE_DIR).relative_to("/tmp")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    script = directory / "vgs"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    return {"PATH": SEARCH_PATH}
