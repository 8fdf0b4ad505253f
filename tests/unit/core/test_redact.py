"""redact_url: user info and secret-looking query parameters never reach a message or a log."""

import pytest

from installer.core.redact import redact_url

CASES = [
    ("https://user:pass@answers.example/a", "https://***@answers.example/a", "user and password are masked"),
    ("https://only-user@answers.example:8443/a", "https://***@answers.example:8443/a", "a user alone is masked too"),
    ("https://answers.example/a?token=abc&mac=52:54", "https://answers.example/a?token=***&mac=52:54",
     "a token parameter is masked and the others stay"),
    ("https://h/a?access_token=1&api_key=2&apiKey=3&Password=4&client_secret=5&auth=6&sig=7",
     "https://h/a?access_token=***&api_key=***&apiKey=***&Password=***&client_secret=***&auth=***&sig=***",
     "names that contain token, key, password, secret, auth or sig are masked in any case"),
    ("https://s3.example/b?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&X-Amz-Date=2024",
     "https://s3.example/b?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Date=2024",
     "a presigned URL keeps its date and hides its credential and signature"),
    ("https://h/a#access_token=xyz", "https://h/a#access_token=***", "a fragment is masked like a query"),
    ("https://h/a?flag&mode=auto", "https://h/a?flag&mode=auto", "nothing secret: unchanged"),
    ("https://h/p@th?x=1", "https://h/p@th?x=1", "an @ in the path is not user info"),
    ("http://[::1/a?token=t", "http://[::1/a?token=***", "an unparseable host still masks"),
    ("not a url ?password=hunter2", "not a url ?password=***", "plain text is handled without raising"),
]


@pytest.mark.parametrize(("url", "shown"), [pytest.param(u, s, id=i) for u, s, i in CASES])
def test_redact_url(url, shown):
    assert redact_url(url) == shown
