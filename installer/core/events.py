"""Typed install events and the bus that fans them out to the console, the JSON-lines stream and the log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, TextIO

from installer.core.files import open_private

EventType = Literal["phase", "progress", "message", "warning", "error", "finished"]
Sink = Callable[["Event"], None]
# An error event of a started install names the install log on a line of its detail starting with this (the
# event reports to a keel-server add the log's last lines from there).
LOG_PATH_LINE = "full log: "


@dataclass(frozen=True)
class Event:
    """One thing that happened during an install; serialised as one JSON line."""

    type: EventType
    text: str = ""
    phase: str = ""               # current phase name
    weight: float = 0.0           # phase weight (type "phase")
    ratio: float = 0.0            # overall progress 0..1 (type "progress")
    ok: bool | None = None        # type "finished"
    detail: str = ""              # error: failing command + output tail, log path
    time: float = 0.0             # seconds since the epoch

    def to_json(self) -> str:
        data = asdict(self)
        ordered = {"type": data.pop("type"), "time": round(data.pop("time"), 3)}
        ordered.update(data)
        return json.dumps(ordered, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, line: str) -> Event:
        data = json.loads(line)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class EventBus:
    """Fans events out to sinks and turns per-phase fractions into one overall ratio from the phase weights.

    `weights` maps phase names to weights (any positive scale; they are normalised). A phase not in the
    table takes the weight passed to `phase()`, or nothing. The overall ratio never goes backwards.
    """

    def __init__(self, sinks: list[Sink], weights: dict[str, float] | None = None,
                 redact: Callable[[str], str] | None = None, clock: Callable[[], float] = time.time):
        self.sinks = list(sinks)
        self.weights = dict(weights or {})
        self.redact = redact or (lambda text: text)
        self.clock = clock
        self.current = ""
        self.ratio = 0.0
        self._done_weight = 0.0          # sum of weights of phases already left
        self._current_weight = 0.0
        self._lock = threading.Lock()

    @property
    def _total(self) -> float:
        return sum(self.weights.values()) or 1.0

    def add_sink(self, sink: Sink) -> None:
        self.sinks.append(sink)

    def emit(self, event: Event) -> None:
        event = Event(
            type=event.type, text=self.redact(event.text), phase=event.phase, weight=event.weight,
            ratio=event.ratio, ok=event.ok, detail=self.redact(event.detail), time=event.time or self.clock(),
        )
        for sink in self.sinks:
            sink(event)

    def phase(self, name: str, weight: float | None = None) -> None:
        with self._lock:
            self._done_weight += self._current_weight
            if weight is not None and name not in self.weights:
                self.weights[name] = weight
            self.current = name
            self._current_weight = self.weights.get(name, 0.0)
            self.ratio = max(self.ratio, min(1.0, self._done_weight / self._total))
            ratio = self.ratio
        self.emit(Event("phase", text=name, phase=name, weight=self._current_weight / self._total,
                        ratio=ratio))

    def progress(self, fraction: float, text: str = "") -> None:
        """Report `fraction` (0..1) of the current phase done."""
        fraction = min(1.0, max(0.0, fraction))
        with self._lock:
            overall = (self._done_weight + fraction * self._current_weight) / self._total
            self.ratio = max(self.ratio, min(1.0, overall))
            ratio = self.ratio
        self.emit(Event("progress", text=text, phase=self.current, ratio=ratio))

    def message(self, text: str) -> None:
        self.emit(Event("message", text=text, phase=self.current, ratio=self.ratio))

    def warning(self, text: str) -> None:
        self.emit(Event("warning", text=text, phase=self.current, ratio=self.ratio))

    def error(self, text: str, detail: str = "") -> None:
        self.emit(Event("error", text=text, phase=self.current, ratio=self.ratio, detail=detail))

    def finished(self, ok: bool, text: str) -> None:
        if ok:
            with self._lock:
                self.ratio = 1.0
        self.emit(Event("finished", text=text, phase=self.current, ratio=self.ratio, ok=ok))


class ConsoleSink:
    """Plain text for auto mode and serial consoles: one line per phase, coarse progress, messages."""

    def __init__(self, stream: TextIO, step: float = 0.05, width: int = 80):
        self.stream = stream
        self.step = step
        self.width = width              # progress lines are cut to fit an 80x24 serial console
        self._last_shown = -1.0

    def __call__(self, event: Event) -> None:
        pct = f"{event.ratio * 100:3.0f}%"
        match event.type:
            case "phase":
                line = f"[{pct}] {event.text}"
            case "progress":
                if not event.text or (event.ratio - self._last_shown < self.step and event.ratio < 1.0):
                    return
                line = f"[{pct}] {event.phase}: {event.text}"
                if len(line) >= self.width:
                    line = line[: self.width - 4] + "..."
            case "message":
                line = f"       {event.text}"
            case "warning":
                line = f"WARNING: {event.text}"
            case "error":
                line = f"ERROR: {event.text}" + (f"\n{event.detail}" if event.detail else "")
            case "finished":
                line = event.text
        if event.type in ("phase", "progress"):
            self._last_shown = event.ratio
        self.stream.write(line + "\n")
        self.stream.flush()


class JsonLinesSink:
    """Appends every event as one JSON line to a file only its owner can read (the TUI and tests read it)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open_private(self.path)

    def __call__(self, event: Event) -> None:
        self._file.write(event.to_json() + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class LogSink:
    """Writes events into the install log (the same file the Runner logs commands to)."""

    def __init__(self, file: TextIO):
        self.file = file

    def __call__(self, event: Event) -> None:
        stamp = time.strftime("%H:%M:%S", time.gmtime(event.time))
        if event.type == "progress":
            return
        text = event.text if event.type != "finished" else f"finished ok={event.ok}: {event.text}"
        line = f"[{stamp}] {event.type.upper()}: {text}"
        if event.detail:
            line += "\n" + event.detail
        self.file.write(line + "\n")
        self.file.flush()


class ListSink:
    """Collects events in memory (tests, and the TUI's pull model)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, type: EventType) -> list[Event]:
        return [e for e in self.events if e.type == type]
