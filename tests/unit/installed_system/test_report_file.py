"""/etc/keel/report.json: where first boot reports provisioning, written by the installer (root's only, the token is
a secret) and read by keel-firstboot; the keel-server that served the answer wins over the answer's webhook."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from installer.core.config import Webhook
from installer.core.events import EventBus, ListSink
from installer.core.live import LiveInfo
from installer.core.reporting import ReportTarget
from installer.installed_system import configure
from installer.installed_system.render import provision, report
from installer.phase import InstallContext
from installer.runner import FakeRunner
from keel_firstboot import report as firstboot_report
from keel_firstboot.layout import Paths
from keel_testing.samples import CONFIG, HARDWARE, LVM_PLAN, PROVISION_CONFIG

LIVE = LiveInfo(Path("/payload.squashfs"), None)
SERVER = ReportTarget("https://keel.example:8443/api/v1/report/events", "inst-token-1", "ab" * 32)
WEBHOOK = Webhook("https://hooks.example/installed", "AB:" * 31 + "AB", "hook-token-2")

CASES = [
    pytest.param(SERVER, None, {"version": 1, "kind": "keel-server", "token": "inst-token-1", "fingerprint": "ab" * 32,
                                "url": "https://keel.example:8443/api/v1/report/firstboot"},
                 id="keel-server: its first-boot endpoint beside the events one, the install's token and pin"),
    pytest.param(None, WEBHOOK, {"version": 1, "kind": "webhook", "url": "https://hooks.example/installed",
                                 "token": "hook-token-2", "fingerprint": "AB:" * 31 + "AB"},
                 id="the answer's webhook when no keel-server served it"),
    pytest.param(SERVER, WEBHOOK, {"version": 1, "kind": "keel-server", "token": "inst-token-1",
                                   "fingerprint": "ab" * 32, "url": "https://keel.example:8443/api/v1/report/firstboot"},
                 id="keel-server wins over the webhook it put into the answer"),
]


@pytest.mark.parametrize(("server", "webhook", "expected"), CASES)
def test_the_report_file_names_where_first_boot_reports(server, webhook, expected):
    config = replace(PROVISION_CONFIG, webhook=webhook)
    files = {f.path: f for f in configure.target_files(config, LVM_PLAN, HARDWARE, LIVE, report_target=server)}
    written = files[report.PATH]
    assert json.loads(written.text) == expected
    assert written.mode == 0o600


def test_no_report_file_without_a_target_or_without_provision():
    paths = {f.path for f in configure.target_files(PROVISION_CONFIG, LVM_PLAN, HARDWARE, LIVE)}
    assert report.PATH not in paths
    config = replace(CONFIG, webhook=WEBHOOK)
    assert report.PATH not in {f.path for f in configure.target_files(config, LVM_PLAN, HARDWARE, LIVE,
                                                                        report_target=SERVER)}


def test_keel_firstboot_reads_what_the_installer_writes(tmp_path):
    text = report.render_report_json(report.firstboot_report(None, WEBHOOK))
    (tmp_path / "etc/keel").mkdir(parents=True)
    (tmp_path / "etc/keel/report.json").write_text(text)
    assert report.PATH == firstboot_report.REPORT and report.VERSION == firstboot_report.VERSION
    target, problem = firstboot_report.load(Paths(tmp_path))
    assert problem is None
    assert target == firstboot_report.Target("https://hooks.example/installed", "hook-token-2", "ab" * 32, "webhook")


def test_the_install_writes_it_root_only_and_never_logs_the_token(tmp_path):
    target = tmp_path / "target"
    (target / "usr/share/zoneinfo/Europe").mkdir(parents=True)
    (target / "usr/share/zoneinfo/Europe/Vienna").write_text("TZif")
    unit = target / provision.UNIT_PATH.lstrip("/")
    unit.parent.mkdir(parents=True)
    unit.write_text("[Unit]\n")
    sink = ListSink()
    ctx = InstallContext(config=PROVISION_CONFIG, plan=LVM_PLAN, hardware=HARDWARE, runner=FakeRunner(),
                         events=EventBus([sink]), live=LIVE, target=target, report_target=SERVER)
    configure.write_configuration(ctx)
    written = target / "etc/keel/report.json"
    assert json.loads(written.read_text())["token"] == "inst-token-1"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert not any("inst-token-1" in f"{e.text} {e.detail}" for e in sink.events)
