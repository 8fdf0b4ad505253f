"""Fetching an answer over HTTPS by POSTing the system information, optionally pinned to a certificate fingerprint.

With a fingerprint, CA and host name checks are replaced by one check: the SHA-256 of the server's leaf
certificate (DER) must equal the fingerprint. Without one, the system's CA store decides.

Redirects are followed here, hop by hop, never by requests itself:
- never from https:// to plain http:// (the answer holds the root password; a 307 would re-send the POST);
- with a fingerprint, every hop is pinned to that same fingerprint (the pinned adapter serves every https URL
  of the fetch), so a redirect may change the host name but never the certificate;
- the token goes only to the origin (scheme, host, port) of the URL it was given for: a hop to another host
  does not get it; neither it nor user:password in the URL is ever sent over plain http;
- 307/308 re-send the POST, 301/302/303 fetch the target with GET (as browsers do); Limits.max_redirects hops.

One deadline covers the whole fetch: every try, hop, wait and byte (a reply that stalls is hung up on).
Connection errors and 5xx replies are retried with doubling waits, each retry logged; 4xx replies are not,
but for 408, 409 and 429 (the server asks for the request again later: a keel-server storing the same
reported events for another request answers 409).
A reply is at most MAX_ANSWER_BYTES, text is UTF-8 unless the server names another charset, and every URL in a
message goes through redact_url.

`get_bytes` GETs a file under the same rules (pinning, redirects, deadline, retries), at most the size the
caller names: the [first-boot] executable.

A keel-server's answer may name where the installer reports its events (the Keel-Report-URL and
Keel-Report-Token headers). That URL is accepted only over https (or on the answer URL's own scheme and host),
and reports to it are pinned to the fingerprint the answer was fetched with.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import tomli_w
import urllib3
from requests.adapters import HTTPAdapter

from installer.answer_sources.errors import AnswerSourceError
from installer.core.limits import MAX_INPUT_BYTES, text_problem
from installer.core.redact import redact_url
from installer.core.reporting import ReportTarget

logger = logging.getLogger(__name__)

HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_ANSWER_BYTES = MAX_INPUT_BYTES      # an answer file is a few KiB; anything near this is not one
ERROR_EXCERPT_BYTES = 2048              # what is read of an error page, for the message
CHUNK = 65536
REDIRECTS = (301, 302, 303, 307, 308)
RETRIED_4XX = (408, 409, 429)         # request timeout, conflict, too many requests: worth another try
DEFAULT_PORTS = {"http": 80, "https": 443}
ACCEPT = "application/json, application/toml;q=0.5"
PIN_NAME = "keel.fingerprint"       # how a certificate mismatch names the pin, unless the caller names its key
REPORT_URL_HEADER = "Keel-Report-URL"
REPORT_TOKEN_HEADER = "Keel-Report-Token"
MAX_REPORT_HEADER = 4096                # a URL or token longer than this is not one a server meant


@dataclass(frozen=True)
class Limits:
    """How long and how often a fetch may try; tests pass small values."""

    deadline: float = 60.0          # seconds for the whole fetch: every try, redirect, wait and byte
    attempts: int = 4               # tries in all, when the connection fails or the server answers 5xx
    backoff: float = 2.0            # seconds before the second try, doubling before each further one
    connect_timeout: float = 10.0   # a single connection attempt, so a dropped SYN leaves time for a retry
    max_redirects: int = 5


LIMITS = Limits()


@dataclass(frozen=True)
class Reply:
    url: str                # where the reply finally came from, after redirects
    status: int
    content_type: str       # lower case, without parameters: "application/toml"
    text: str
    report_url: str = ""    # the Keel-Report-URL header, as sent
    report_token: str = ""  # the Keel-Report-Token header: a secret


@dataclass(frozen=True)
class ServedAnswer:
    text: str                           # the answer as a TOML document
    report: ReportTarget | None = None  # None: the server asked for no reports (or named an unusable URL)


class TransientError(AnswerSourceError):
    """A connection error or a 5xx reply: worth another try while tries and time are left (and worth one later,
    for a caller that keeps what it sends, like the event reports)."""


class DeadlineExpired(AnswerSourceError):
    """The fetch's deadline passed: final for the answer, but a later POST of the event reports may well get
    through (a server that stalled once)."""


def normalize_fingerprint(fingerprint: str) -> str:
    """'AB:CD:...' or 'abcd...' -> 64 lower-case hex digits; a clear error for anything else."""
    value = fingerprint.strip().replace(":", "").lower()
    if not HEX64.match(value):
        raise AnswerSourceError(
            f"keel.fingerprint: {fingerprint!r} is not a SHA-256 fingerprint (64 hex digits, colons allowed)")
    return value


def format_fingerprint(hex64: str) -> str:
    return ":".join(hex64[i:i + 2] for i in range(0, len(hex64), 2)).upper()


class PinnedAdapter(HTTPAdapter):
    """Accepts exactly the server certificate whose SHA-256 is `fingerprint` (urllib3's assert_fingerprint)."""

    def __init__(self, fingerprint: str, **kwargs: Any):
        self.fingerprint = fingerprint
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self.fingerprint
        kwargs["cert_reqs"] = "CERT_NONE"
        kwargs["assert_hostname"] = False
        super().init_poolmanager(*args, **kwargs)


def presented_fingerprint(url: str, timeout: float = 10.0) -> str | None:
    """The SHA-256 of the certificate the server at `url` presents, for the error message; None if unreachable."""
    parts = urlsplit(url)
    try:
        pem = ssl.get_server_certificate((parts.hostname or "", parts.port or 443), timeout=timeout)
    except (OSError, ValueError):
        return None
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def fetch_answer(url: str, body: dict[str, Any], *, fingerprint: str | None = None, token: str | None = None,
                 limits: Limits = LIMITS, log: Callable[[str], None] | None = None,
                 purpose: str = "the answer") -> str:
    """POST `body` to `url` and return the answer as TOML text (a JSON object is converted).

    Anything that is not a TOML document or a JSON object is an AnswerSourceError, like every other failure.
    """
    return fetch_served_answer(url, body, fingerprint=fingerprint, token=token, limits=limits, log=log,
                               purpose=purpose).text


def fetch_served_answer(url: str, body: dict[str, Any], *, fingerprint: str | None = None,
                        token: str | None = None, limits: Limits = LIMITS, log: Callable[[str], None] | None = None,
                        purpose: str = "the answer") -> ServedAnswer:
    """`fetch_answer`, plus where to report the install when the server's reply names it.

    A report URL that cannot be used is said through `log` and dropped: the answer still installs, unreported.
    """
    reply = post(url, body, fingerprint=fingerprint, token=token, limits=limits, log=log, purpose=purpose)
    text = answer_toml(reply.text, reply.content_type, redact_url(url))
    report = None
    if reply.report_url or reply.report_token:
        try:
            report = report_target(url, fingerprint, reply)
        except AnswerSourceError as err:
            (log or logger.warning)(f"{err}; this install is not reported")
    return ServedAnswer(text, report)


def report_target(answer_url: str, fingerprint: str | None, reply: Reply) -> ReportTarget:
    """The report target a reply's headers name, checked against the answer URL; AnswerSourceError if unusable.

    https is accepted anywhere (pinned like the answer, so a pinned answer's reports only reach its certificate);
    plain http only on the answer URL's own scheme, host and port, where the answer itself already travelled.
    A relative URL is taken relative to where the reply came from.
    """
    shown = redact_url(answer_url)
    if not reply.report_url or not reply.report_token:
        missing = REPORT_TOKEN_HEADER if reply.report_url else REPORT_URL_HEADER
        raise AnswerSourceError(f"{shown}: the reply has no {missing} header beside the other one")
    if len(reply.report_url) > MAX_REPORT_HEADER or len(reply.report_token) > MAX_REPORT_HEADER:
        raise AnswerSourceError(f"{shown}: refused: a {REPORT_URL_HEADER} or {REPORT_TOKEN_HEADER} header longer "
                                f"than {MAX_REPORT_HEADER} characters")
    url = urljoin(reply.url, reply.report_url)
    try:
        scheme, host, port = _origin(url)
    except ValueError as err:
        raise AnswerSourceError(f"{shown}: refused: {REPORT_URL_HEADER} is not a valid URL ({err})") from err
    if scheme not in DEFAULT_PORTS or not host:
        raise AnswerSourceError(f"{shown}: refused: {REPORT_URL_HEADER} {redact_url(url)} is not an http(s) URL")
    if scheme != "https" and (scheme, host, port) != _origin(answer_url):
        raise AnswerSourceError(f"{shown}: refused: {REPORT_URL_HEADER} {redact_url(url)} is plain http on "
                                "another host than the answer's; reports carry a token and go over https")
    return ReportTarget(url, reply.report_token, normalize_fingerprint(fingerprint) if fingerprint else None)


def post(url: str, body: dict[str, Any], *, fingerprint: str | None = None, token: str | None = None,
         limits: Limits = LIMITS, log: Callable[[str], None] | None = None, purpose: str = "the answer",
         token_over_http: bool = False) -> Reply:
    """POST `body` as JSON to `url` and return the 2xx reply's text, whatever its shape (the webhook's case).

    Retries and redirects are reported through `log` (the module's logger when None); failures raise
    AnswerSourceError (TransientError for a connection error or 5xx that outlasted the tries).
    `token_over_http` lets a token go over plain http: only for the report token a plain http answer server
    handed out on that same origin (report_target checks that).
    """
    return _fetch(url, json.dumps(body).encode(), fingerprint=fingerprint, token=token, limits=limits, log=log,
                  purpose=purpose, checked_token=None if token_over_http else token)


def get_bytes(url: str, *, max_bytes: int, fingerprint: str | None = None, limits: Limits = LIMITS,
              log: Callable[[str], None] | None = None, purpose: str = "the file",
              pin_name: str = PIN_NAME) -> bytes:
    """GET `url` and return the 2xx reply's body as it came, at most `max_bytes` (a larger one is refused).

    The rules of `post`: pinned on every hop when a fingerprint is given (`pin_name` is how a mismatch names it,
    e.g. "first-boot.cert-fingerprint"), no https -> http redirect, no URL credentials over plain http, retries
    with doubling waits on connection errors and 5xx, one deadline; every failure is an AnswerSourceError.
    """
    def read(response: requests.Response, hop: str, deadline: _Deadline, where: str) -> bytes:
        return _body(response, deadline, where, max_bytes, f"(the most {purpose} may be)")

    return _fetch(url, None, fingerprint=fingerprint, token=None, limits=limits, log=log, purpose=purpose,
                  checked_token=None, read=read, accept="*/*", pin_name=pin_name)


def _fetch(url: str, data: bytes | None, *, fingerprint: str | None, token: str | None, limits: Limits,
           log: Callable[[str], None] | None, purpose: str, checked_token: str | None, **follow: Any) -> Any:
    """POST `data` (GET when None) with retries: the session, the pin and the retry loop of `post` and
    `get_bytes`; `follow` goes to `_follow` (how to read the reply, Accept, the pin's name)."""
    shown = redact_url(url)
    pin = _checked_start(url, shown, fingerprint, checked_token)
    say = log or logger.warning
    deadline = _Deadline(limits.deadline, f"{shown}: cannot fetch {purpose}")
    with requests.Session() as session:
        session.trust_env = False            # no proxy from the live environment's variables
        if pin:
            session.mount("https://", PinnedAdapter(pin))
        attempt = 1
        while True:
            try:
                return _follow(session, url, data, pin=pin, token=token, limits=limits, deadline=deadline, say=say,
                               purpose=purpose, **follow)
            except TransientError as err:
                if attempt >= limits.attempts:
                    raise TransientError(f"{err} (gave up after {_tries(attempt)})") from err
                wait = limits.backoff * 2 ** (attempt - 1)
                if wait >= deadline.left():
                    raise TransientError(
                        f"{err} (gave up after {_tries(attempt)}: the next would pass the {limits.deadline:g} s "
                        f"deadline)") from err
                say(f"{err}; retry {attempt} of {limits.attempts - 1} in {wait:g} s")
                time.sleep(wait)
                attempt += 1


def answer_toml(text: str, content_type: str, shown: str) -> str:
    """The reply as a TOML document: TOML as it came, a JSON object converted; anything else a clear error that
    says what came back (never its content: an answer holds passwords)."""

    def not_an_answer(got: str) -> AnswerSourceError:
        return AnswerSourceError(f"{shown}: the reply ({content_type or 'no Content-Type'}) is not an answer: {got}")

    if not text.strip():
        raise not_an_answer("got an empty reply")
    if problem := text_problem(text):  # before a parser could recurse on it
        raise not_an_answer(problem)
    if _is_json(content_type):
        try:
            value = json.loads(text)
        except ValueError as err:
            raise not_an_answer(f"not valid JSON ({err})") from err
    else:
        try:
            tomllib.loads(text)
            return text
        except ValueError as err:  # a TOMLDecodeError, or an integer beyond Python's digit limit
            toml_error = err
        try:
            value = json.loads(text)
        except ValueError:
            got = "got an HTML page" if text.lstrip().startswith("<") else f"not a TOML document ({toml_error})"
            raise not_an_answer(got) from toml_error
    if not isinstance(value, dict):
        raise not_an_answer(f"got a JSON {_json_kind(value)}, not a TOML document or JSON object")
    try:
        return tomli_w.dumps(value)
    except (ValueError, TypeError) as err:
        raise AnswerSourceError(f"{shown}: the JSON answer cannot be turned into TOML: {err}") from err


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


class _Deadline:
    """The end of the whole fetch; `left()` raises once it has passed."""

    def __init__(self, seconds: float, what: str):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.what = what

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> DeadlineExpired:
        return DeadlineExpired(f"{self.what}: no complete reply within the {self.seconds:g} s deadline")


def _checked_start(url: str, shown: str, fingerprint: str | None, token: str | None) -> str | None:
    """The normalized pin; refuses a URL that is not http(s) and plain http with a pin or credentials."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in DEFAULT_PORTS:
        raise AnswerSourceError(f"{shown!r} is not an http(s) URL")
    pin = normalize_fingerprint(fingerprint) if fingerprint else None
    if scheme == "http":
        if pin:
            raise AnswerSourceError(f"{shown}: refused: a certificate fingerprint is given for a plain http URL; "
                                    "a pinned fetch needs https://")
        if token:
            raise AnswerSourceError(f"{shown}: refused: a token is never sent over plain http; use https://")
        _refuse_credentials_over_http(url, shown)
    return pin


def _refuse_credentials_over_http(url: str, shown: str) -> None:
    if "@" in urlsplit(url).netloc:
        raise AnswerSourceError(f"{shown}: refused: the user and password in the URL are never sent over "
                                "plain http; use https://")


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def _follow(session: requests.Session, url: str, data: bytes | None, *, pin: str | None, token: str | None,
            limits: Limits, deadline: _Deadline, say: Callable[[str], None], purpose: str,
            read: Callable[[requests.Response, str, _Deadline, str], Any] | None = None, accept: str = ACCEPT,
            pin_name: str = PIN_NAME) -> Any:
    """One try: the request and its redirects, each hop checked before it is made. A GET when `data` is None;
    `read` turns the final reply into the result (default: `_reply`)."""
    shown = redact_url(url)
    origin = _origin(url)
    hop, method, payload = url, "POST" if data is not None else "GET", data
    for _ in range(limits.max_redirects + 1):
        where = shown if hop == url else f"{shown} (redirected to {redact_url(hop)})"
        headers = {"Accept": accept, "Accept-Encoding": "identity"}
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if token and _origin(hop) == origin:
            headers["Authorization"] = f"Bearer {token}"
        with _send(session, method, hop, payload, headers, pin=pin, limits=limits, deadline=deadline,
                   where=where, purpose=purpose, pin_name=pin_name) as response:
            location = response.headers.get("Location")
            if response.status_code not in REDIRECTS or not location:
                return (read or _reply)(response, hop, deadline, where)
            target = _checked_redirect(hop, urljoin(hop, location), where)
        dropped = token and _origin(hop) == origin and _origin(target) != origin
        say(f"{where}: {response.status_code} redirect to {redact_url(target)}"
            + (" (pinned to the same fingerprint)" if pin else "")
            + ("; the token is not sent to another host" if dropped else ""))
        if response.status_code in (301, 302, 303):
            method, payload = "GET", None
        hop = target
    raise AnswerSourceError(f"{shown}: refused: more than {limits.max_redirects} redirects")


def _checked_redirect(hop: str, target: str, where: str) -> str:
    try:
        scheme = _origin(target)[0]
    except ValueError as err:
        raise AnswerSourceError(f"{where}: refused: redirect to an invalid URL ({err})") from err
    if scheme not in DEFAULT_PORTS:
        raise AnswerSourceError(f"{where}: refused: redirect to a URL that is not http(s): {redact_url(target)}")
    if scheme == "http" and _origin(hop)[0] == "https":
        raise AnswerSourceError(f"{where}: refused: redirect from https to plain http ({redact_url(target)}); "
                                "the answer is only fetched over https")
    if scheme == "http":
        _refuse_credentials_over_http(target, where)
    return target


def _send(session: requests.Session, method: str, url: str, payload: bytes | None, headers: dict[str, str], *,
          pin: str | None, limits: Limits, deadline: _Deadline, where: str, purpose: str,
          pin_name: str = PIN_NAME) -> requests.Response:
    left = deadline.left()
    try:
        return session.request(method, url, data=payload, headers=headers, stream=True, allow_redirects=False,
                               timeout=(min(limits.connect_timeout, left), left), verify=pin is None)
    except requests.exceptions.SSLError as err:
        if pin and "fingerprint" in str(err).lower():
            got = presented_fingerprint(url, timeout=max(0.1, min(10.0, deadline.end - time.monotonic())))
            seen = f", the server presented {format_fingerprint(got)}" if got else ""
            raise AnswerSourceError(
                f"{where}: refused: the server's certificate does not match {pin_name} "
                f"{format_fingerprint(pin)}{seen}") from err
        raise AnswerSourceError(f"{where}: TLS error: {_reason(err, url)}") from err
    except requests.exceptions.ConnectionError as err:      # a connect timeout included
        raise TransientError(f"{where}: cannot fetch {purpose}: {_reason(err, url)}") from err
    except requests.exceptions.Timeout as err:              # no reply headers before the time left ran out
        raise deadline.expired() from err
    except requests.exceptions.RequestException as err:
        raise AnswerSourceError(f"{where}: cannot fetch {purpose}: {_reason(err, url)}") from err


def _reply(response: requests.Response, url: str, deadline: _Deadline, where: str) -> Reply:
    content_type, charset = _content_type(response.headers.get("Content-Type", ""))
    data = _body(response, deadline, where, MAX_ANSWER_BYTES, "(MAX_ANSWER_BYTES)")
    status = response.status_code
    return Reply(url, status, content_type, _decode(data, charset, where),
                 response.headers.get(REPORT_URL_HEADER, "").strip(),
                 response.headers.get(REPORT_TOKEN_HEADER, "").strip())


def _body(response: requests.Response, deadline: _Deadline, where: str, limit: int, what: str) -> bytes:
    """The 2xx reply's body, at most `limit` bytes (`what` names the limit when refusing more); a 4xx/5xx reply
    raises with its status and the start of its text."""
    charset = _content_type(response.headers.get("Content-Type", ""))[1]
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise AnswerSourceError(f"{where}: refused: the reply is {encoding}-encoded although none was asked for")
    status = response.status_code
    if not 200 <= status < 300:
        excerpt, _ = _read(response, ERROR_EXCERPT_BYTES, deadline, where)
        text = excerpt.decode(_known_charset(charset) or "utf-8", errors="replace").strip()[:200]
        error = TransientError if status >= 500 or status in RETRIED_4XX else AnswerSourceError
        raise error(f"{where}: http error: {status}: {text}")
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(where, limit, what, f"; the server announced {int(declared)} bytes")
    data, more = _read(response, limit, deadline, where)
    if more:
        raise _too_large(where, limit, what, "")
    return data


def _too_large(where: str, limit: int, what: str, detail: str) -> AnswerSourceError:
    return AnswerSourceError(f"{where}: refused: the reply is larger than {limit // 1024 // 1024} MiB "
                             f"{what}{detail}")


def _read(response: requests.Response, limit: int, deadline: _Deadline, where: str) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the body and whether there was more, one socket read at a time, so that neither a
    dripping body (checked between reads) nor a stalled one (hung up on) outlasts the deadline."""
    chunks: list[bytes] = []
    size = 0
    with _HangUp(response, deadline.left()) as hang_up:
        while size <= limit:
            deadline.left()
            try:
                chunk = response.raw.read1(min(CHUNK, limit + 1 - size), decode_content=False)
            except urllib3.exceptions.ReadTimeoutError as err:
                raise deadline.expired() from err
            except (urllib3.exceptions.HTTPError, OSError) as err:
                if hang_up.happened:
                    raise deadline.expired() from err
                raise TransientError(f"{where}: the connection broke while reading the reply: {_reason(err, '')}") \
                    from err
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if hang_up.happened:
        raise deadline.expired()
    return b"".join(chunks)[:limit], size > limit


class _HangUp:
    """Shuts down the connection of a reply still being read when the deadline passes.

    requests bounds each socket wait only by the time left when the request went out; a server that sends a
    little and then stalls would otherwise hold the fetch up to that long past the deadline. Shutting the
    socket down (through a duplicate of its descriptor, the one handle urllib3 offers) wakes the waiting read.
    """

    def __init__(self, response: requests.Response, seconds: float):
        self.response = response
        self.happened = False
        self._finished = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._hang_up)
        self._timer.daemon = True

    def __enter__(self) -> _HangUp:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:                # after this the descriptor may be closed and reused: never touch it
            self._finished = True
        self._timer.cancel()

    def _hang_up(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.happened = True
            with contextlib.suppress(OSError, ValueError), \
                    socket.socket(fileno=os.dup(self.response.raw.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)


def _content_type(header: str) -> tuple[str, str | None]:
    """'text/plain; charset="ISO-8859-1"' -> ('text/plain', 'ISO-8859-1')."""
    mime, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return mime.strip().lower(), charset


def _known_charset(charset: str | None) -> str | None:
    if charset is None:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _decode(data: bytes, charset: str | None, where: str) -> str:
    """UTF-8 unless the server names another charset (requests would guess ISO-8859-1 for text/plain)."""
    codec = _known_charset(charset or "utf-8")
    if codec is None:
        raise AnswerSourceError(f"{where}: the reply names a charset Python does not know: {charset!r}")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as err:
        raise AnswerSourceError(f"{where}: the reply is not valid {charset or 'UTF-8'} text "
                                f"(byte {err.start}: {data[err.start:err.start + 1]!r})") from err
    return text.removeprefix("\ufeff")


def _reason(err: BaseException, url: str) -> str:
    """The innermost useful line of a requests/urllib3 error, with the URL's secrets masked."""
    cause: BaseException = err
    if err.args and isinstance(err.args[0], BaseException):
        cause = err.args[0]
    reason = getattr(cause, "reason", None)          # urllib3's MaxRetryError wraps the real one
    if isinstance(reason, BaseException):
        cause = reason
    lines = str(cause).splitlines() or [type(cause).__name__]
    text = lines[0]
    if url:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        text = text.replace(url, redact_url(url))
        if parts.query:
            text = text.replace(target, redact_url(target))
    return text[:300]
