"""An answer server's reply goes through the same input bounds as an answer file before it is parsed: a reply
nested a thousand deep, with an endless dotted key or a number of thousands of digits is a clear error."""

from __future__ import annotations

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.http import answer_toml

SHOWN = "https://answers.example/"


@pytest.mark.parametrize(("content_type", "body", "got"), [
    pytest.param("text/plain", "a = " + "[" * 1000 + "]" * 1000, "nested too deeply: more than 32 levels at line 1",
                 id="TOML arrays 1,000 deep (was RecursionError)"),
    pytest.param("application/json", '{"a": ' + "[" * 1000 + "]" * 1000 + "}",
                 "nested too deeply: more than 32 levels at line 1", id="JSON arrays 1,000 deep (was RecursionError)"),
    pytest.param("text/plain", ".".join(["a"] * 20000) + " = 1",
                 "a dotted key is too long: more than 32 parts at line 1",
                 id="a dotted key of 20,000 parts (took half a minute)"),
    pytest.param("text/plain", "a = " + "9" * 5000, "not a TOML document (Exceeds the limit (4300 digits) for integer "
                 "string conversion", id="an integer of 5,000 digits (was ValueError)"),
])
def test_a_reply_beyond_the_bounds_is_not_an_answer(content_type, body, got) -> None:
    with pytest.raises(AnswerSourceError) as err:
        answer_toml(body, content_type, SHOWN)
    assert str(err.value).startswith(f"{SHOWN}: the reply ({content_type}) is not an answer: {got}")
