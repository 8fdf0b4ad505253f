"""The one line about provisioning that the console shows above its login prompt, while it runs and after it ended.

agetty prints /etc/issue, then the *.issue files of /etc/issue.d, then /run/issue and /run/issue.d/*.issue
(util-linux's agetty.c, eval_issue_file; before 2.41 /run was read only without /etc/issue, util-linux PR 3291;
Debian 13 ships 2.41.5). The line goes to /run/issue.d: it
describes this boot, and /run is empty again after a reboot. A boot after success runs nothing and shows nothing;
a boot after a failure starts the unit only to say so, which shows the FAILED line again. `agetty --reload` makes
a prompt that is already on screen print itself again with the new line.

agetty expands backslash escapes in issue files (\\n is the host name, ...), so a backslash is doubled; control
characters are dropped and the line is cut to fit an 80-column console (a failure's to two rows of it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from .layout import Paths
from .provision.steps import ProvisionStep

ISSUE = "/run/issue.d/50-keel-provision.issue"
WIDTH = 78
FAILED_WIDTH = 2 * WIDTH        # a failure's reason may take a second row: what failed, and how
STATUS_HINT = " (keel-firstboot status)"


def _fit(text: str, room: int) -> str:
    text = " ".join("".join(c if c.isprintable() else " " if c.isspace() else "" for c in text).split())
    return text if len(text) <= room else text[:max(room - 3, 0)] + "..."


def step_line(n: int, total: int, step: ProvisionStep) -> str:
    """"provisioning: joining cluster rack1 (2/5)", "provisioning: storage tank: create ZFS pool ... (3/7)"."""
    counter = f" ({n}/{total})"
    head = "provisioning: "
    what = f"joining {step.subject}" if step.kind == "join" else f"{step.subject}: {step.summary}"
    return head + _fit(what, WIDTH - len(head) - len(counter)) + counter


def done_line() -> str:
    return "provisioning: done"


def failed_line(reason: str) -> str:
    head = "provisioning FAILED: "
    return head + _fit(reason, FAILED_WIDTH - len(head) - len(STATUS_HINT)) + STATUS_HINT


def issue_text(line: str) -> str:
    """The issue file for `line`: printable, one line, backslashes doubled for agetty."""
    return _fit(line, FAILED_WIDTH).replace("\\", "\\\\") + "\n"


@dataclass
class ConsoleStatus:
    """Writes the line under `paths` and asks agetty to show it (`reload`: `agetty --reload`, through the runner).

    The console is a courtesy: a line that cannot be written never stops provisioning.
    """

    paths: Paths
    reload: Callable[[], object]
    last: str | None = None

    def show(self, line: str) -> None:
        if line == self.last:
            return
        target = self.paths.at(ISSUE)
        try:
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            try:
                os.fchmod(fd, 0o644)
                os.write(fd, issue_text(line).encode())
            finally:
                os.close(fd)
            os.replace(tmp, target)
            self.last = line
            self.reload()
        except OSError:
            return
