"""Running the hook once: its output to stdout (the journal, under systemd) and to the log file, its exit status
into status.json, and the flag removed afterwards whatever the exit status, so a failed hook is not re-run on
every boot (`keel-firstboot retry` re-arms it).

A power cut while the hook runs leaves the flag: the next boot runs it again, and status says the earlier run was
interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import BinaryIO

from .layout import SCRIPT, Paths
from .state import Run, disarm, read_run, write_run

CHUNK = 65536


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_log(paths: Paths) -> BinaryIO:
    """The log file for appending, root's only (0600) even if it existed with another mode; never through a link."""
    paths.log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab", buffering=0)


def run_hook(paths: Paths, ordering: str, out: BinaryIO, clock: Callable[[], str] = now_iso) -> int:
    """Run the pending hook and return its exit status (0 when nothing is pending)."""
    if not paths.pending.exists():
        out.write(b"keel-firstboot: no first-boot hook is pending; nothing to do\n")
        return 0
    previous = _previous_runs(paths)
    started, begin = clock(), time.monotonic()
    write_run(paths, Run("running", ordering, started, runs=previous + 1, pid=os.getpid()))
    with open_log(paths) as log:
        def say(text: str) -> None:
            line = f"keel-firstboot: {text}\n".encode()
            out.write(line)
            out.flush()
            log.write(line)

        say(f"{started}: running {SCRIPT} {ordering} (run {previous + 1})")
        code, reason = _execute(paths, ordering, out, log)
        seconds = round(time.monotonic() - begin, 3)
        finished = clock()
        result = "succeeded" if code == 0 else "failed"
        say(f"{finished}: {result}, exit status {code} after {seconds:g} s" + (f" ({reason})" if reason else ""))
    write_run(paths, Run(result, ordering, started, runs=previous + 1, finished=finished, seconds=seconds,
                         exit_code=code, reason=reason))
    disarm(paths)
    return code


def _previous_runs(paths: Paths) -> int:
    try:
        run = read_run(paths)
    except Exception:       # an unreadable record must not stop the hook from running
        return 0
    return run.runs if run is not None else 0


def _execute(paths: Paths, ordering: str, out: BinaryIO, log: BinaryIO) -> tuple[int, str | None]:
    """(exit status, reason); the hook's stdout and stderr go to `out` and `log` as they come."""
    try:
        proc = subprocess.Popen([str(paths.script), ordering], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=str(paths.root))
    except FileNotFoundError:
        return 127, f"{SCRIPT} does not exist"
    except OSError as err:
        return 126, f"cannot execute {SCRIPT}: {err.strerror}"
    # systemd stops the unit (shutdown, systemctl stop) with SIGTERM to every process of it; keel-firstboot
    # waits for the hook to end and records that, instead of dying before it can.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.terminate())
    try:
        assert proc.stdout is not None
        while True:
            try:
                chunk = proc.stdout.read1(CHUNK)
            except KeyboardInterrupt:
                proc.terminate()
                continue
            if not chunk:
                break
            out.write(chunk)
            out.flush()
            log.write(chunk)
        code = proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code < 0:
        name = signal.Signals(-code).name
        return 128 - code, f"ended by {name}"
    return code, None
