"""Fetching the answer over HTTPS with certificate pinning against a real local TLS server."""

from __future__ import annotations

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.http import Limits, fetch_answer, format_fingerprint, normalize_fingerprint

BODY = {"$schema": {"version": "1.0"}, "network_interfaces": [{"link": "eno1", "mac": "52:54:00:12:34:56"}]}


def test_the_right_fingerprint_is_accepted_and_the_system_info_is_posted(https_server):
    text = fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint)
    assert text == 'keyboard = "de"\n'
    request = https_server.received[0]
    assert request["body"] == BODY
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert request["headers"]["Accept"] == "application/json, application/toml;q=0.5"


def test_a_fingerprint_with_colons_in_upper_case_is_the_same_pin(https_server):
    assert fetch_answer(https_server.url, BODY, fingerprint=format_fingerprint(https_server.fingerprint))


def test_a_wrong_fingerprint_is_refused_with_both_fingerprints_named(https_server):
    wrong = "00" * 32
    with pytest.raises(AnswerSourceError) as err:
        fetch_answer(https_server.url, BODY, fingerprint=wrong)
    message = str(err.value)
    assert "does not match keel.fingerprint" in message
    assert format_fingerprint(wrong) in message
    assert format_fingerprint(https_server.fingerprint) in message
    assert https_server.received == [], "nothing is posted to an unpinned server"


def test_without_a_pin_a_self_signed_certificate_is_refused(https_server):
    with pytest.raises(AnswerSourceError, match="TLS error"):
        fetch_answer(https_server.url, BODY)


def test_a_token_is_sent_as_bearer(https_server):
    fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, token="node1:s3cr3t")
    assert https_server.received[0]["headers"]["Authorization"] == "Bearer node1:s3cr3t"


def test_a_json_answer_becomes_toml(https_server):
    https_server.reply.update(type="application/json", body='{"global": {"keyboard": "de"}}')
    assert fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint) == \
        '[global]\nkeyboard = "de"\n'


def test_a_server_error_is_reported_with_status_and_body(https_server):
    https_server.reply.update(status=404, body="no answer for this MAC")
    with pytest.raises(AnswerSourceError, match=r"http error: 404: no answer for this MAC"):
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint)


@pytest.mark.parametrize("bad", [pytest.param("abc", id="too short"), pytest.param("zz" * 32, id="not hex")])
def test_a_malformed_fingerprint_is_a_clear_error(bad):
    with pytest.raises(AnswerSourceError, match=r"keel\.fingerprint: .* is not a SHA-256 fingerprint"):
        normalize_fingerprint(bad)


def test_an_unreachable_server_is_a_one_line_error():
    with pytest.raises(AnswerSourceError, match=r"^https://127.0.0.1:9/a: cannot fetch the answer") as err:
        fetch_answer("https://127.0.0.1:9/a", BODY, limits=Limits(deadline=5, attempts=1))
    assert "\n" not in str(err.value)
