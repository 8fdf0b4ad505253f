"""The interface the rest of Keel uses for answer files (re-exported by the `answerfile` package):

- `load_install_config(path, hardware, unattended=True) -> InstallConfig` and
  `parse_install_config(text, hardware, unattended=True) -> InstallConfig` raise `AnswerError`, whose
  `.problems` lists every problem at once (each an `AnswerProblem(key, message)`) and `.warnings` the warnings.
- `resolve_text(text, hardware, unattended=True) -> Resolution` gives the config together with the warnings
  (deprecated snake_case keys, MACs not on this machine, disks of a disk-list that are not there);
  `resolve_data(dict, hardware)` the same for an answer that arrived as JSON.
- `validate_text(text, hardware=None) -> (problems, warnings)`: without hardware only the offline checks.
- `strict=True` (validate_text, resolve_text, resolve_data) counts as problems the warnings marked `strict`:
  values Proxmox accepts as written though they cannot work (an SSH key or password hash of the wrong shape).
- `installer.core.checks` holds the per-value checks the wizard shares (fqdn, email, password, cidr, ip,
  timezone, keyboard, country, pin names); `installer.core.rules` the disk-selection rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from answerfile.errors import AnswerError, AnswerProblem
from answerfile.parse import Collector, ParseResult, in_file_order, parse_data, parse_text
from answerfile.resolve import resolve
from installer.core import limits
from installer.core.config import InstallConfig
from installer.core.hardware import HardwareProfile

__all__ = [
    "AnswerError",
    "AnswerProblem",
    "Resolution",
    "load_install_config",
    "parse_install_config",
    "read_answer_file",
    "resolve_data",
    "resolve_text",
    "validate_text",
]


@dataclass(frozen=True)
class Resolution:
    config: InstallConfig
    warnings: list[AnswerProblem]


def _check(parsed: ParseResult, hardware: HardwareProfile | None, unattended: bool, strict: bool) -> tuple[
        InstallConfig | None, list[AnswerProblem], list[AnswerProblem]]:
    out = Collector()
    out.problems, out.warnings = list(parsed.problems), list(parsed.warnings)
    if strict:
        out.problems += [w for w in out.warnings if w.strict]
        out.warnings = [w for w in out.warnings if not w.strict]
    config = None
    if parsed.answer is not None and hardware is not None:
        config = resolve(parsed.answer, hardware, unattended=unattended, out=out)
    return config, in_file_order(out.problems), in_file_order(out.warnings)


def _result(config: InstallConfig | None, problems: list[AnswerProblem],
            warnings: list[AnswerProblem]) -> Resolution:
    if problems or config is None:
        raise AnswerError(problems or [AnswerProblem("", "the answer could not be resolved")], warnings)
    return Resolution(config, warnings)


def validate_text(text: str, hardware: HardwareProfile | None = None, *, unattended: bool = True,
                  strict: bool = False) -> tuple[list[AnswerProblem], list[AnswerProblem]]:
    """Every problem and warning in an answer; with `hardware`, also whether it resolves on that machine."""
    _, problems, warnings = _check(parse_text(text, offline_counts=hardware is None), hardware, unattended, strict)
    return problems, warnings


def resolve_text(text: str, hardware: HardwareProfile, *, unattended: bool = True, strict: bool = False) -> Resolution:
    """The InstallConfig an answer gives on `hardware`, with its warnings; AnswerError lists every problem."""
    return _result(*_check(parse_text(text, offline_counts=False), hardware, unattended, strict))


def resolve_data(data: Mapping[str, Any], hardware: HardwareProfile, *, unattended: bool = True,
                 strict: bool = False) -> Resolution:
    """Like resolve_text for an answer that arrived as JSON (an answer server's application/json reply)."""
    if not isinstance(data, Mapping):
        raise AnswerError([AnswerProblem("", f"an answer must be a JSON object, got {type(data).__name__}")])
    return _result(*_check(parse_data(data, offline_counts=False), hardware, unattended, strict))


def parse_install_config(text: str, hardware: HardwareProfile, *, unattended: bool = True) -> InstallConfig:
    return resolve_text(text, hardware, unattended=unattended).config


def read_answer_file(path: str | Path) -> str:
    """An answer file's text, or AnswerError naming the file when it cannot be read, is larger than
    `installer.core.limits.MAX_INPUT_BYTES` (it is not read further) or is not UTF-8."""
    try:
        return limits.read_text(path)
    except (OSError, limits.InputLimitError) as err:
        reason = err.strerror if isinstance(err, OSError) else str(err)
        raise AnswerError([AnswerProblem("", f"{path}: cannot read the answer file ({reason})")]) from err


def load_install_config(path: str | Path, hardware: HardwareProfile, *, unattended: bool = True) -> InstallConfig:
    return parse_install_config(read_answer_file(path), hardware, unattended=unattended)
