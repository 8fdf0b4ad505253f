"""Serial console output as clean lines: bytes or text, in whatever chunks they arrive, to the lines a person reads.

A line the guest prints reaches the harness ending in "\\r\\r\\n": the guest's tty turns "\\n" into "\\r\\n", and
the pty QEMU writes its stdio to does the same again. Kernel and systemd lines carry colour escapes, and systemd
redraws its status line with a bare "\\r". A line is complete only at its "\\n", so a chunk that ends inside a
line, an escape sequence or a UTF-8 character keeps that part for the next chunk.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

# Terminal escape sequences: CSI (colours, cursor moves, modes; "38:5:185" colours use colons), OSC (titles),
# character-set designations, and the two-character ones (keypad modes, cursor save/restore, resets).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[()*+][0-9A-Za-z]"
    r"|\x1b[=>78cDEHMZ]"
)
# Control characters left after the escapes: bell, backspace, shift-in/out, NUL padding... (not \t or \r).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_line(raw: str) -> str:
    """One console line (without its "\\n") as a terminal shows it: no escapes, no line ending, and of a line
    redrawn after a bare "\\r" only its last drawing."""
    text = _CONTROLS.sub("", _ESCAPES.sub("", raw)).rstrip("\r")
    return text.rsplit("\r", 1)[-1]


class ConsoleLines:
    """Reads console output chunk by chunk and hands out each line once it is complete.

    `feed()` takes bytes (decoded as UTF-8, a character split between chunks included) or text; `lines()` yields
    the complete lines in order, each consumed as it is yielded; `pending` is the raw text not handed out yet
    (so a reader that stops early can give the rest back to whoever reads the console next).
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes | str) -> None:
        self._pending += self._decoder.decode(data) if isinstance(data, bytes) else data

    @property
    def pending(self) -> str:
        return self._pending

    def lines(self, final: bool = False) -> Iterator[str]:
        """The complete lines so far; with `final` (the output has ended), also an unterminated last line."""
        while (end := self._pending.find("\n")) >= 0:
            raw, self._pending = self._pending[:end], self._pending[end + 1 :]
            yield clean_line(raw)
        if final:
            raw, self._pending = self._pending + self._decoder.decode(b"", final=True), ""
            if raw:
                yield clean_line(raw)


def console_lines(data: bytes | str) -> list[str]:
    """All lines of a finished console output (a console.log, a recorded excerpt), the last one even unterminated."""
    reader = ConsoleLines()
    reader.feed(data)
    return list(reader.lines(final=True))
