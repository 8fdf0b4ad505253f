"""An answer as it may be shown: the values of secret keys (`schema.Key.secret`) masked, URL credentials hidden."""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w

from answerfile.schema import secret_names
from installer.core import limits
from installer.core.redact import redact_url

REDACTED = "<redacted>"


def redact_answer_text(text: str) -> str:
    """The answer as TOML with every secret replaced by <redacted> (at any depth, under its name or its
    legacy alias) and user:password in URLs masked. The text is re-written, so comments do not survive;
    ValueError when it is not TOML, as nothing in it could then be told apart from a secret."""
    if problem := limits.text_problem(text):
        raise ValueError(problem)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"not valid TOML: {err}") from err
    return tomli_w.dumps(_redacted(data, secret_names()))


def secret_values(text: str) -> list[str]:
    """The values of the secret keys in an answer (any depth, name or alias), for a redactor to hide them
    wherever a message might quote them; [] when the text is not TOML (nothing can be told apart then)."""
    if limits.text_problem(text):
        return []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    found: list[str] = []

    def walk(value: Any, secret: bool) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, secret or k in names)
        elif isinstance(value, list):
            for v in value:
                walk(v, secret)
        elif secret and isinstance(value, str):
            found.append(value)

    names = secret_names()
    walk(data, False)
    return found


def _redacted(value: Any, secrets: frozenset[str], key: str = "") -> Any:
    if key in secrets:
        return REDACTED
    if isinstance(value, dict):
        return {k: _redacted(v, secrets, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, secrets, key) for v in value]
    if key == "url" and isinstance(value, str):
        return redact_url(value)
    return value
