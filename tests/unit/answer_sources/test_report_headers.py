"""A keel-server's Keel-Report-URL and Keel-Report-Token headers: returned by the fetch, accepted over https (or
on the answer's own http origin), pinned like the answer, the token kept as a secret."""

from __future__ import annotations

from installer.answer_sources.fetch import Places, fetch
from installer.answer_sources.http import Limits, ReportTarget, fetch_served_answer
from installer.core.cmdline import KernelParams
from installer.runner import FakeRunner

FAST = Limits(deadline=5, attempts=1, backoff=0.05)
BODY = {"product": {"product": "pve"}}
TOKEN = "per-install-7f3a9c1e5b"


def answer_with(server, report_url: str, token: str = TOKEN) -> None:
    headers = {"Keel-Report-URL": report_url} if report_url else {}
    if token:
        headers["Keel-Report-Token"] = token
    server.reply.update(headers=headers)


def report_url(server) -> str:
    return server.url.replace("/answer", "/api/v1/report/events")


def test_the_report_headers_come_back_with_the_answer_pinned_to_its_fingerprint(https_server):
    answer_with(https_server, report_url(https_server))
    served = fetch_served_answer(https_server.url, BODY, fingerprint=https_server.fingerprint.upper(), limits=FAST)
    assert served.text == 'keyboard = "de"\n'
    assert served.report == ReportTarget(report_url(https_server), TOKEN, https_server.fingerprint)


def test_an_answer_without_the_headers_asks_for_no_reports(https_server):
    served = fetch_served_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST)
    assert served.report is None


def test_a_plain_http_report_url_from_an_https_answer_is_refused_and_the_answer_still_used(https_server):
    answer_with(https_server, f"http://127.0.0.1:{https_server.port}/api/v1/report/events")
    said: list[str] = []
    served = fetch_served_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST,
                                 log=said.append)
    assert served.report is None
    assert served.text == 'keyboard = "de"\n'
    assert len(said) == 1
    assert "refused" in said[0] and "not reported" in said[0] and TOKEN not in said[0]


def test_a_plain_http_report_url_is_accepted_on_the_http_answers_own_origin_only(http_server):
    answer_with(http_server, report_url(http_server))
    assert fetch_served_answer(http_server.url, BODY, limits=FAST).report == ReportTarget(
        report_url(http_server), TOKEN, None)
    answer_with(http_server, f"http://127.0.0.1:{http_server.port + 1}/api/v1/report/events")
    said: list[str] = []
    assert fetch_served_answer(http_server.url, BODY, limits=FAST, log=said.append).report is None
    assert "refused" in said[0]


def test_a_relative_report_url_is_taken_from_where_the_answer_came(https_server):
    answer_with(https_server, "/api/v1/report/events")
    served = fetch_served_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST)
    assert served.report is not None and served.report.url == report_url(https_server)


def test_a_report_url_without_a_token_is_not_used(https_server):
    answer_with(https_server, report_url(https_server), token="")
    said: list[str] = []
    served = fetch_served_answer(https_server.url, BODY, fingerprint=https_server.fingerprint, limits=FAST,
                                 log=said.append)
    assert served.report is None
    assert "Keel-Report-Token" in said[0]


def test_the_auto_fetch_returns_the_target_and_keeps_its_token_as_a_secret(https_server, tmp_path):
    answer_with(https_server, report_url(https_server))
    params = KernelParams("auto", https_server.url, https_server.fingerprint, None)
    answer = fetch(params, FakeRunner(), lambda: BODY, Places(medium=tmp_path, by_label=tmp_path))
    assert answer.report == ReportTarget(report_url(https_server), TOKEN, https_server.fingerprint)
    assert TOKEN in answer.secrets
    assert https_server.received[0]["body"] == BODY
