"""A keel-server for tests: a data directory with its certificate, a migrated database (SQLite in the test's tmp
dir, or a fresh database on the session's PostgreSQL), tokens, and FastAPI's TestClient over the HTTPS app.

Also the request shapes: Proxmox's system information (reference §7.3) and the headers its installer sends.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from keel_server import tls
from keel_server.api import create_app
from keel_server.db import Database, migrate
from keel_server.service import Service

BASE_URL = "https://keel.test:8443"
# Exactly what proxmox-fetch-answer sends (reference §7.3).
PROXMOX_HEADERS = {"Content-Type": "application/json; charset=utf-8",
                   "Accept": "application/json, application/toml;q=0.5"}
PASSWORD = "install-test-pw"

SYSINFO_A: dict[str, Any] = {
    "$schema": {"version": "1.0"},
    "product": {"fullname": "Proxmox VE", "product": "pve", "enable_btrfs": True},
    "iso": {"release": "9.2", "isorelease": "1"},
    "dmi": {"system": {"serial": "EX2U-0001", "sku": "", "uuid": "4c4c4544-0042-3510-8051-b4c04f4e3232",
                       "name": "PowerEdge R650"},
            "baseboard": {"asset_tag": "", "serial": "BB01", "name": "0X0X0X"},
            "chassis": {"serial": "CH01", "sku": "", "asset_tag": ""}},
    "network_interfaces": [{"link": "eno1", "mac": "3c:ec:ef:10:00:01"}, {"link": "eno2", "mac": "3c:ec:ef:10:00:02"}],
}


def sysinfo(serial: str = "EX2U-0001", name: str = "PowerEdge R650", macs: tuple[str, ...] = ("3c:ec:ef:10:00:01",),
            uuid: str = "") -> dict[str, Any]:
    out = copy.deepcopy(SYSINFO_A)
    out["dmi"]["system"].update(serial=serial, name=name, uuid=uuid)
    out["network_interfaces"] = [{"link": f"eno{i + 1}", "mac": mac} for i, mac in enumerate(macs)]
    return out


TEMPLATE = f"""\
[global]
keyboard = "en-us"
country = "ch"
fqdn = "{{{{ "node%02d" | format(machine.number) }}}}.rack1.example.com"
mailto = "ops@example.com"
timezone = "Europe/Zurich"
root-password = "{PASSWORD}"

[network]
source = "from-answer"
cidr = "{{{{ address.cidr }}}}"
gateway = "{{{{ address.gateway }}}}"
dns = "{{{{ address.dns }}}}"
filter.ID_NET_NAME_MAC = "enx{{{{ machine.mac | replace(':', '') }}}}"

[disk-setup]
filesystem = "ext4"
disk-list = ["sda"]
"""


@dataclass
class ServerEnv:
    data: Path
    service: Service
    client: TestClient
    admin_token: str
    answer_token: str

    @property
    def fingerprint(self) -> str:
        return self.service.fingerprint

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def post_answer(self, body: Any, *, token: str | None = "answer", headers: dict[str, str] | None = None,
                    raw: bytes | None = None) -> httpx.Response:
        sent = dict(PROXMOX_HEADERS)
        if token is not None:
            sent["Authorization"] = f"Bearer {self.answer_token if token == 'answer' else token}"
        sent.update(headers or {})
        return self.client.post("/answer", content=raw if raw is not None else json.dumps(body).encode(),
                                headers=sent)

    def add_pool_and_profile(self, *, name: str = "rack1", priority: int = 10,
                             match: dict[str, str] | None = None, template: str = TEMPLATE) -> None:
        if not any(p["name"] == "rack1" for p in self.service.list_pools()):
            self.service.add_pool("rack1", "10.20.30.0/24", "10.20.30.1", "10.20.30.2", "10.20.30.100-10.20.30.102")
        self.service.add_profile(name, template, match=match or {"/dmi/system/name": "PowerEdge*"},
                                 priority=priority, pool="rack1")


def make_env(data: Path, db_url: str | None) -> ServerEnv:
    data.mkdir(parents=True, exist_ok=True)
    fingerprint = tls.write_certificate(data, ["127.0.0.1", "keel.test"])
    database = Database(db_url or f"sqlite:///{data / 'keel.db'}")
    migrate(database.engine)
    service = Service(database, fingerprint=fingerprint, boot_secret=b"test boot secret")
    admin = service.create_token(kind="admin", actor="init")["token"]
    answer = service.create_token()["token"]
    client = TestClient(create_app(service, pxe_dir=None), base_url=BASE_URL, raise_server_exceptions=False)
    return ServerEnv(data, service, client, admin, answer)
