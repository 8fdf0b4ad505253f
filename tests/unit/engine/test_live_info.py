"""/etc/keel/live.json: what the ISO build writes is read, and a broken file is one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.core.live import LiveInfo, LiveInfoError


def test_the_iso_builds_live_json_is_read(tmp_path):
    path = tmp_path / "live.json"
    path.write_text(json.dumps({"payload": "/usr/share/keel/payload.squashfs",
                                "payload_files": "/usr/share/keel/payload.files",
                                "profile": "pve", "mirror": "http://mirror.invalid/debian", "version": "0.1.0"}))
    assert LiveInfo.load(path) == LiveInfo(Path("/usr/share/keel/payload.squashfs"),
                                           Path("/usr/share/keel/payload.files"), "0.1.0", "pve",
                                           "http://mirror.invalid/debian")


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("{", "not valid JSON", id="broken json"),
    pytest.param('{"version": "1"}', "key 'payload' must be the path", id="no payload"),
    pytest.param('{"payload": "/p", "mirror": 3}', "key 'mirror' must be a string", id="a number as mirror"),
])
def test_a_bad_live_json_names_the_problem(tmp_path, text, message):
    path = tmp_path / "live.json"
    path.write_text(text)
    with pytest.raises(LiveInfoError, match=message):
        LiveInfo.load(path)


def test_a_missing_live_json_says_where_it_looked(tmp_path):
    with pytest.raises(LiveInfoError, match=r"live\.json: not found"):
        LiveInfo.load(tmp_path / "live.json")
