"""Running the provision steps (`keel-firstboot provision`): each in order, skipped when it is already true, else
run, retried with backoff until its deadline, and recorded in provision.json after every change.

A step is already true when its checks say so (steps.py), so a power cut at any point is followed by a clean
re-run: the steps done before it are skipped, the one cut short is checked again. A failure is retried after 1 s,
then 2, 4, ... up to 60 s between attempts, until the step's deadline (30 min for a join, 5 min otherwise; a
Timing in tests); then the run stops, failed, with the step and its last error as the reason. A failed run is not
run again by itself: `keel-firstboot retry` re-arms it. After every step succeeded the done marker is written and
nothing runs again, not even after a reboot.

Commands go through the one runner (runner.py); the provision secrets (the cluster secret, the cifs password, the
rbd and cephfs keyrings, the mail relay password) are redacted from the log and the record, and file contents are
never logged. The join step calls the join client (keel_firstboot.join): a peer that is not up yet is retried like
a failed command, a peer that does not hold the cluster secret (or refuses this node) fails the step at once.

keel-provision.service runs this once at first boot (post-install/systemd); `keel-firstboot provision` runs it by hand.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..layout import Paths
from ..runner import CHECK_TIMEOUT, CommandFailed, Runner
from .model import ProvisionDoc
from .record import DONE, Record, StepRecord, write_private, write_record
from .steps import Facts, ProvisionStep

JOIN_NOT_IMPLEMENTED = "cluster join is not available here (no join client was given)"
BLKID_NOTHING_FOUND = 2


@dataclass(frozen=True)
class Timing:
    deadline: float = 300.0          # seconds a step may keep failing before the run stops
    join_deadline: float = 1800.0    # a join waits longer: its peer may still be installing
    first_delay: float = 1.0
    max_delay: float = 60.0


TIMING = Timing()


class StepError(Exception):
    """A step that cannot succeed by retrying (a join peer without the cluster secret, a disk that is not blank)."""


def secrets_of(doc: ProvisionDoc) -> list[str | None]:
    """What the log and the record must never hold: each secret whole, and a keyring's key alone too."""
    relay = doc.services.mail_relay if doc.services else None
    keys = [line.split("=", 1)[1].strip() for s in doc.storage for line in (s.keyring or "").splitlines()
            if line.strip().startswith("key") and "=" in line]
    users = doc.services.users if doc.services else ()
    return [doc.cluster.cluster_secret if doc.cluster else None, relay.password if relay else None,
            *(s for storage in doc.storage for s in (storage.password, storage.keyring)), *keys,
            *(user.password_hashed for user in users)]


@dataclass
class Executor:
    paths: Paths
    runner: Runner
    say: Callable[[str], None]                  # a line for people: stdout and the log
    now: Callable[[], str]                      # ISO 8601 time for the record
    timing: Timing = TIMING
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    progress: Callable[[int, int, ProvisionStep], None] = lambda n, total, step: None   # a step begins (feedback)
    # the join client (keel_firstboot.join.client.join_cluster, bound to the answer): a peer not up yet raises
    # an OSError (retried), a peer without the secret a StepError (not)
    join: Callable[[], object] | None = None

    def run(self, steps: list[ProvisionStep], previous: Record | None) -> Record:
        """Run what is not done yet; the returned record says "succeeded" or "failed"."""
        record = Record("running", runs=(previous.runs if previous else 0) + 1, started=self.now(), pid=os.getpid(),
                        steps=_step_records(steps, previous))
        write_record(self.paths, record)
        self.say(f"provisioning: {len(steps)} steps, run {record.runs}")
        for n, (step, rec) in enumerate(zip(steps, record.steps, strict=True), 1):
            if rec.state in ("done", "skipped"):
                continue
            title = f"({n}/{len(steps)}) {step.subject}: {step.summary}"
            if self._true(step):
                rec.state, rec.finished = ("skipped" if rec.attempts == 0 else "done"), self.now()
                self.say(f"{title}: already done, skipped")
                write_record(self.paths, record)
                continue
            self.say(title)
            self.progress(n, len(steps), step)
            error = self._attempt(step, steps, rec, record)
            if error is not None:
                rec.state, rec.finished, rec.last_error = "failed", self.now(), error
                record.state, record.finished, record.pid = "failed", self.now(), None
                record.reason = f"step {n}/{len(steps)}, {step.subject}: {step.summary}: {error}"
                write_record(self.paths, record)
                self.say(f"FAILED: {record.reason}")
                return record
        record.state, record.finished, record.pid, record.reason = "succeeded", self.now(), None, None
        write_record(self.paths, record)
        write_private(self.paths, DONE, f"{record.finished}\n")
        self.say("provisioning succeeded; it does not run again")
        return record

    def _attempt(self, step: ProvisionStep, steps: list[ProvisionStep], rec: StepRecord, record: Record
                 ) -> str | None:
        """None when the step succeeded, else the last error."""
        deadline = self.clock() + (self.timing.join_deadline if step.kind == "join" else self.timing.deadline)
        delay = self.timing.first_delay
        while True:
            rec.attempts += 1
            rec.started = rec.started or self.now()
            write_record(self.paths, record)
            try:
                if rec.attempts == 1:
                    # only before the first attempt ever: later, what is on the disks may be this step's own work
                    self._guard(step, steps)
                self._act(step)
            except StepError as err:
                return self.runner.redact(str(err))
            except (CommandFailed, OSError) as err:
                rec.last_error = self.runner.redact(str(err))
                write_record(self.paths, record)
                if self.clock() + delay > deadline:
                    return rec.last_error
                self.say(f"  attempt {rec.attempts} failed: {rec.last_error}; again in {delay:g} s")
                self.sleep(delay)
                delay = min(delay * 2, self.timing.max_delay)
                if self._true(step):
                    break
                continue
            break
        rec.state, rec.finished = "done", self.now()
        write_record(self.paths, record)
        return None

    def _true(self, step: ProvisionStep) -> bool:
        if step.kind == "run":
            return bool(step.checks) and all(
                self.runner.run(check, timeout=CHECK_TIMEOUT, check=False).code == 0 for check in step.checks)
        if step.kind == "write":
            target = self.paths.at(step.path)
            try:
                return target.read_text() == step.text and (target.stat().st_mode & 0o7777) == step.mode
            except (OSError, UnicodeDecodeError):
                return False
        if step.kind == "register":
            return _storage_id(step) in Facts.of(self.paths.root).registered_storage
        return step.done

    def _guard(self, step: ProvisionStep, steps: list[ProvisionStep]) -> None:
        """The first step of a storage that writes its disks runs only on blank disks (the install's guard, again:
        something may have written them since the install). A step cut short and run again is not refused for
        what it wrote itself: the guard is for its first attempt."""
        first = next((s for s in steps if s.subject == step.subject and s.devices), None)
        if first is not step:
            return
        for device in step.devices:
            probe = self.runner.run(("blkid", "--probe", device), timeout=CHECK_TIMEOUT, check=False)
            if probe.code != BLKID_NOTHING_FOUND:
                found = probe.output.strip() or f"blkid exit status {probe.code}"
                raise StepError(f"{device} is not blank ({found}); it is left alone")

    def _act(self, step: ProvisionStep) -> None:
        if step.kind == "run":
            self.runner.run(step.argv)
        elif step.kind == "write":
            self.runner.log(f"write {step.path} ({step.mode:04o})")
            write_file(self.paths.at(step.path), step.text, step.mode)
        elif step.kind == "register":
            self.runner.log(f"append {_storage_id(step)} to {step.path}")
            _append_stanza(self.paths.at(step.path), step.text)
        elif step.kind == "join":
            if self.join is None:
                raise StepError(JOIN_NOT_IMPLEMENTED)
            self.join()
        else:
            raise StepError(f"keel-firstboot cannot run a {step.kind!r} step")


def _step_records(steps: list[ProvisionStep], previous: Record | None) -> list[StepRecord]:
    """The earlier run's records when it was for these same steps (a re-run after a power cut or a retry), the
    failed one pending again; else new ones."""
    fresh = [StepRecord(n, s.subject, s.summary) for n, s in enumerate(steps, 1)]
    if previous is None or [(r.subject, r.summary) for r in previous.steps] != [(r.subject, r.summary)
                                                                               for r in fresh]:
        return fresh
    for rec in previous.steps:
        if rec.state == "failed":
            rec.state, rec.finished = "pending", None
    return previous.steps


def _storage_id(step: ProvisionStep) -> str:
    """The id of a storage.cfg stanza ("zfspool: tank" -> "tank")."""
    return step.text.split("\n", 1)[0].split(":", 1)[1].strip()


def write_file(target: Path, text: str, mode: int) -> None:
    target.parent.mkdir(mode=0o700 if mode & 0o077 == 0 else 0o755, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.keel-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)


def _append_stanza(cfg: Path, stanza: str) -> None:
    """storage.cfg gets the stanza after a blank line, as Proxmox separates them."""
    try:
        existing = cfg.read_text()
    except FileNotFoundError:
        existing = ""
    cfg.parent.mkdir(parents=True, exist_ok=True)
    sep = "" if not existing or existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
    with cfg.open("a") as f:
        f.write(sep + stanza.rstrip("\n") + "\n")
        f.flush()
        os.fsync(f.fileno())
