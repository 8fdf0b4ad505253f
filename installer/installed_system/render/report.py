"""/etc/keel/report.json: where first boot reports provisioning, for keel-firstboot (post-install/keel_firstboot/
report.py reads it with the standard library; a unit test keeps both sides equal, as neither may import the other).

The keel-server that served the answer wins: its first-boot endpoint beside the events endpoint its
Keel-Report-URL header named (/api/v1/report/firstboot), with the install's token and the answer fetch's pin. Else
the answer's [post-installation-webhook] (its URL, auth-token and cert-fingerprint). The token is a secret: the
file is root's only (0600) and never logged.
"""

from __future__ import annotations

import json
from urllib.parse import urljoin

from installer.core.config import Webhook
from installer.core.reporting import ReportTarget

PATH = "/etc/keel/report.json"
VERSION = 1
FIRSTBOOT_ENDPOINT = "firstboot"        # keel-server's /api/v1/report/firstboot, beside /api/v1/report/events


def firstboot_report(server: ReportTarget | None, webhook: Webhook | None) -> dict[str, object] | None:
    """Where first boot reports to, or None when nobody asked for reports."""
    if server is not None:
        return {"version": VERSION, "kind": "keel-server", "url": urljoin(server.url, FIRSTBOOT_ENDPOINT),
                "token": server.token, "fingerprint": server.fingerprint}
    if webhook is not None:
        return {"version": VERSION, "kind": "webhook", "url": webhook.url, "token": webhook.auth_token,
                "fingerprint": webhook.cert_fingerprint}
    return None


def render_report_json(report: dict[str, object]) -> str:
    return json.dumps(report, indent=2) + "\n"
