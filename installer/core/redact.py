"""Hiding the credentials a URL can carry (user info, secret-looking query parameters) before it is shown or logged."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

MASK = "***"

# A parameter is masked when its name contains one of these: access_token, apikey, X-Amz-Signature, passwd, ...
SECRET_NAME = re.compile(r"token|key|pass|pwd|secret|auth|sig|credential|session|cookie", re.IGNORECASE)
AUTHORITY = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*:)?//(?P<netloc>[^/]*)(?P<path>.*)$", re.DOTALL)


def redact_url(url: str) -> str:
    """`url` with its user info replaced by *** and the values of secret-looking query parameters masked.

    Works on the text alone and never raises, so it is safe in error paths with whatever a user typed.
    """
    rest, hash_mark, fragment = url.partition("#")
    rest, question_mark, query = rest.partition("?")
    match = AUTHORITY.match(rest)
    if match and "@" in match["netloc"]:
        host = match["netloc"].rpartition("@")[2]
        rest = f"{match['scheme'] or ''}//{MASK}@{host}{match['path']}"
    return rest + question_mark + _mask_parameters(query) + hash_mark + _mask_parameters(fragment)


def _mask_parameters(text: str) -> str:
    def mask(pair: str) -> str:
        name, equals, _ = pair.partition("=")
        return f"{name}={MASK}" if equals and SECRET_NAME.search(unquote_plus(name)) else pair

    return "&".join(mask(pair) for pair in text.split("&")) if text else text
