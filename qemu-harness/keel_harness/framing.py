"""Framing of shell commands over a serial console, so output and exit status survive echo and kernel noise.

A command goes to the guest base64-encoded (no quoting issues, and its text never appears literally on the
console); its output comes back base64-encoded between two markers, followed by the exit status. The markers
carry a per-command nonce and are printed with printf from split parts, so the echoed command line can never
match them. Lines between the markers that are not pure base64 (interleaved kernel messages) are dropped.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass

_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class FramingError(RuntimeError):
    """The console text between a command's markers could not be decoded."""


@dataclass(frozen=True)
class Framed:
    """One command ready to send, and the regexes that find its reply on the console."""

    nonce: str
    line: str

    @property
    def begin_marker(self) -> str:
        return f"__KEEL_BEGIN_{self.nonce}__"

    @property
    def end_pattern(self) -> str:
        return rf"__KEEL_RC_{self.nonce}=(\d+)__"


def new_nonce() -> str:
    return secrets.token_hex(6)


def frame_command(command: str, nonce: str, shell: str = "bash", out_file: str = "/tmp/.keel-harness-out") -> Framed:
    """The one line to type into the guest's shell to run `command` with framed output."""
    if not re.fullmatch(r"[0-9a-f]{4,32}", nonce):
        raise ValueError(f"nonce {nonce!r} must be 4-32 lowercase hex digits")
    encoded = base64.b64encode(command.encode()).decode()
    line = (
        f'{shell} -c "$(echo {encoded} | base64 -d)" </dev/null >{out_file} 2>&1; __r=$?; '
        f"printf '__KEEL_%s_%s__\\n' BEGIN {nonce}; base64 -w 64 {out_file}; "
        f"printf '__KEEL_%s_%s=%d__\\n' RC {nonce} $__r"
    )
    return Framed(nonce, line)


def setup_line(nonce: str) -> str:
    """What to type into a fresh shell: no echo, no colours or pagers, quiet kernel console, then a marker."""
    return (
        "stty -echo; export TERM=dumb PAGER=cat SYSTEMD_PAGER= SYSTEMD_COLORS=0; PS1='keel$ '; "
        f"dmesg -n 1 2>/dev/null; printf '__KEEL_%s_%s__\\n' SHELL {nonce}"
    )


def shell_ready_pattern(nonce: str) -> str:
    return rf"__KEEL_SHELL_{nonce}__"


def parse_reply(console_text: str, nonce: str) -> tuple[int, str]:
    """Exit status and output of the command framed with `nonce`, from console text holding both markers."""
    begin = f"__KEEL_BEGIN_{nonce}__"
    end = re.search(rf"__KEEL_RC_{nonce}=(\d+)__", console_text)
    start = console_text.rfind(begin, 0, end.start() if end else len(console_text))
    if end is None or start < 0:
        raise FramingError(f"markers for command {nonce} not found in the console text")
    body = console_text[start + len(begin) : end.start()]
    lines = [line.strip() for line in body.replace("\r", "\n").split("\n")]
    payload = "".join(line for line in lines if line and _BASE64_LINE.match(line))
    try:
        output = base64.b64decode(payload, validate=True).decode(errors="replace")
    except (binascii.Error, ValueError) as err:
        raise FramingError(f"output of command {nonce} is garbled on the console ({err}): {body[:400]!r}") from err
    return int(end.group(1)), output
