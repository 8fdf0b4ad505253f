"""Rendering a profile's answer template for one machine, and checking the result before it leaves.

The whole answer is a Jinja2 template, rendered in Jinja's sandbox with StrictUndefined (a misspelt variable is
an error, not an empty string). The variables:

- `machine`: `id` (the server's number for it), `number` (its ordinal among the machines this profile answered,
  from 1, kept across reinstalls: `{{ "node%02d" | format(machine.number) }}`), `installs` (answers sent to it,
  this one included), `macs` (lower case, as sent), `mac` (the first), `serial`, `uuid`, `labels` (a dict).
- `profile`: `name`, `priority`.
- `address`: the machine's address from the profile's pool: `address`, `cidr` ("10.0.0.5/24"), `prefix`,
  `netmask`, `gateway`, `dns`, `pool`; undefined when the profile has no pool.
- `server`: `url` (the public base URL), `fingerprint`, `answer_url`.
- `sysinfo`: the POSTed system information as sent (`sysinfo.dmi.system.name`, ...).

Then: the text must be TOML; a `root-password` is replaced by its SHA-512 crypt hash; unless the answer has its
own, `[post-installation-webhook]` is added (the server's webhook URL, fingerprint and the per-install token);
and the result must pass Keel's validator (answerfile) — against the machine's HardwareProfile when it sent one,
else the offline checks `keel-answer validate` runs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import jinja2
import tomli_w
from jinja2.sandbox import SandboxedEnvironment

import answerfile
from installer.core.hardware import HardwareProfile
from keel_server.passwords import hash_answer_passwords

WEBHOOK_SECTIONS = ("post-installation-webhook", "posthook")


class RenderError(ValueError):
    """A template that does not render to a valid answer; `problems` says each thing wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


def template_problem(template: str) -> str | None:
    """A template's syntax error, in one line; None when it parses."""
    try:
        environment().parse(template)
    except jinja2.TemplateSyntaxError as err:
        return f"line {err.lineno}: {err.message}"
    return None


@dataclass(frozen=True)
class Answer:
    text: str                 # TOML, as served
    data: dict[str, Any]      # the same answer as a JSON object


def render(template: str, variables: dict[str, Any]) -> str:
    try:
        return environment().from_string(template).render(**variables)
    except jinja2.TemplateError as err:
        where = f"line {err.lineno}: " if isinstance(err, jinja2.TemplateSyntaxError) else ""
        raise RenderError([f"template: {where}{err.message or err}"]) from err


def build_answer(template: str, variables: dict[str, Any], webhook: dict[str, str],
                 hardware: HardwareProfile | None) -> Answer:
    """The answer a machine gets, or RenderError with every problem."""
    text = render(template, variables)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RenderError([f"the rendered template is not TOML: {err}"]) from err
    if hash_answer_passwords(data):
        text = tomli_w.dumps(data)
    if not any(section in data for section in WEBHOOK_SECTIONS):
        data["post-installation-webhook"] = dict(webhook)
        text = text.rstrip("\n") + "\n\n" + tomli_w.dumps({"post-installation-webhook": webhook})
    problems = validation_problems(text, hardware)
    if problems:
        raise RenderError(problems)
    return Answer(text, data)


def validation_problems(text: str, hardware: HardwareProfile | None) -> list[str]:
    """Keel's validator over the answer: resolved on the machine's hardware when known, else offline checks."""
    if hardware is not None:
        try:
            answerfile.resolve_text(text, hardware, unattended=True)
        except answerfile.AnswerError as err:
            return [_problem(p) for p in err.problems]
        return []
    problems, _warnings = answerfile.validate_text(text, None, unattended=True)
    return [_problem(p) for p in problems]


def _problem(problem: answerfile.AnswerProblem) -> str:
    return f"{problem.key}: {problem.message}" if problem.key else problem.message

