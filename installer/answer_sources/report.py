"""Reporting an install's events to the keel-server that served its answer, without ever holding the install up.

`EventReporter` is an event sink. The EventBus hands it events already redacted; it gives each an id, keeps
progress to one event every few seconds (phases, messages, warnings, errors and the end always go), queues them
(bounded) and returns at once. A background thread POSTs what has accumulated as one batch,
`{"events": [...]}` with `Authorization: Bearer <per-install token>`, pinned to the answer fetch's fingerprint
(answer_sources.http, the same client):
- a connection error, a 5xx reply or a POST that outlasts its deadline: the same events again, with the same
  ids, after a doubling wait (the server stores an id once);
- any other refusal (401, 404, a certificate that does not match): reporting stops, with one warning;
- `close(timeout)` waits at most that long for the queue to drain, so the end arrives before the reboot.
An error event whose detail names the install log gets the log's last lines, redacted again here.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installer.answer_sources.errors import AnswerSourceError
from installer.answer_sources.http import DeadlineExpired, Limits, ReportTarget, TransientError, post
from installer.core.events import LOG_PATH_LINE, Event
from installer.core.redact import redact_url

logger = logging.getLogger(__name__)

# When the queue is full, a new event pushes out the oldest waiting one of a lower rank (progress: an older
# progress event); the end of the install and its error push out anything else, so they are always queued.
RANK = {"progress": 0, "message": 1, "phase": 2, "warning": 2, "error": 3, "finished": 3}
MAX_LINE = 500                  # characters kept of one line of the install log
MAX_DETAIL = 16384              # characters of an event's detail, log lines included
TAIL_BYTES = 65536              # what is read from the end of the install log for its last lines


@dataclass(frozen=True)
class ReportSettings:
    """How often and how much is sent; tests pass small values."""

    progress_interval: float = 5.0      # seconds between two progress events sent
    queue_size: int = 500               # events waiting (beside the batch being sent); then RANK decides
    batch_size: int = 100               # events in one POST
    backoff: float = 1.0                # seconds before the first retry, doubling up to max_backoff
    max_backoff: float = 30.0
    request_deadline: float = 20.0      # one POST, every byte of it
    connect_timeout: float = 5.0
    log_lines: int = 30                 # of the install log, added to an error event


def report_event(event: Event, event_id: str) -> dict[str, Any]:
    """One event as the server's report API takes it."""
    return {"id": event_id, "type": event.type, "time": event.time, "phase": event.phase, "text": event.text,
            "ratio": event.ratio, "ok": event.ok, "detail": event.detail}


def log_tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of the file at `path`, each cut to MAX_LINE; [] when it cannot be read."""
    try:
        with path.open("rb") as file:
            file.seek(0, 2)
            size = file.tell()
            file.seek(max(0, size - TAIL_BYTES))
            data = file.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    if size > TAIL_BYTES:
        text = text[1:]                 # the first line read is a part of one
    return [line[:MAX_LINE] for line in text[-lines:]]


class EventReporter:
    """The sink that reports events to `target` from its own thread; `close()` at the end of the install."""

    def __init__(self, target: ReportTarget, *, warn: Callable[[str], None],
                 redact: Callable[[str], str] = lambda text: text, settings: ReportSettings = ReportSettings(),
                 clock: Callable[[], float] = time.monotonic):
        self.target = target
        self.warn = warn
        self.redact = redact
        self.settings = settings
        self.clock = clock
        self.sent = 0                   # events the server has acknowledged
        self.dropped = 0                # events that found the queue full
        self._pending: deque[dict[str, Any]] = deque()
        self._in_flight = 0             # the first _in_flight pending events are being POSTed
        self._last_progress: float | None = None
        self._stopped = False
        self._cond = threading.Condition()
        self._limits = Limits(deadline=settings.request_deadline, attempts=1,
                              connect_timeout=settings.connect_timeout)
        self._thread = threading.Thread(target=self._work, name="keel-report", daemon=True)
        self._thread.start()

    @property
    def shown(self) -> str:
        return redact_url(self.target.url)

    def __call__(self, event: Event) -> None:
        with self._cond:
            if self._stopped or not self._wanted(event):
                return
        item = self._item(event)
        with self._cond:
            if self._stopped:
                return
            waiting = len(self._pending) - self._in_flight
            if waiting >= self.settings.queue_size and not self._make_room(event):
                self.dropped += 1
                return
            self._pending.append(item)
            self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds until every queued event is acknowledged; whether they all were."""
        with self._cond:
            self._cond.wait_for(lambda: self._stopped or not self._pending, timeout)
            return not self._pending

    def close(self, timeout: float = 15.0) -> bool:
        """Flush for at most `timeout` seconds, then stop; what is still queued is not sent."""
        done = self.flush(timeout)
        with self._cond:
            left = len(self._pending)
            self._stopped = True
            self._cond.notify_all()
        if left:
            self.warn(f"install reports to {self.shown}: {left} events not delivered in the time left")
        return done

    def _wanted(self, event: Event) -> bool:
        """Progress at most every progress_interval seconds; everything else always."""
        if event.type != "progress":
            return True
        now = self.clock()
        if self._last_progress is not None and now - self._last_progress < self.settings.progress_interval:
            return False
        self._last_progress = now
        return True

    def _item(self, event: Event) -> dict[str, Any]:
        detail = event.detail
        if event.type == "error":
            detail = self._with_log_tail(detail)
        item = report_event(event, uuid.uuid4().hex)
        item.update(text=self.redact(event.text), phase=self.redact(event.phase),
                    detail=self.redact(detail)[-MAX_DETAIL:])
        return item

    def _with_log_tail(self, detail: str) -> str:
        """The detail plus the install log's last lines, when it names the log (a started install's error)."""
        path = next((line[len(LOG_PATH_LINE):] for line in detail.splitlines() if line.startswith(LOG_PATH_LINE)),
                    "")
        lines = log_tail(Path(path), self.settings.log_lines) if path else []
        if not lines:
            return detail
        return "\n".join([detail, f"install log (last {len(lines)} lines):", *(f"  {line}" for line in lines)])

    def _make_room(self, event: Event) -> bool:
        """Drop the oldest waiting event `event` outranks (RANK); False when there is none."""
        rank = RANK[event.type]
        for lower in range(max(rank, 1)):               # progress replaces progress, the others what is below them
            for index in range(self._in_flight, len(self._pending)):
                if RANK[self._pending[index]["type"]] == lower:
                    del self._pending[index]
                    self.dropped += 1
                    return True
        return False

    def _work(self) -> None:
        backoff = self.settings.backoff
        failing = False
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or self._pending)
                if self._stopped:
                    return
                batch = list(itertools.islice(self._pending, self.settings.batch_size))
                self._in_flight = len(batch)
            try:
                post(self.target.url, {"events": batch}, fingerprint=self.target.fingerprint,
                     token=self.target.token, limits=self._limits, log=logger.info, purpose="the install report",
                     token_over_http=self.target.url.lower().startswith("http:"))
            except (TransientError, DeadlineExpired) as err:
                if not failing and not self._stopped:
                    self.warn(f"install reports to {self.shown} failed ({self.redact(str(err))}); retrying in "
                              "the background, the install goes on")
                failing = True
                with self._cond:
                    self._in_flight = 0
                    self._cond.wait_for(lambda: self._stopped, backoff)
                backoff = min(backoff * 2, self.settings.max_backoff)
                continue
            except (AnswerSourceError, ValueError, OSError) as err:
                self._stop(f"install reports to {self.shown} stopped: {self.redact(str(err))}; the install goes "
                           "on unreported")
                return
            with self._cond:
                for _ in batch:
                    self._pending.popleft()
                self._in_flight = 0
                self.sent += len(batch)
                self._cond.notify_all()
            backoff, failing = self.settings.backoff, False

    def _stop(self, message: str) -> None:
        with self._cond:
            self._stopped = True
            self._pending.clear()
            self._in_flight = 0
            self._cond.notify_all()
        self.warn(message)
