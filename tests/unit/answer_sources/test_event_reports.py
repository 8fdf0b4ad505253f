"""Install events reported to a keel-server: the contract's body and header, same ids on retry, 401 stops,
progress throttled, no secret sent, the log tail on failure, and never a slower install, against a real local
HTTPS server pinned by fingerprint."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from installer.answer_sources.http import ReportTarget
from installer.answer_sources.report import EventReporter, ReportSettings
from installer.core.events import EventBus
from installer.engine.install import InstallSettings, start_install
from installer.runner import FakeRunner, Redactor, Result
from keel_testing.samples import CONFIG, HARDWARE, PASSWORD

TOKEN = "per-install-7f3a9c1e5b"
FAST = ReportSettings(progress_interval=5.0, backoff=0.05, max_backoff=0.2, request_deadline=3.0,
                      connect_timeout=1.0)
STORED = {"status": 200, "type": "application/json", "body": '{"stored": 1, "duplicates": 0}'}
CONTRACT_KEYS = {"id", "type", "time", "phase", "text", "ratio", "ok", "detail"}
EVENT_ID = re.compile(r"^[0-9a-f]{32}$")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def target(server, token: str = TOKEN, fingerprint: str | None = None) -> ReportTarget:
    return ReportTarget(server.url.replace("/answer", "/api/v1/report/events"), token,
                        fingerprint or server.fingerprint)


@pytest.fixture
def report_server(https_server):
    https_server.reply.update(STORED)
    return https_server


def reporter_for(server, warnings: list[str] | None = None, settings: ReportSettings = FAST, **kwargs) -> EventReporter:
    return EventReporter(target(server), warn=(warnings if warnings is not None else []).append, settings=settings,
                         **kwargs)


def posted(received: list[dict]) -> list[list[dict]]:
    return [r["body"]["events"] for r in received]


def deduplicated(batches: list[list[dict]]) -> list[dict]:
    """What a server that stores an id once ends up with, in arrival order."""
    seen: dict[str, dict] = {}
    for batch in batches:
        for event in batch:
            seen.setdefault(event["id"], event)
    return list(seen.values())


def test_events_arrive_in_order_each_with_an_id_and_the_bearer_token(report_server):
    reporter = reporter_for(report_server)
    bus = EventBus([reporter])
    bus.phase("Partitioning disks", 1.0)
    bus.message("installing pve1.example.com")
    bus.warning("disk sdb is rotational")
    bus.finished(True, "Installation finished")
    assert reporter.close(5.0)
    events = [e for batch in posted(report_server.received) for e in batch]
    assert [(e["type"], e["text"]) for e in events] == [
        ("phase", "Partitioning disks"), ("message", "installing pve1.example.com"),
        ("warning", "disk sdb is rotational"), ("finished", "Installation finished")]
    assert all(set(e) == CONTRACT_KEYS for e in events)
    assert all(EVENT_ID.match(e["id"]) for e in events)
    assert len({e["id"] for e in events}) == 4
    assert events[-1]["ok"] is True and events[0]["ok"] is None
    assert events[-1]["ratio"] == 1.0
    assert all(isinstance(e["time"], float) and e["time"] > 1.7e9 for e in events)
    for request in report_server.received:
        assert request["method"] == "POST"
        assert request["path"] == "/api/v1/report/events"
        assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert request["headers"]["Content-Type"].startswith("application/json")


def test_a_server_failing_the_first_tries_gets_the_same_ids_again_and_stores_each_event_once(report_server):
    report_server.queue.extend([{"status": 503, "body": "starting"}, {"status": 502, "body": "bad gateway"}])
    warnings: list[str] = []
    reporter = reporter_for(report_server, warnings)
    bus = EventBus([reporter])
    bus.phase("Partitioning disks", 1.0)
    bus.phase("Creating volumes", 1.0)
    bus.error("Installation failed in phase 'Creating volumes': command failed: lvcreate")
    bus.finished(False, "Installation failed")
    assert reporter.close(10.0)
    batches = posted(report_server.received)
    assert len(batches) >= 3
    for failed, retried in [(batches[0], batches[1]), (batches[1], batches[2])]:     # 503, 502, then stored
        assert [e["id"] for e in retried][:len(failed)] == [e["id"] for e in failed]
    stored = deduplicated(batches)
    assert [e["text"] for e in stored] == [
        "Partitioning disks", "Creating volumes",
        "Installation failed in phase 'Creating volumes': command failed: lvcreate", "Installation failed"]
    assert len(warnings) == 1 and "retrying in the background" in warnings[0]


def until(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll `condition` (the report thread works on its own) until it holds or `seconds` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_401_stops_the_reports_with_one_warning(report_server):
    report_server.reply.update(status=401, type="application/json", body='{"detail": "bad token"}')
    warnings: list[str] = []
    reporter = reporter_for(report_server, warnings)
    bus = EventBus([reporter])
    bus.phase("Partitioning disks", 1.0)
    until(lambda: bool(warnings), 5.0)
    bus.phase("Creating volumes", 1.0)
    bus.finished(True, "Installation finished")
    reporter.close(1.0)
    assert len(report_server.received) == 1
    assert len(warnings) == 1
    assert "stopped" in warnings[0] and "401" in warnings[0]
    assert TOKEN not in warnings[0]


def test_progress_is_sent_at_most_every_few_seconds_and_the_rest_always(report_server):
    clock = Clock()
    reporter = reporter_for(report_server, clock=clock)
    bus = EventBus([reporter], weights={"Unpacking": 1.0})
    bus.phase("Unpacking")
    for second, path in [(0, "/bin"), (1, "/etc"), (2, "/lib"), (6, "/usr"), (7, "/usr/share"), (11, "/var")]:
        clock.now = 1000.0 + second
        bus.progress(second / 20, path)
        if second == 2:
            bus.warning("slow medium")
    bus.finished(True, "Installation finished")
    assert reporter.close(5.0)
    events = [e for batch in posted(report_server.received) for e in batch]
    assert [(e["type"], e["text"]) for e in events] == [
        ("phase", "Unpacking"), ("progress", "/bin"), ("warning", "slow medium"), ("progress", "/usr"),
        ("progress", "/var"), ("finished", "Installation finished")]


def test_a_registered_secret_in_a_commands_output_never_reaches_the_server(report_server, tmp_path):
    def leaky_mkfs(argv, stdin):
        if argv[0] == "mkfs.ext4":
            return Result(argv, 1, "", f"mkfs.ext4: cannot use {PASSWORD} or {TOKEN} as a label\n")
        return None

    reporter = reporter_for(report_server)          # the EventBus's redaction alone: the engine's runner's secrets
    settings = InstallSettings(live_path=tmp_path / "no-live.json", log_path=tmp_path / "install.log",
                               runner=FakeRunner(responders=[leaky_mkfs]), secrets=(TOKEN,))
    outcome = start_install(CONFIG, HARDWARE, [reporter], dry_run=True, settings=settings)
    assert outcome.started and not outcome.ok
    assert reporter.close(5.0)
    raw = str([r["body"] for r in report_server.received])
    assert PASSWORD not in raw and TOKEN not in raw
    errors = [e for batch in posted(report_server.received) for e in batch if e["type"] == "error"]
    assert len(errors) == 1
    assert "mkfs.ext4: cannot use <redacted> or <redacted> as a label" in errors[0]["detail"]


def test_an_error_carries_the_last_30_lines_of_the_install_log_redacted(report_server, tmp_path):
    log = tmp_path / "install.log"
    log.write_text("".join(f"line {n}: {'s3cret-of-the-answer' if n == 35 else 'ok'}\n" for n in range(1, 41)))
    reporter = reporter_for(report_server, redact=Redactor(["s3cret-of-the-answer"]))
    EventBus([reporter]).error("Installation failed in phase 'Unpacking': command failed: unsquashfs",
                               f"command: unsquashfs\nresult: exit status 1\nfull log: {log}")
    assert reporter.close(5.0)
    [error] = posted(report_server.received)[0]
    lines = error["detail"].splitlines()
    assert lines[:4] == ["command: unsquashfs", "result: exit status 1", f"full log: {log}",
                         "install log (last 30 lines):"]
    assert lines[4:] == [f"  line {n}: {'<redacted>' if n == 35 else 'ok'}" for n in range(11, 41)]


def test_a_hanging_server_never_holds_the_install_up(https_server):
    https_server.reply.update(status=200, type="application/json", body="", length=False, stall=30)
    warnings: list[str] = []
    reporter = reporter_for(https_server, warnings, settings=ReportSettings(request_deadline=30.0))
    bus = EventBus([reporter])
    started = time.monotonic()
    bus.phase("Partitioning disks", 1.0)
    for n in range(200):
        bus.message(f"message {n}")
    bus.finished(True, "Installation finished")
    emitting = time.monotonic() - started
    assert not reporter.close(0.5)
    assert emitting < 0.5
    assert time.monotonic() - started < 2.0
    assert warnings == [f"install reports to {target(https_server).url}: 202 events not delivered in the time left"]


def test_a_full_queue_makes_room_by_dropping_progress_never_a_phase_or_the_end(https_server):
    https_server.reply.update(status=200, type="application/json", body="", length=False, stall=30)
    clock = Clock()
    reporter = reporter_for(https_server, settings=ReportSettings(queue_size=5, progress_interval=0.0),
                            clock=clock)
    bus = EventBus([reporter], weights={"Unpacking": 1.0})
    bus.phase("Unpacking")
    # the phase's POST hangs before anything else is queued
    assert until(lambda: reporter._in_flight == 1, 10.0)
    for n in range(20):
        bus.progress(n / 20, f"/file{n}")
    bus.finished(True, "Installation finished")
    with reporter._cond:                # what is queued while the first POST hangs
        queued = list(reporter._pending)
        waiting = queued[reporter._in_flight:]
    reporter.close(0.1)
    assert queued[0]["type"] == "phase"
    assert [e["type"] for e in waiting] == ["progress"] * 4 + ["finished"]
    assert [e["ratio"] for e in waiting[:-1]] == [n / 20 for n in range(16, 20)]
    assert reporter.dropped == 16


def test_reports_are_pinned_to_the_answers_fingerprint(report_server, other_https_server):
    other_https_server.reply.update(STORED)
    warnings: list[str] = []
    wrong = ReportTarget(other_https_server.url, TOKEN, report_server.fingerprint)
    reporter = EventReporter(wrong, warn=warnings.append, settings=FAST)
    EventBus([reporter]).phase("Partitioning disks", 1.0)
    reporter.close(5.0)
    assert other_https_server.received == []
    assert len(warnings) == 1 and "does not match" in warnings[0]


def test_the_target_never_shows_its_token(report_server):
    assert TOKEN not in repr(target(report_server))
    assert TOKEN not in str(target(report_server))


def test_an_unreadable_log_leaves_the_detail_as_it_was(report_server, tmp_path: Path):
    reporter = reporter_for(report_server)
    EventBus([reporter]).error("failed", f"full log: {tmp_path / 'missing.log'}")
    assert reporter.close(5.0)
    assert posted(report_server.received)[0][0]["detail"] == f"full log: {tmp_path / 'missing.log'}"


def test_a_post_that_outlasts_its_deadline_is_tried_again_not_given_up(report_server):
    report_server.queue.append({"status": 200, "type": "application/json", "length": False, "stall": 30})
    warnings: list[str] = []
    reporter = reporter_for(report_server, warnings, settings=ReportSettings(request_deadline=0.5, backoff=0.05))
    EventBus([reporter]).phase("Partitioning disks", 1.0)
    assert reporter.close(5.0)
    batches = posted(report_server.received)
    assert len(batches) == 2 and batches[0] == batches[1]
    assert len(warnings) == 1 and "retrying in the background" in warnings[0]


def test_a_409_from_a_server_storing_the_same_events_elsewhere_is_tried_again(report_server):
    report_server.queue.append({"status": 409, "type": "application/json",
                                "body": '{"detail": "these events are being stored by another request"}'})
    warnings: list[str] = []
    reporter = reporter_for(report_server, warnings)
    EventBus([reporter]).phase("Partitioning disks", 1.0)
    assert reporter.close(5.0)
    batches = posted(report_server.received)
    assert len(batches) == 2 and batches[0] == batches[1]
    assert "stopped" not in " ".join(warnings)
