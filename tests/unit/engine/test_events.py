"""The event bus: weighted overall progress, sinks, JSON lines and the plain console rendering."""

from __future__ import annotations

import io

import pytest

from installer.core.events import ConsoleSink, Event, EventBus, JsonLinesSink, ListSink, LogSink


def bus_with(weights=None, redact=None):
    sink = ListSink()
    return EventBus([sink], weights, redact=redact, clock=lambda: 1000.0), sink


def test_overall_ratio_follows_phase_weights():
    bus, sink = bus_with({"a": 1.0, "b": 3.0})
    bus.phase("a")
    bus.progress(0.5)
    assert sink.events[-1].ratio == pytest.approx(0.125)   # half of a quarter
    bus.phase("b")
    assert sink.events[-1].ratio == pytest.approx(0.25)
    bus.progress(0.5)
    assert sink.events[-1].ratio == pytest.approx(0.625)   # 1/4 + half of 3/4


def test_phase_event_carries_its_normalised_weight():
    bus, sink = bus_with({"a": 1.0, "b": 3.0})
    bus.phase("b")
    assert sink.events[-1] == Event("phase", text="b", phase="b", weight=0.75, ratio=0.0, time=1000.0)


def test_progress_never_goes_backwards():
    bus, sink = bus_with({"a": 1.0})
    bus.phase("a")
    bus.progress(0.8)
    bus.progress(0.3)
    assert sink.events[-1].ratio == pytest.approx(0.8)


def test_a_weight_given_with_the_phase_counts_when_the_table_lacks_it():
    bus, sink = bus_with({})
    bus.phase("only", weight=2.0)
    bus.progress(0.5)
    assert sink.events[-1].ratio == pytest.approx(0.5)


def test_finished_ok_reports_full_progress():
    bus, sink = bus_with({"a": 1.0})
    bus.phase("a")
    bus.finished(True, "Installation finished")
    assert sink.events[-1].ok is True
    assert sink.events[-1].ratio == 1.0


def test_secrets_are_redacted_from_text_and_detail():
    bus, sink = bus_with(redact=lambda t: t.replace("hunter22", "<redacted>"))
    bus.error("chpasswd said hunter22", detail="output: hunter22")
    assert sink.events[-1].text == "chpasswd said <redacted>"
    assert sink.events[-1].detail == "output: <redacted>"


def test_an_event_is_one_json_line_with_type_and_time_first(tmp_path):
    path = tmp_path / "events.jsonl"
    jsonl = JsonLinesSink(path)
    bus = EventBus([jsonl], clock=lambda: 12.5)
    bus.message("hello")
    bus.finished(False, "failed")
    jsonl.close()
    lines = path.read_text().splitlines()
    assert lines[0].startswith('{"type": "message", "time": 12.5, "text": "hello"')
    assert Event.from_json(lines[1]).ok is False


def test_console_shows_phases_errors_and_the_final_line():
    out = io.StringIO()
    bus = EventBus([ConsoleSink(out)], {"Partitioning disks": 1.0, "Unpacking": 1.0})
    bus.phase("Partitioning disks")
    bus.phase("Unpacking")
    bus.error("Installation failed in phase 'Unpacking': command failed: unsquashfs", "full log: /x.log")
    bus.finished(False, "Installation failed - see /x.log")
    assert out.getvalue().splitlines() == [
        "[  0%] Partitioning disks",
        "[ 50%] Unpacking",
        "ERROR: Installation failed in phase 'Unpacking': command failed: unsquashfs",
        "full log: /x.log",
        "Installation failed - see /x.log",
    ]


def test_console_shows_progress_in_coarse_steps():
    out = io.StringIO()
    bus = EventBus([ConsoleSink(out, step=0.25)], {"a": 1.0})
    bus.phase("a")
    for i in range(1, 11):
        bus.progress(i / 10, f"file {i}")
    shown = [line for line in out.getvalue().splitlines() if "file" in line]
    assert shown == ["[ 30%] a: file 3", "[ 60%] a: file 6", "[ 90%] a: file 9", "[100%] a: file 10"]


def test_the_log_gets_everything_but_progress():
    log = io.StringIO()
    bus = EventBus([LogSink(log)], {"a": 1.0}, clock=lambda: 0.0)
    bus.phase("a")
    bus.progress(0.5, "half")
    bus.warning("careful")
    assert log.getvalue() == "[00:00:00] PHASE: a\n[00:00:00] WARNING: careful\n"


def test_long_progress_lines_fit_a_serial_console():
    out = io.StringIO()
    bus = EventBus([ConsoleSink(out, step=0.0)], {"a": 1.0})
    bus.phase("a")
    bus.progress(0.5, "/usr/lib/x86_64-linux-gnu/" + "x" * 100)
    line = out.getvalue().splitlines()[-1]
    assert len(line) == 79 and line.endswith("...")
