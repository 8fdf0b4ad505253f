"""The record of the hook's last run (status.json) and what it adds up to with the flag: pending, succeeded, ...

status.json is written whole (a temporary file renamed over it), so a power cut leaves the old record or the new
one, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

from .layout import Paths


class StateError(Exception):
    """status.json cannot be read or holds something else than a record; the message names the file."""


@dataclass(frozen=True)
class Run:
    """One run of the hook, as status.json records it."""

    state: str                      # "running", "succeeded" or "failed"
    ordering: str
    started: str                    # ISO 8601, UTC
    runs: int = 1                   # how many times the hook has been started, this run included
    finished: str | None = None
    seconds: float | None = None    # how long it ran
    exit_code: int | None = None    # the hook's exit status; 128+N when signal N ended it
    reason: str | None = None       # why it failed, when the exit code does not say it all
    pid: int | None = None          # keel-firstboot's process while it runs

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Run:
        try:
            data = json.loads(text)
        except ValueError as err:
            raise StateError(f"{source}: not valid JSON ({err})") from err
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not {"state", "ordering", "started"} <= data.keys():
            raise StateError(f"{source}: not a keel-firstboot status record")
        return cls(**{k: v for k, v in data.items() if k in known})


def read_run(paths: Paths) -> Run | None:
    try:
        text = paths.status.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise StateError(f"{paths.status}: cannot read it ({err})") from err
    return Run.from_json(text, str(paths.status))


def write_run(paths: Paths, run: Run) -> None:
    """status.json replaced whole and synced, root's only."""
    paths.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = paths.status.with_name(f".{paths.status.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, run.to_json().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, paths.status)


def arm(paths: Paths) -> None:
    """Create the flag: the enabled unit runs the hook on the next boot."""
    paths.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(paths.pending, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    os.close(fd)


def disarm(paths: Paths) -> None:
    paths.pending.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Summary:
    """What `status` shows: the state in one word, the last run, and whether the hook is armed."""

    state: str              # none | pending | running | succeeded | failed | interrupted
    installed: bool         # the script is there
    armed: bool             # the flag is there: it runs on the next boot
    run: Run | None

    @property
    def failed(self) -> bool:
        return self.state in ("failed", "interrupted")


def summarize(paths: Paths, alive=process_alive) -> Summary:
    run = read_run(paths)
    installed, armed = paths.script.is_file(), paths.pending.exists()
    if run is None:
        state = "pending" if armed else "none"
    elif run.state == "running":
        state = "running" if run.pid is not None and alive(run.pid) else "interrupted"
    elif armed:
        state = "pending"
    else:
        state = run.state
    return Summary(state, installed, armed, run)
