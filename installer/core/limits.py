"""Bounds on the text Keel parses from outside (answer files, hardware profiles, configs, answer-server replies).

They are checked before parsing. Python's TOML and JSON parsers recurse once per nesting level (arrays nested a
thousand deep are a RecursionError) and tomllib handles a dotted key in time quadratic in its parts (20,000
parts, 40 KB, take half a minute), so without these bounds a small file could crash or stall the installer.
Keel's own documents are a few KiB and at most five levels deep; the bounds are far above that.
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_INPUT_BYTES = 1024 * 1024
MAX_DEPTH = 32          # arrays and tables inside each other, and the parts of one dotted key

TOO_LARGE = f"too large: more than {MAX_INPUT_BYTES // 1024 // 1024} MiB"

# What the scanner stops at: string and comment openers, runs of brackets, the dots of a dotted key (with the
# bare key parts between them) and what ends a key.
_SPECIAL = re.compile(r'"""|\'\'\'|["\'#=,\n]|[\[{]+|[\]}]+|(?:\.[ \t]*[\w-]*[ \t]*)+')
_BASIC_REST = re.compile(r'(?:[^"\\\n]|\\.)*')


class InputLimitError(ValueError):
    """A file is too large or not UTF-8 text; the message says which, without the file's name."""


def read_text(path: str | Path) -> str:
    """A file's UTF-8 text, reading at most MAX_INPUT_BYTES + 1 bytes (a device or a huge file is refused, not
    read into memory). OSError when it cannot be read, InputLimitError when it is too large or not UTF-8."""
    with open(path, "rb") as file:
        data = file.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputLimitError(TOO_LARGE)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise InputLimitError(f"not UTF-8 text (byte {err.start + 1}, line {line})") from err


def text_problem(text: str) -> str | None:
    """Why a TOML or JSON text must not be parsed, or None: more than MAX_INPUT_BYTES characters, brackets
    nested more than MAX_DEPTH deep, or a dotted key of more than MAX_DEPTH parts (strings and comments skipped).

    JSON is scanned as TOML: its strings are TOML basic strings, and what the two read differently ('#', "'",
    '\"\"\"') is invalid JSON, where json.loads stops before it could nest any deeper."""
    if len(text) > MAX_INPUT_BYTES:
        return TOO_LARGE
    depth = dots = 0
    pos = 0
    while match := _SPECIAL.search(text, pos):
        token, pos = match[0], match.end()
        if token in ('"""', "'''"):
            pos = _after_multiline(text, pos, token)
        elif token == '"':
            end = _BASIC_REST.match(text, pos)
            pos = end.end() + 1 if end else pos
        elif token in ("'", "#"):
            pos = _line_end(text, pos, "'" if token == "'" else None)
        elif token[0] in "[{":
            depth, dots = depth + len(token), 0
            if depth > MAX_DEPTH:
                return f"nested too deeply: more than {MAX_DEPTH} levels at line {_line(text, pos)}"
        elif token[0] in "]}":
            depth, dots = max(depth - len(token), 0), 0
        elif token[0] == ".":
            dots += token.count(".")
            if dots >= MAX_DEPTH:
                return f"a dotted key is too long: more than {MAX_DEPTH} parts at line {_line(text, pos)}"
        else:
            dots = 0
    return None


def _after_multiline(text: str, pos: int, quote: str) -> int:
    """Where a multi-line string that opened before `pos` ends (escaped quotes count in basic strings only)."""
    while True:
        end = text.find(quote, pos)
        if end < 0:
            return len(text)
        backslashes = len(text[pos:end]) - len(text[pos:end].rstrip("\\"))
        if quote == "'''" or backslashes % 2 == 0:
            end += 3
            # up to two more quotes belong to the content: '''it''''' ends after all five
            for _ in range(2):
                if text.startswith(quote[0], end):
                    end += 1
            return end
        pos = end + 1


def _line_end(text: str, pos: int, closing: str | None) -> int:
    """After a literal string (closed by `closing` or the end of its line) or a comment (the end of its line)."""
    newline = text.find("\n", pos)
    newline = len(text) if newline < 0 else newline
    if closing:
        end = text.find(closing, pos, newline)
        if end >= 0:
            return end + 1
    return newline


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1
