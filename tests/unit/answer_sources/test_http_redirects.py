"""Redirects of the answer fetch: never down to plain http, every hop pinned, the token only for its own host."""

from __future__ import annotations

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.http import Limits, fetch_answer

BODY = {"$schema": {"version": "1.0"}, "network_interfaces": [{"link": "eno1", "mac": "52:54:00:12:34:56"}]}
FAST = Limits(deadline=5, attempts=1)


def redirect(status: int, location: str) -> dict:
    return {"status": status, "type": "text/plain", "body": "moved", "headers": {"Location": location}}


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_from_https_to_plain_http_is_refused_and_nothing_reaches_the_http_server(
        status, https_server, http_server):
    https_server.queue.append(redirect(status, http_server.url))
    with pytest.raises(AnswerSourceError) as err:
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, token="node1:s3cr3t", limits=FAST)
    assert str(err.value) == (f"{https_server.url}: refused: redirect from https to plain http ({http_server.url}); "
                              "the answer is only fetched over https")
    assert http_server.received == [], "neither the system information nor the token went over plain http"


def test_a_307_to_the_same_host_re_posts_the_body_with_the_token_and_the_pin(https_server):
    https_server.queue.append(redirect(307, "/moved-here"))
    text = fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, token="node1:s3cr3t",
                        limits=FAST)
    assert text == 'keyboard = "de"\n'
    _, second = https_server.received
    assert (second["method"], second["path"], second["body"]) == ("POST", "/moved-here", BODY)
    assert second["headers"]["Authorization"] == "Bearer node1:s3cr3t"


def test_a_302_fetches_the_target_with_get_and_without_the_body(https_server):
    https_server.queue.append(redirect(302, "/moved-here"))
    fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST)
    second = https_server.received[1]
    assert (second["method"], second["path"], second["body"]) == ("GET", "/moved-here", None)


def test_a_redirect_to_another_host_keeps_the_pin_and_drops_the_token(https_server):
    # 127.0.0.1 and localhost are two host names for the same server (and certificate).
    elsewhere = f"https://localhost:{https_server.port}/other-host"
    https_server.queue.append(redirect(307, elsewhere))
    log: list[str] = []
    text = fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, token="node1:s3cr3t",
                        limits=FAST, log=log.append)
    assert text == 'keyboard = "de"\n'
    first, second = https_server.received
    assert first["headers"]["Authorization"] == "Bearer node1:s3cr3t"
    assert second["host"] == f"localhost:{https_server.port}"
    assert "Authorization" not in second["headers"]
    assert second["body"] == BODY
    assert log == [f"{https_server.url}: 307 redirect to {elsewhere} (pinned to the same fingerprint); "
                   "the token is not sent to another host"]


def test_a_redirect_to_a_server_with_another_certificate_is_refused_by_the_pin(https_server, other_https_server):
    elsewhere = f"https://localhost:{other_https_server.port}/answer"
    https_server.queue.append(redirect(302, elsewhere))
    with pytest.raises(AnswerSourceError) as err:
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST)
    assert str(err.value).startswith(f"{https_server.url} (redirected to {elsewhere}): refused: the server's "
                                     "certificate does not match keel.fingerprint")
    assert other_https_server.received == []


def test_endless_redirects_are_a_clear_error(https_server):
    https_server.reply.update(redirect(302, "/answer"))
    with pytest.raises(AnswerSourceError, match=r"refused: more than 5 redirects$"):
        fetch_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST)
    assert len(https_server.received) == 6


def test_a_fingerprint_with_a_plain_http_url_is_an_error(http_server):
    with pytest.raises(AnswerSourceError, match=r"refused: a certificate fingerprint is given for a plain http URL"):
        fetch_answer(http_server.url, BODY, fingerprint="ab" * 32, limits=FAST)
    assert http_server.received == []


def test_a_token_is_never_sent_over_plain_http(http_server):
    with pytest.raises(AnswerSourceError, match=r"refused: a token is never sent over plain http"):
        fetch_answer(http_server.url, BODY, token="node1:s3cr3t", limits=FAST)
    assert http_server.received == []


def test_a_password_in_a_plain_http_url_is_never_sent(http_server):
    url = http_server.url.replace("http://", "http://root:hunter2@")
    with pytest.raises(AnswerSourceError) as err:
        fetch_answer(url, BODY, limits=FAST)
    assert str(err.value) == (f"{http_server.url.replace('http://', 'http://***@')}: refused: the user and password "
                              "in the URL are never sent over plain http; use https://")
    assert http_server.received == []


def test_plain_http_without_credentials_still_works(http_server):
    assert fetch_answer(http_server.url, BODY, limits=FAST) == 'keyboard = "de"\n'
