"""What people and servers see of a provision run: the console's status line (console.py) and the reports to
keel-server or the webhook (report.py), fed by the executor's progress and the run's end. Neither ever stops
provisioning: a line that cannot be written or a report that cannot be sent is a line in the log, no more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..console import ConsoleStatus, done_line, failed_line, step_line
from ..layout import Paths
from ..report import Reporter, load
from .record import Record
from .steps import ProvisionStep


@dataclass
class Feedback:
    console: ConsoleStatus
    reporter: Reporter | None = None

    @classmethod
    def start(cls, paths: Paths, host: str, say: Callable[[str], None], redact: Callable[[str], str],
              reload: Callable[[], object], reporter_options: dict | None = None) -> Feedback:
        """The console line, and a reporter when the installer left /etc/keel/report.json (a problem with it is
        said through `say`, and provisioning goes on unreported)."""
        target, problem = load(paths)
        if problem:
            say(f"reports: {problem}; provisioning goes on unreported")
        reporter = None
        if target is not None:
            reporter = Reporter(target, host, warn=say, redact=redact, **(reporter_options or {}))
            say(f"reporting provisioning to {target.shown}")
        return cls(ConsoleStatus(paths, reload), reporter)

    def step(self, n: int, total: int, step: ProvisionStep) -> None:
        line = step_line(n, total, step)
        self.console.show(line)
        if self.reporter is not None:
            self.reporter.progress(line.removeprefix("provisioning: "))

    def end(self, record: Record) -> None:
        if record.state == "succeeded":
            self.console.show(done_line())
            if self.reporter is not None:
                self.reporter.ready(f"provisioning succeeded ({len(record.steps)} steps, run {record.runs})")
            return
        reason = record.reason or "unknown"
        self.console.show(failed_line(reason))
        if self.reporter is not None:
            self.reporter.failed(f"provisioning failed: {reason}",
                                 f"{reason}\n'keel-firstboot status' shows each step; 'keel-firstboot retry' "
                                 "re-arms it")
