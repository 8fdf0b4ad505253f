"""What comes back from the answer server: its text (charset), its shape, and how its URL is shown."""

from __future__ import annotations

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.http import Limits, fetch_answer, post

BODY = {"$schema": {"version": "1.0"}}
FAST = Limits(deadline=5, attempts=2, backoff=0.05)
PASSWORD_TOML = 'root-password = "pässwörd"\n'


def fetch(server, **kwargs) -> str:
    return fetch_answer(server.url, BODY, fingerprint=server.fingerprint, limits=FAST, **kwargs)


@pytest.mark.parametrize("content_type", ["text/plain", "application/toml", None])
def test_text_without_a_charset_is_utf8(https_server, content_type):
    https_server.reply.update(type=content_type, body=PASSWORD_TOML)
    assert fetch(https_server) == PASSWORD_TOML


def test_a_charset_the_server_names_is_used(https_server):
    https_server.reply.update(type='text/plain; charset="ISO-8859-1"', body=PASSWORD_TOML.encode("latin-1"))
    assert fetch(https_server) == PASSWORD_TOML


def test_bytes_that_are_not_utf8_are_a_clear_error(https_server):
    https_server.reply.update(type="text/plain", body=PASSWORD_TOML.encode("latin-1"))
    with pytest.raises(AnswerSourceError, match=r"the reply is not valid UTF-8 text \(byte 18: b'\\xe4'\)$"):
        fetch(https_server)


def test_a_json_answer_without_a_charset_is_utf8(https_server):
    https_server.reply.update(type="application/json", body='{"root-password": "pässwörd"}')
    assert fetch(https_server) == PASSWORD_TOML


@pytest.mark.parametrize(("content_type", "body", "got"), [
    pytest.param("application/json", "[1, 2]", "got a JSON array, not a TOML document or JSON object",
                 id="a JSON array"),
    pytest.param("text/plain", '[{"keyboard": "de"}]', "got a JSON array, not a TOML document or JSON object",
                 id="a JSON array sent as text"),
    pytest.param("application/json", '"keyboard"', "got a JSON string, not a TOML document or JSON object",
                 id="a JSON string"),
    pytest.param("application/json", "null", "got a JSON null, not a TOML document or JSON object",
                 id="JSON null"),
    pytest.param("application/json", "{nope", "not valid JSON (Expecting property name enclosed in double quotes: "
                 "line 1 column 2 (char 1))", id="broken JSON"),
    pytest.param("text/html", "<html><body>Login</body></html>", "got an HTML page", id="an HTML login page"),
    pytest.param("text/plain", "keyboard = ", "not a TOML document (Invalid value (at end of document))",
                 id="broken TOML"),
    pytest.param("application/toml", "  \n", "got an empty reply", id="an empty reply"),
])
def test_a_reply_that_is_not_an_answer_is_a_clear_error_naming_the_url(https_server, content_type, body, got):
    https_server.reply.update(type=content_type, body=body)
    with pytest.raises(AnswerSourceError) as err:
        fetch(https_server)
    assert str(err.value).startswith(f"{https_server.url}: the reply")
    assert str(err.value).endswith(got)


def test_a_json_object_sent_as_text_is_still_an_answer(https_server):
    https_server.reply.update(type="text/plain", body='{"keyboard": "de"}')
    assert fetch(https_server) == 'keyboard = "de"\n'


def test_post_returns_any_reply_for_callers_that_do_not_want_an_answer(https_server):
    https_server.reply.update(type="text/plain", body="thanks")
    reply = post(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST)
    assert (reply.status, reply.content_type, reply.text) == (200, "text/plain", "thanks")


def test_credentials_in_the_url_never_appear_in_an_error(https_server):
    url = https_server.url.replace("https://", "https://root:hunter2@") + "?node=n1&token=s3cr3t"
    https_server.reply.update(status=404, type="text/plain", body="no answer for this node")
    with pytest.raises(AnswerSourceError) as err:
        fetch_answer(url, BODY, fingerprint=https_server.fingerprint, limits=FAST)
    shown = https_server.url.replace("https://", "https://***@") + "?node=n1&token=***"
    assert str(err.value) == f"{shown}: http error: 404: no answer for this node"


def test_credentials_in_the_url_never_appear_in_retries_or_redirects(https_server):
    url = https_server.url + "?token=s3cr3t"
    https_server.queue.extend([{"status": 500, "type": "text/plain", "body": "oops"},
                               {"status": 302, "type": "text/plain", "body": "", "headers": {"Location": url}}])
    log: list[str] = []
    fetch_answer(url, BODY, fingerprint=https_server.fingerprint, limits=FAST, log=log.append)
    assert log and all("s3cr3t" not in line for line in log)
    assert log[0].startswith(f"{https_server.url}?token=***: http error: 500")


def test_credentials_in_an_unreachable_url_never_appear_in_the_error():
    with pytest.raises(AnswerSourceError) as err:
        fetch_answer("https://root:hunter2@127.0.0.1:9/a?key=s3cr3t", BODY, limits=Limits(deadline=5, attempts=1))
    assert "hunter2" not in str(err.value) and "s3cr3t" not in str(err.value)
    assert str(err.value).startswith("https://***@127.0.0.1:9/a?key=***: cannot fetch the answer")
