"""Install-time caches of the queries GRUB's tools repeat, so update-grub on LVM costs seconds.

vgs:

grub-probe resolves an LVM device by running `vgs --options vg_uuid,pv_name --noheadings --separator :`, and
update-grub runs grub-probe about twenty times: 42 runs of vgs, 14 of its 28 s under TCG (issue 13, measured in
the chroot of an ext4 install). Nothing changes the volume group while the boot loaders are installed, so the
first answer serves all the others. The cache is a `vgs` found first on PATH, in the target's /tmp (a tmpfs of the
install's chroot, gone when the install ends; the live /run is noexec). Any other vgs query goes to the real vgs.
grub.cfg comes out byte for byte the same with and without it (checked in a guest); the installed system's own
update-grub never sees it.

grub-probe: update-grub ran it 24 times for 12 different questions (the root device's fs, fs_uuid, partmap,
abstraction, ... asked again by each /etc/grub.d script), 0.3-1.8 s each under TCG, 27.6 of update-grub's 43.6 s
(measured in the chroot of an ext4 install, 2026-12-03). grub-mkconfig calls it by its absolute path, so the cache
is bind-mounted over the target's /usr/sbin/grub-probe while the boot loaders are installed, and runs a copy of the
real one (in the same /tmp) for the first asking of each question. It answers only single-line successes from the
cache and uses nothing but shell builtins for a hit (a process start costs about half a second under TCG); a
failure, or an answer of several lines, is asked of the real grub-probe every time. grub.cfg came out the same with
and without it (cmp, in a guest).
"""

from __future__ import annotations

import shutil
from pathlib import Path

CACHE_DIR = "/tmp/keel-probe-cache"          # inside the target
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


PROBE = "/usr/sbin/grub-probe"
REAL_PROBE = f"{CACHE_DIR}/grub-probe.real"
PROBE_ANSWERS = f"{CACHE_DIR}/grub-probe.answers"

# One line per cached question: the arguments joined by spaces, a tab, the answer. Arguments holding a tab or a
# newline are never cached (their line could not be told apart).
PROBE_SCRIPT = f"""#!/bin/sh
# Keel installer: answers grub-probe's repeated questions from the first answers (installer/bootloader/probe_cache.py)
tab='	'
key="$*"
case "$key" in
    *"$tab"*|*"
"*) exec {REAL_PROBE} "$@" ;;
esac
if [ -f {PROBE_ANSWERS} ]; then
    while IFS= read -r line; do
        case "$line" in
            "$key$tab"*) printf '%s\\n' "${{line#"$key$tab"}}"; exit 0 ;;
        esac
    done < {PROBE_ANSWERS}
fi
answer=$({REAL_PROBE} "$@") || exit $?
case "$answer" in
    *"
"*) ;;
    *) printf '%s%s%s\\n' "$key" "$tab" "$answer" >> {PROBE_ANSWERS} ;;
esac
printf '%s\\n' "$answer"
"""


def cache_dir(target: Path) -> Path:
    """The caches' directory inside `target` (made private to root when missing)."""
    directory = target / CACHE_DIR.lstrip("/")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def install_vgs_cache(target: Path) -> dict[str, str]:
    """Write the vgs cache into the target's /tmp; the environment the boot commands run with."""
    script = cache_dir(target) / "vgs"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    return {"PATH": SEARCH_PATH}


def install_probe_cache(target: Path) -> tuple[Path, Path] | None:
    """Write the grub-probe cache and a copy of the real grub-probe into the target's /tmp; returns the wrapper and
    the path it is to be bind-mounted on (the target's /usr/sbin/grub-probe), or None when the target has no
    grub-probe (nothing to cache: update-grub will say what is missing)."""
    real = target / PROBE.lstrip("/")
    if not real.is_file():
        return None
    directory = cache_dir(target)
    shutil.copy2(real, target / REAL_PROBE.lstrip("/"))
    script = directory / "grub-probe"
    script.write_text(PROBE_SCRIPT)
    script.chmod(0o755)
    return script, real
