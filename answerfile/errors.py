"""The answer-file error type: every problem found, each naming its key, plus the warnings that went with them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AnswerProblem:
    """One thing wrong with (or worth warning about in) an answer: the key path it concerns and what is wrong.
    `strict` marks a warning that strict validation counts as a problem: a value Proxmox accepts as written
    though it is most likely a mistake (an SSH key or password hash that cannot work)."""

    key: str          # "disk-setup.zfs.raid"; "" for the file as a whole
    message: str      # "ZFS RAIDZ-2 needs at least 4 disks, got 3"
    strict: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class AnswerError(Exception):
    """An answer that cannot be used; `problems` lists every reason at once, `warnings` what else was noticed."""

    def __init__(self, problems: list[AnswerProblem], warnings: list[AnswerProblem] | None = None):
        self.problems = list(problems)
        self.warnings = list(warnings or [])
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
