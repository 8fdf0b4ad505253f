"""Turn Keel's frozen dataclasses into plain JSON values and back, driven by their type hints."""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from installer.core import limits

T = TypeVar("T")

# Every integer in Keel's documents (sizes in bytes, MiB, indexes) fits in 64 bits; a larger one is a broken file.
INT64 = (-(2**63), 2**63 - 1)


class DecodeError(ValueError):
    """A JSON document does not have the shape of the dataclass it is decoded into. The message is one line: a
    line break or other control character from the document (a key, a value) is escaped."""

    def __init__(self, message: str) -> None:
        if not message.isprintable():
            message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        super().__init__(message)


def to_data(value: Any) -> Any:
    """A dataclass (or enum, tuple, dict, scalar) as plain JSON-compatible data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def from_data(cls: type[T], data: Any, path: str = "") -> T:
    """Build `cls` from plain data, checking types; unknown keys are an error naming their path."""
    return _decode(cls, data, path or cls.__name__)


def to_json(value: Any, indent: int | None = 2) -> str:
    return json.dumps(to_data(value), indent=indent, sort_keys=False)


def from_json(cls: type[T], text: str) -> T:
    """Decode `cls` from JSON text; DecodeError for anything else, also text beyond `installer.core.limits`."""
    if problem := limits.text_problem(text):
        raise DecodeError(problem)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DecodeError(f"not valid JSON: {err}") from err
    except ValueError as err:  # Python's limit on int() of a string
        raise DecodeError(f"not valid JSON: a number of more than {sys.get_int_max_str_digits()} digits") from err
    return from_data(cls, data)


def load(cls: type[T], path: str | Path) -> T:
    """Decode `cls` from a JSON file: OSError when it cannot be read, DecodeError when it is too large, not UTF-8
    or not the shape of `cls`."""
    try:
        text = limits.read_text(path)
    except limits.InputLimitError as err:
        raise DecodeError(str(err)) from err
    return from_json(cls, text)


class FileError(Exception):
    """A file named on a command line cannot be used: one line naming the file and what is wrong with it."""


def load_file(cls: type[T], path: str | Path, what: str) -> T:
    """`load`, with both ways to fail as one FileError that names the file and `what` it should hold."""
    try:
        return load(cls, path)
    except OSError as err:
        raise FileError(f"{path}: cannot read the {what} ({err.strerror or err})") from err
    except DecodeError as err:
        raise FileError(f"{path}: not a valid {what}: {err}") from err


def _decode(tp: Any, data: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, data, path)
            except DecodeError as err:
                errors.append(str(err))
        raise DecodeError(errors[0] if len(errors) == 1 else f"{path}: no variant of {tp} fits {_shown(data)}")
    if origin is typing.Literal:
        if data not in args:
            raise DecodeError(f"{path}: expected one of {', '.join(map(repr, args))}, got {_shown(data)}")
        return data
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise DecodeError(f"{path}: expected an object, got {type(data).__name__}")
        hints = typing.get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
        unknown = set(data) - set(fields)
        if unknown:
            names = sorted(unknown)
            more = f", ... ({len(names)} in all)" if len(names) > 5 else ""
            raise DecodeError(f"{path}: unknown key(s) {', '.join(_cut(n) for n in names[:5])}{more}")
        kwargs = {}
        for name, field in fields.items():
            if name in data:
                kwargs[name] = _decode(hints[name], data[name], f"{path}.{name}")
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise DecodeError(f"{path}.{name}: missing")
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError as err:
            choices = ", ".join(repr(m.value) for m in tp)
            raise DecodeError(f"{path}: expected one of {choices}, got {_shown(data)}") from err
    if origin is tuple:
        if not isinstance(data, list):
            raise DecodeError(f"{path}: expected a list, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        return tuple(_decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True)))
    if origin is dict:
        if not isinstance(data, dict):
            raise DecodeError(f"{path}: expected an object, got {type(data).__name__}")
        kt, vt = args or (str, Any)
        return {_decode(kt, k, path): _decode(vt, v, f"{path}.{k}") for k, v in data.items()}
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise DecodeError(f"{path}: expected a number, got {_shown(data)}")
        if isinstance(data, int) and not INT64[0] <= data <= INT64[1]:
            raise DecodeError(f"{path}: number out of range, got {_shown(data)}")
        return float(data)
    if tp in (int, str, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise DecodeError(f"{path}: expected {tp.__name__}, got {_shown(data)}")
        if tp is int and not INT64[0] <= data <= INT64[1]:
            raise DecodeError(f"{path}: integer out of range (at most 64 bits), got {_shown(data)}")
        return data
    raise DecodeError(f"{path}: cannot decode type {tp!r}")


def _shown(data: Any) -> str:
    """A value for an error message: its repr, cut to 60 characters (a number may have thousands of digits)."""
    return _cut(f"a number of {data.bit_length()} bits" if isinstance(data, int) and abs(data) >= 10**60
                else repr(data))


def _cut(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."
