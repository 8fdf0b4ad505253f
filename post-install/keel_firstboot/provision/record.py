"""The record of provisioning (provision.json in keel-firstboot's state directory): the run's state and each step's
state, attempts, last error and times; and the done marker, after which nothing runs again.

The record is written whole (a temporary file renamed over it, synced, 0600), so a power cut leaves the old record
or the new one. It never holds a secret: errors are redacted before they get here, and file contents never do.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields

from ..layout import STATE_DIR, Paths
from ..state import StateError, process_alive

RECORD = f"{STATE_DIR}/provision.json"
DONE = f"{STATE_DIR}/provision-done"        # written after every step succeeded; then nothing runs again
LOCK = f"{STATE_DIR}/provision.lock"
STEP_STATES = ("pending", "done", "skipped", "failed")   # skipped: it was already true, nothing was run


@dataclass
class StepRecord:
    id: int                                 # the step's place in provision_steps, from 1
    subject: str
    summary: str
    state: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    started: str | None = None
    finished: str | None = None


@dataclass
class Record:
    state: str                              # "running", "pending" (re-armed by retry), "succeeded" or "failed"
    runs: int = 0
    started: str | None = None
    finished: str | None = None
    reason: str | None = None               # why it failed: the step and its last error
    pid: int | None = None                  # keel-firstboot's process while it runs
    steps: list[StepRecord] = field(default_factory=list)

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Record:
        try:
            data = json.loads(text)
            known = {f.name for f in fields(StepRecord)}
            steps = [StepRecord(**{k: v for k, v in s.items() if k in known}) for s in data.get("steps", [])]
            return cls(**{k: v for k, v in data.items() if k in {f.name for f in fields(cls)} - {"steps"}},
                       steps=steps)
        except (ValueError, TypeError, AttributeError) as err:
            raise StateError(f"{source}: not a keel-firstboot provision record ({err})") from err

    @property
    def failed_step(self) -> StepRecord | None:
        return next((s for s in self.steps if s.state == "failed"), None)


def read_record(paths: Paths) -> Record | None:
    path = paths.at(RECORD)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise StateError(f"{path}: cannot read it ({err})") from err
    return Record.from_json(text, str(path))


def write_record(paths: Paths, record: Record) -> None:
    write_private(paths, RECORD, record.to_json())


def write_private(paths: Paths, path: str, text: str) -> None:
    """`path` under the root replaced whole and synced, root's only."""
    paths.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = paths.at(path)
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)


def is_done(paths: Paths) -> bool:
    return paths.at(DONE).exists()


def provision_state(paths: Paths, has_provision: bool, record: Record | None, alive=process_alive) -> str:
    """none | pending | running | interrupted | failed | succeeded."""
    if is_done(paths):
        return "succeeded"
    if record is None:
        return "pending" if has_provision else "none"
    if record.state == "running":
        return "running" if record.pid is not None and alive(record.pid) else "interrupted"
    return record.state
