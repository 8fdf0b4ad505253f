"""Bounds of the answer fetch: a size cap, one deadline for everything, retries on 5xx and lost connections only."""

from __future__ import annotations

import time

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.http import MAX_ANSWER_BYTES, Limits, fetch_answer

BODY = {"$schema": {"version": "1.0"}}
MiB = 1024 * 1024
FAST = Limits(deadline=5, attempts=3, backoff=0.05)


@pytest.mark.parametrize(("size", "declared"), [
    pytest.param(2 * MiB, True, id="2 MiB with its Content-Length"),
    pytest.param(2 * MiB, False, id="2 MiB without Content-Length"),
    pytest.param(200 * MiB, True, id="200 MiB announced"),
])
def test_a_reply_over_the_size_cap_is_refused_without_reading_it_all(https_server, size, declared):
    https_server.reply.update(body="", size=size, length=declared)
    start = time.monotonic()
    with pytest.raises(AnswerSourceError, match=r"refused: the reply is larger than 1 MiB \(MAX_ANSWER_BYTES\)"):
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST)
    assert time.monotonic() - start < 3


def test_a_reply_of_exactly_the_cap_is_accepted(https_server):
    comment = "#" * (MAX_ANSWER_BYTES - len('keyboard = "de"\n') - 1) + "\n"
    https_server.reply["body"] = comment + 'keyboard = "de"\n'
    assert fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST).endswith('"de"\n')


def test_a_dripping_body_is_stopped_at_the_deadline(https_server):
    https_server.reply.update(body='keyboard = "de"\n' * 20, drip=0.2)
    start = time.monotonic()
    with pytest.raises(AnswerSourceError,
                       match=r"cannot fetch the answer: no complete reply within the 1 s deadline$"):
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=Limits(deadline=1))
    assert time.monotonic() - start < 1.5


def test_a_body_that_stalls_after_a_start_is_stopped_at_the_deadline(https_server):
    # Three bytes in 0.6 s, then silence: a read that starts at 0.6 s must not wait a whole timeout from there.
    https_server.reply.update(body="k=1", size=100, drip=0.3, stall=10)
    start = time.monotonic()
    with pytest.raises(AnswerSourceError, match=r"no complete reply within the 1 s deadline$"):
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=Limits(deadline=1))
    assert time.monotonic() - start < 1.4


def test_5xx_replies_are_retried_with_each_retry_and_its_wait_logged(https_server):
    https_server.queue.extend([{"status": 503, "type": "text/plain", "body": "busy"}] * 2)
    log: list[str] = []
    text = fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST, log=log.append)
    assert text == 'keyboard = "de"\n'
    assert log == [f"{https_server.url}: http error: 503: busy; retry 1 of 2 in 0.05 s",
                   f"{https_server.url}: http error: 503: busy; retry 2 of 2 in 0.1 s"]
    assert len(https_server.received) == 3


def test_a_5xx_that_does_not_go_away_is_given_up_with_a_clear_error(https_server):
    https_server.reply.update(status=502, type="text/plain", body="bad gateway")
    with pytest.raises(AnswerSourceError) as err:
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST, log=lambda _: None)
    assert str(err.value) == f"{https_server.url}: http error: 502: bad gateway (gave up after 3 tries)"
    assert len(https_server.received) == 3


def test_a_4xx_is_not_retried(https_server):
    https_server.reply.update(status=403, type="text/plain", body="unknown node")
    log: list[str] = []
    with pytest.raises(AnswerSourceError, match=r"http error: 403: unknown node$"):
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST, log=log.append)
    assert len(https_server.received) == 1
    assert log == []


def test_a_refused_connection_is_retried_then_reported():
    log: list[str] = []
    with pytest.raises(AnswerSourceError, match=r"Connection refused \(gave up after 3 tries\)$"):
        fetch_answer("https://127.0.0.1:9/a", BODY, limits=FAST, log=log.append)
    assert [line.rsplit(";", 1)[1] for line in log] == [" retry 1 of 2 in 0.05 s", " retry 2 of 2 in 0.1 s"]


def test_no_retry_starts_that_would_end_after_the_deadline():
    with pytest.raises(AnswerSourceError, match=r"gave up after 1 try: the next would pass the 1 s deadline\)$"):
        fetch_answer("https://127.0.0.1:9/a", BODY, limits=Limits(deadline=1, attempts=3, backoff=5))


def test_a_429_is_tried_again_like_a_5xx(https_server):
    https_server.queue.append({"status": 429, "type": "text/plain", "body": "slow down"})
    log: list[str] = []
    assert fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST,
                        log=log.append).endswith('"de"\n')
    assert len(https_server.received) == 2
    assert "http error: 429: slow down; retry 1 of" in log[0]
