"""GETting a file (the [first-boot] executable) with the answer fetch's pinning and limits, from a local TLS server."""

from __future__ import annotations

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.http import Limits, format_fingerprint, get_bytes

EXECUTABLE = b"#!/bin/sh\necho hi\n\x00\xff"
FAST = Limits(deadline=10, attempts=2, backoff=0.05)


def test_the_pinned_file_comes_back_byte_for_byte_by_get(https_server):
    https_server.reply.update(type="application/octet-stream", body=EXECUTABLE)
    assert get_bytes(https_server.url, max_bytes=1024, fingerprint=https_server.fingerprint) == EXECUTABLE
    request = https_server.received[0]
    assert request["method"] == "GET"
    assert request["headers"]["Accept"] == "*/*"
    assert "Authorization" not in request["headers"]


def test_a_wrong_fingerprint_is_refused_and_named_by_the_callers_key(https_server):
    with pytest.raises(AnswerSourceError) as err:
        get_bytes(https_server.url, max_bytes=1024, fingerprint="00" * 32, pin_name="first-boot.cert-fingerprint")
    assert "does not match first-boot.cert-fingerprint" in str(err.value)
    assert format_fingerprint(https_server.fingerprint) in str(err.value)
    assert https_server.received == []


def test_more_than_max_bytes_is_refused(https_server):
    https_server.reply.update(type="application/octet-stream", size=4096, body="")
    with pytest.raises(AnswerSourceError, match=r"refused: the reply is larger than"):
        get_bytes(https_server.url, max_bytes=1024, fingerprint=https_server.fingerprint, purpose="the script")


def test_exactly_max_bytes_is_accepted(https_server):
    https_server.reply.update(type="application/octet-stream", body=b"x" * 1024)
    assert len(get_bytes(https_server.url, max_bytes=1024, fingerprint=https_server.fingerprint)) == 1024


def test_a_missing_file_is_a_clear_error_without_retries(https_server):
    https_server.reply.update(status=404, body="no such hook")
    with pytest.raises(AnswerSourceError, match=r"http error: 404: no such hook"):
        get_bytes(https_server.url, max_bytes=1024, fingerprint=https_server.fingerprint, limits=FAST)
    assert len(https_server.received) == 1


def test_a_server_error_is_retried(https_server):
    https_server.queue.append({"status": 503, "body": "busy"})
    https_server.reply.update(type="application/octet-stream", body=EXECUTABLE)
    said = []
    assert get_bytes(https_server.url, max_bytes=1024, fingerprint=https_server.fingerprint, limits=FAST,
                     log=said.append) == EXECUTABLE
    assert len(https_server.received) == 2 and "retry 1 of 1" in said[0]


def test_url_credentials_never_appear_in_an_error(https_server):
    url = https_server.url.replace("https://", "https://hook:s3cr3t@")
    https_server.reply.update(status=403, body="forbidden")
    with pytest.raises(AnswerSourceError) as err:
        get_bytes(url, max_bytes=1024, fingerprint=https_server.fingerprint)
    assert "s3cr3t" not in str(err.value)


def test_credentials_are_never_sent_over_plain_http():
    with pytest.raises(AnswerSourceError, match="never sent over plain http") as err:
        get_bytes("http://hook:s3cr3t@127.0.0.1:9/x", max_bytes=1024)
    assert "s3cr3t" not in str(err.value)
