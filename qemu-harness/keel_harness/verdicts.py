"""The installer's console lines that tell how an install goes: each phase as it starts, then one verdict.

The texts are the installer's own: the engine's error and finished events (installer/engine/engine.py, and
install.py's refusal) as core/events.ConsoleSink prints them, and `keel-installer auto`'s refusal and reboot
lines (installer/frontends/auto.py). The demo and every e2e test read them from here, so the installer's
wording has one place on this side too.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .machine import Machine


class Outcome(enum.Enum):
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    REFUSED = "refused"  # stopped before the first write: the answer or the machine did not pass the checks


# The first line with one of these decides. A failure's verdict is its ERROR line ("ERROR: Installation failed in
# phase 'Creating volumes': command failed: ..."), which names the phase; the command, its output tail and
# "full log: ..." follow it. Unanchored, so they also find the wizard's finish screen, which draws its title
# with cursor moves instead of lines (use them with Machine.wait_for_any there).
VERDICTS: dict[Outcome, str] = {
    Outcome.FINISHED: r"Installation finished",
    Outcome.FAILED: r"Installation failed",
    Outcome.INTERRUPTED: r"Installation interrupted",
    Outcome.REFUSED: r"Nothing was written to any disk",
}
# "[ 17%] Extracting the base system" starts a phase; "[ 22%] Extracting the base system: /usr/lib/..." is
# progress within it and "       Partitioning /dev/sda" a detail.
PHASE = r"^\[\s*\d+%\] [^:]+$"
# After "Installation finished" and a countdown, the installer reboots (the answers the tests use keep the
# default reboot-mode).
REBOOTING = r"^Rebooting now\b"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    line: str  # the console line it was read from


def wait_for_verdict(
    machine: Machine, timeout: float, on_phase: Callable[[str], None] | None = None
) -> Verdict:
    """Read the console line by line until the installer's verdict; `on_phase` gets each phase line before it."""
    outcomes = list(VERDICTS)
    patterns = [VERDICTS[outcome] for outcome in outcomes] + ([PHASE] if on_phase else [])
    deadline = time.monotonic() + timeout
    while True:
        index, match = machine.wait_for_line(patterns, timeout=max(1.0, deadline - time.monotonic()))
        if index == len(outcomes) and on_phase is not None:
            on_phase(match.string)
            continue
        return Verdict(outcomes[index], match.string)


def wait_for_finish_screen(machine: Machine, timeout: float) -> Outcome:
    """The wizard's verdict: the title of its finish screen, found in the drawn screen rather than in lines."""
    index, _ = machine.wait_for_any(list(VERDICTS.values()), timeout=timeout)
    return list(VERDICTS)[index]
