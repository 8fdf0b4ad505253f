"""Choosing the answer source in auto mode, in a fixed order, and saying where each attempt looked.

1. `keel.answer=<url>` on the kernel command line (with `keel.fingerprint=`): the only source when given,
   so a refused certificate stops the install instead of falling back to something else.
2. /keel/auto-installer-mode.toml on the medium (Proxmox's prepare-iso): iso, http or partition as it says.
   Mode http without a URL looks for one as Proxmox does: DHCP option 250 (fingerprint in 251), then the DNS
   TXT record proxmox-auto-installer.<search domain> (discovery.py).
3. /keel/answer.toml on the medium.
4. A partition labelled PROXMOX-AIS (exact, upper or lower case).
5. Without a mode file (a stock ISO booted in auto mode, often over PXE): DHCP and DNS discovery, as in 2.

A fingerprint baked into the ISO (or given as keel.fingerprint=) wins over one from DHCP or DNS.
An answer fetched over HTTP(S) may come with where to report the install (http.ReportTarget, a keel-server's
Keel-Report-URL and Keel-Report-Token headers); its token is one of the answer's secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.answer_sources import discovery, medium, partition
from installer.answer_sources.errors import AnswerSourceError
from installer.core.cmdline import KernelParams
from installer.core.redact import redact_url
from installer.runner import Runner

if TYPE_CHECKING:
    from installer.answer_sources.http import ReportTarget, ServedAnswer


@dataclass(frozen=True)
class Answer:
    text: str
    source: str                       # "https://...", "/run/live/medium/keel/answer.toml", "partition PROXMOX-AIS"
    secrets: tuple[str, ...] = ()     # tokens used to fetch it or to report the install (to be redacted)
    report: ReportTarget | None = None  # where to report the install's events, when the answer server said so


def _served(served: ServedAnswer, source: str, token: str | None) -> Answer:
    report = served.report
    secrets = tuple(t for t in (token, report.token if report else None) if t)
    return Answer(served.text, source, secrets, report)


@dataclass
class Places:
    """Where to look; tests point these at temporary directories."""

    medium: Path = medium.MEDIUM
    by_label: Path = partition.BY_LABEL
    mountpoint: Path = partition.MOUNTPOINT
    leases: Path = discovery.LEASES
    resolv_conf: Path = discovery.RESOLV_CONF
    interface_name: Callable[[int], str] = discovery.interface_name
    tried: list[str] = field(default_factory=list)


def fetch(params: KernelParams, runner: Runner, system_info: Callable[[], dict[str, Any]],
          places: Places | None = None, warn: Callable[[str], None] = lambda text: None,
          log: Callable[[str], None] = lambda text: None,
          lookup_txt: discovery.TxtLookup = discovery.lookup_txt) -> Answer:
    """The answer, from the first source that has one; AnswerSourceError naming every place looked at."""
    places = places or Places()
    if params.answer_url:
        from installer.answer_sources import http  # requests costs seconds to import under emulation

        served = http.fetch_served_answer(params.answer_url, system_info(), fingerprint=params.fingerprint,
                                          log=warn)
        return _served(served, redact_url(params.answer_url), None)
    mode = medium.read_fetch_mode(places.medium)
    if mode is not None and mode.mode == "http" and not mode.url:
        log("The ISO's fetch mode is http without a URL: looking for one (DHCP option 250, DNS TXT)")
        places.tried.append(f"{places.medium}/keel/auto-installer-mode.toml: mode http, no [http] url")
        answer = _discovered(params, mode, system_info, places, warn, log, lookup_txt)
        if answer is not None:
            return answer
        places.tried.append("kernel command line: no keel.answer=<url>")
        raise AnswerSourceError("no answer URL found; looked at:\n" + "\n".join(f"  {t}" for t in places.tried))
    if mode is not None and mode.mode == "http":
        assert mode.url is not None
        from installer.answer_sources import http

        served = http.fetch_served_answer(mode.url, system_info(), fingerprint=mode.cert_fingerprint,
                                          token=mode.token, log=warn)
        return _served(served, redact_url(mode.url), mode.token)
    if mode is None or mode.mode == "iso":
        found = medium.answer_on_medium(places.medium)
        if found:
            return Answer(found.read_text(), str(found))
        places.tried.append(f"{places.medium}/keel/answer.toml: not there")
    label = mode.partition_label if mode is not None and mode.mode == "partition" else partition.DEFAULT_LABEL
    text = partition.read_answer_from_partition(runner, label, by_label=places.by_label,
                                                mountpoint=places.mountpoint, warn=warn)
    if text is not None:
        return Answer(text, f"partition labelled {label}")
    places.tried.append(f"{places.by_label}: no partition labelled {' / '.join(partition.label_variants(label))}")
    if mode is None:
        log("No answer on the medium or a partition: looking for an answer URL (DHCP option 250, DNS TXT)")
        answer = _discovered(params, mode, system_info, places, warn, log, lookup_txt)
        if answer is not None:
            return answer
    places.tried.append("kernel command line: no keel.answer=<url>")
    raise AnswerSourceError("no answer file found; looked at:\n" + "\n".join(f"  {t}" for t in places.tried))


def _discovered(params: KernelParams, mode: medium.FetchMode | None, system_info: Callable[[], dict[str, Any]],
                places: Places, warn: Callable[[str], None], log: Callable[[str], None],
                lookup_txt: discovery.TxtLookup) -> Answer | None:
    """The answer from the URL DHCP or DNS names, pinned to the ISO's fingerprint when it has one."""
    found = discovery.discover(lookup_txt, log, places.tried,
                               discovery.DiscoveryPlaces(places.leases, places.resolv_conf), places.interface_name)
    if found is None:
        return None
    baked = (mode.cert_fingerprint if mode else None) or params.fingerprint
    if baked and found.fingerprint and baked != found.fingerprint:
        log(f"The fingerprint from the ISO wins over the one from {found.source}")
    token = mode.token if mode else None
    from installer.answer_sources import http  # requests costs seconds to import under emulation

    fingerprint = baked
    if not baked and found.fingerprint:
        try:
            fingerprint = http.normalize_fingerprint(found.fingerprint)
        except AnswerSourceError:
            raise AnswerSourceError(f"{found.source}: the fingerprint {found.fingerprint!r} is not a SHA-256 "
                                    "fingerprint (64 hex digits, colons allowed)") from None

    served = http.fetch_served_answer(found.url, system_info(), fingerprint=fingerprint, token=token, log=warn)
    return _served(served, f"{redact_url(found.url)} (from {found.source})", token)
