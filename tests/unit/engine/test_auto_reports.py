"""`keel-installer auto` with an answer from a keel-server: the report headers reach the event sink, the events of
the install (a dry run here) arrive before the command returns, and an answer this machine refuses is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.cli import main
from installer.core.hardware import HardwareProfile

REPO = Path(__file__).resolve().parents[3]
HARDWARE = REPO / "answerfile/examples/hardware/example-server.json"
PASSWORD = "very-secret-pw-42"
TOKEN = "per-install-7f3a9c1e5b"
ANSWER = f"""\
[global]
keyboard = "de"
country = "at"
fqdn = "pve1.example.com"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "{PASSWORD}"

[network]
source = "from-dhcp"

[disk-setup]
filesystem = "ext4"
disk-list = ["sda"]
"""


@pytest.fixture
def served(https_server, tmp_path, capsys):
    """Runs `keel-installer auto --dry-run` against a server that answers `answer` with the report headers."""

    def run(answer: str) -> tuple[int, str, list[dict]]:
        events_url = https_server.url.replace("/answer", "/api/v1/report/events")
        https_server.queue.append({"status": 200, "type": "application/toml", "body": answer,
                                   "headers": {"Keel-Report-URL": events_url, "Keel-Report-Token": TOKEN}})
        https_server.reply.update(status=200, type="application/json", body='{"stored": 1, "duplicates": 0}')
        (tmp_path / "cmdline").write_text(
            f"keel.mode=auto keel.answer={https_server.url} keel.fingerprint={https_server.fingerprint}")
        status = main(["auto", "--hardware", str(HARDWARE), "--dry-run", "--live", str(tmp_path / "no-live.json"),
                       "--cmdline", str(tmp_path / "cmdline")])
        return status, capsys.readouterr().out, https_server.received
    return run


def test_the_install_is_reported_with_the_token_from_the_answers_headers(served):
    status, out, received = served(ANSWER)
    assert status == 0
    answer_request, *reports = received
    assert answer_request["body"]["keel"]["hardware"] == json.loads(HardwareProfile.read(HARDWARE).to_json())
    assert reports, "no events were reported"
    assert all(r["path"] == "/api/v1/report/events" for r in reports)
    assert all(r["headers"]["Authorization"] == f"Bearer {TOKEN}" for r in reports)
    events = [e for r in reports for e in r["body"]["events"]]
    phases = [e["text"] for e in events if e["type"] == "phase"]
    assert phases[:2] == ["Removing old storage on the selected disks", "Partitioning disks"]
    assert [(e["type"], e["ok"]) for e in events][-1] == ("finished", True)
    assert "Reporting this install's events to https://127.0.0.1:" in out
    assert TOKEN not in out and PASSWORD not in out
    assert PASSWORD not in str(received)


def test_an_answer_this_machine_refuses_is_reported_as_an_error(served):
    status, out, received = served(ANSWER.replace('disk-list = ["sda"]', 'disk-list = ["sdzz"]'))
    assert status == 2
    events = [e for r in received[1:] for e in r["body"]["events"]]
    assert [e["type"] for e in events] == ["error", "finished"]
    assert events[0]["text"].endswith("cannot be used on this machine:")
    assert "sdzz" in events[0]["detail"]
    assert (events[1]["ok"], events[1]["text"]) == (False, "Nothing was written to any disk.")
    assert PASSWORD not in str(received[1:])
    assert TOKEN not in out


def test_the_report_target_reaches_the_install_which_keeps_it_for_first_boot(served, monkeypatch):
    from installer.engine import install
    from installer.frontends import auto

    seen = []

    def start_install(config, hardware, sinks, *, dry_run, settings):
        seen.append(settings.report)
        return install.start_install(config, hardware, sinks, dry_run=dry_run, settings=settings)

    monkeypatch.setattr(auto, "start_install", start_install)
    status, _, _ = served(ANSWER)
    assert status == 0
    (target,) = seen
    assert target.token == TOKEN and target.url.endswith("/api/v1/report/events")
