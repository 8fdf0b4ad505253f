"""Where an install is reported: the keel-server that served its answer (its Keel-Report-URL and -Token headers).

A value of the core because three layers pass it on: the answer fetch finds it (answer_sources.http), the install's
events go to it (answer_sources.report), and the installed system keeps it for first boot's reports
(installed_system.render.report).
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.core.redact import redact_url


@dataclass(frozen=True)
class ReportTarget:
    """Where and how the installer reports its events to the keel-server that served the answer."""

    url: str                    # absolute; https, or the answer URL's own scheme and host
    token: str                  # the per-install token, sent as Authorization: Bearer (a secret)
    fingerprint: str | None     # the answer fetch's pin (normalized), or None for the system's CA store

    def __repr__(self) -> str:  # never the token, should a target end up in a message or a log
        return f"ReportTarget(url={redact_url(self.url)!r}, fingerprint={self.fingerprint!r})"
