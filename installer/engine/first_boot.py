"""The [first-boot] executable, obtained before any disk is touched, as Proxmox's auto-installer does it.

- source = "from-iso": the file prepare-iso --on-first-boot put on the medium (/keel/first-boot);
- source = "from-url": downloaded from `url` (HTTPS pinned to `cert-fingerprint`, or the CA store) with the answer
  fetch's rules, at most FIRST_BOOT_MAX_BYTES.

A missing file, a failed download or an ISO whose payload cannot run the hook stops the install before its first
phase, so nothing is written. URLs are only ever shown through redact_url.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from installer.answer_sources.errors import AnswerSourceError
from installer.core.config import FirstBoot
from installer.core.fetch_mode import FIRST_BOOT_FILE, FIRST_BOOT_MAX_BYTES
from installer.core.redact import redact_url
from installer.installed_system.render.first_boot import unit_of
from installer.installed_system.render.provision import UNIT_PATH as PROVISION_UNIT_PATH

DRY_RUN_SCRIPT = b"#!/bin/sh\n# a dry run's stand-in for the [first-boot] executable\n"
MAX_MIB = FIRST_BOOT_MAX_BYTES // 1024 // 1024
Fetch = Callable[..., bytes]


class FirstBootError(Exception):
    """The first-boot executable cannot be had; the message says where it was looked for and what to do."""


def obtain_script(first_boot: FirstBoot, medium: Path, *, dry_run: bool = False,
                  say: Callable[[str], None] = print, fetch: Fetch | None = None) -> bytes:
    """The executable's bytes. A dry run reads the medium's file when it is there and never downloads."""
    if first_boot.source == "from-iso":
        return _from_medium(medium / FIRST_BOOT_FILE, dry_run, say)
    if first_boot.url is None:      # the answer's validation requires it; a hand-made config might not have it
        raise FirstBootError('[first-boot] source = "from-url" needs a url')
    shown = redact_url(first_boot.url)
    if dry_run:
        say(f"dry run: the first-boot executable would be downloaded from {shown}")
        return DRY_RUN_SCRIPT
    if fetch is None:
        from installer.answer_sources.http import get_bytes as fetch
    say(f"downloading the first-boot executable from {shown}")
    try:
        data = fetch(first_boot.url, max_bytes=FIRST_BOOT_MAX_BYTES, fingerprint=first_boot.cert_fingerprint,
                     log=say, purpose="the first-boot executable", pin_name="first-boot.cert-fingerprint")
    except AnswerSourceError as err:
        raise FirstBootError(f"[first-boot]: {err}") from err
    if not data:
        raise FirstBootError(f"[first-boot]: {shown} sent an empty file, not an executable")
    return data


def _from_medium(path: Path, dry_run: bool, say: Callable[[str], None]) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(FIRST_BOOT_MAX_BYTES + 1)
    except FileNotFoundError as err:
        if dry_run:
            say(f"dry run: {path} is not here; the install would stop for want of it")
            return DRY_RUN_SCRIPT
        raise FirstBootError(f'[first-boot] source = "from-iso", but the medium has no /{FIRST_BOOT_FILE} '
                             f"({path}): prepare the ISO with 'keel-answer prepare-iso --on-first-boot SCRIPT'") \
            from err
    except OSError as err:
        raise FirstBootError(f"[first-boot]: cannot read {path}: {err.strerror}") from err
    if len(data) > FIRST_BOOT_MAX_BYTES:
        raise FirstBootError(f"[first-boot]: {path} is larger than {MAX_MIB} MiB, the most a first-boot executable "
                             "may be")
    if not data:
        raise FirstBootError(f"[first-boot]: {path} is empty, not an executable")
    return data


def check_payload(first_boot: FirstBoot, file_list: Path | None) -> None:
    """Refuse an ISO whose payload has no keel-firstboot unit for the ordering (built before [first-boot]
    support), judged by the payload's file list; without a list the configure phase checks the unpacked target."""
    if not _in_payload(unit_of(first_boot), file_list):
        raise FirstBootError(f"[first-boot]: this ISO's payload has no {unit_of(first_boot)} (its "
                             "keel-post-install predates [first-boot] support): rebuild the ISO")


def check_provision_payload(file_list: Path | None) -> None:
    """The same for [provision]: the payload must carry the unit that runs it at first boot."""
    if not _in_payload(PROVISION_UNIT_PATH, file_list):
        raise FirstBootError(f"[provision]: this ISO's payload has no {PROVISION_UNIT_PATH} (its keel-post-install "
                             "predates running [provision] at first boot): rebuild the ISO")


def _in_payload(path: str, file_list: Path | None) -> bool:
    """Whether the payload's file list names `path`; True without a list (the configure phase checks then)."""
    if file_list is None or not file_list.is_file():
        return True
    wanted = "squashfs-root" + path
    with file_list.open(encoding="utf-8", errors="replace") as lines:
        return any(line.rstrip("\n") == wanted for line in lines)
