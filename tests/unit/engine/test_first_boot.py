"""The [first-boot] executable is had before the first phase: from the medium or its URL (pinned), and when it
cannot be had the install stops with nothing written."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from installer.core.config import FirstBoot
from installer.core.events import ListSink
from installer.core.fetch_mode import FIRST_BOOT_FILE, FIRST_BOOT_MAX_BYTES
from installer.engine.first_boot import DRY_RUN_SCRIPT, FirstBootError, check_payload, obtain_script
from installer.engine.install import NOTHING_WRITTEN, InstallSettings, start_install
from installer.runner import FakeRunner
from keel_testing.samples import CONFIG, HARDWARE

SCRIPT = b"#!/bin/sh\necho first boot\n"
UNIT_LINE = "squashfs-root/usr/lib/systemd/system/keel-firstboot-multi-user.service\n"


def medium_with(tmp_path: Path, data: bytes | None) -> Path:
    medium = tmp_path / "medium"
    (medium / "keel").mkdir(parents=True)
    if data is not None:
        (medium / FIRST_BOOT_FILE).write_bytes(data)
    return medium


def test_from_iso_reads_the_mediums_file(tmp_path):
    assert obtain_script(FirstBoot("from-iso"), medium_with(tmp_path, SCRIPT)) == SCRIPT


def test_from_iso_without_the_file_says_how_to_prepare_the_iso(tmp_path):
    with pytest.raises(FirstBootError, match=r"the medium has no /keel/first-boot .*--on-first-boot"):
        obtain_script(FirstBoot("from-iso"), medium_with(tmp_path, None))


@pytest.mark.parametrize(("data", "message"), [
    pytest.param(b"x" * (FIRST_BOOT_MAX_BYTES + 1), "larger than 1 MiB", id="more than 1 MiB"),
    pytest.param(b"", "is empty", id="an empty file"),
])
def test_from_iso_refuses_what_is_no_executable(tmp_path, data, message):
    with pytest.raises(FirstBootError, match=message):
        obtain_script(FirstBoot("from-iso"), medium_with(tmp_path, data))


def test_from_url_downloads_pinned_to_the_fingerprint(https_server, tmp_path):
    https_server.reply.update(type="application/octet-stream", body=SCRIPT)
    said = []
    first = FirstBoot("from-url", "fully-up", https_server.url, https_server.fingerprint)
    assert obtain_script(first, tmp_path, say=said.append) == SCRIPT
    assert https_server.received[0]["method"] == "GET"
    assert said == [f"downloading the first-boot executable from {https_server.url}"]


def test_from_url_with_the_wrong_fingerprint_fails_naming_the_answers_key(https_server, tmp_path):
    first = FirstBoot("from-url", "fully-up", https_server.url, "11" * 32)
    with pytest.raises(FirstBootError, match=r"does not match first-boot\.cert-fingerprint"):
        obtain_script(first, tmp_path, say=lambda _: None)


def test_from_url_never_shows_the_urls_credentials(https_server, tmp_path):
    url = https_server.url.replace("https://", "https://hook:s3cr3t@")
    https_server.reply.update(status=404, body="gone")
    said = []
    with pytest.raises(FirstBootError) as err:
        obtain_script(FirstBoot("from-url", "fully-up", url, https_server.fingerprint), tmp_path, say=said.append)
    assert "s3cr3t" not in str(err.value) + "".join(said)


def test_a_dry_run_downloads_nothing_and_stands_in_for_a_missing_file(tmp_path):
    said = []
    first = FirstBoot("from-url", "fully-up", "https://user:pw@127.0.0.1:9/hook")
    assert obtain_script(first, tmp_path, dry_run=True, say=said.append) == DRY_RUN_SCRIPT
    assert "pw" not in said[0]
    assert obtain_script(FirstBoot("from-iso"), medium_with(tmp_path, None), dry_run=True,
                         say=said.append) == DRY_RUN_SCRIPT


def test_a_payload_listing_without_the_unit_is_refused(tmp_path):
    listing = tmp_path / "payload.files"
    listing.write_text("squashfs-root\nsquashfs-root/usr/sbin/keel-boot-tool\n")
    with pytest.raises(FirstBootError, match="rebuild the ISO"):
        check_payload(FirstBoot("from-iso"), listing)
    listing.write_text("squashfs-root\n" + UNIT_LINE)
    check_payload(FirstBoot("from-iso"), listing)
    check_payload(FirstBoot("from-iso"), None)


def real_install(tmp_path: Path, first: FirstBoot, *, medium: Path, payload_files: str = UNIT_LINE):
    """A real (not dry) install on a recording runner: it must stop before its first command."""
    live = tmp_path / "live.json"
    (tmp_path / "payload.files").write_text("squashfs-root\n" + payload_files)
    live.write_text(json.dumps({"payload": str(tmp_path / "payload.squashfs"),
                                "payload_files": str(tmp_path / "payload.files")}))
    runner, sink = FakeRunner(), ListSink()
    outcome = start_install(replace(CONFIG, first_boot=first), HARDWARE, [sink], dry_run=False,
                            settings=InstallSettings(live_path=live, runner=runner, medium=medium,
                                                     target=tmp_path / "target", log_path=tmp_path / "install.log",
                                                     events_path=tmp_path / "events.jsonl"))
    return outcome, sink, runner


def test_a_missing_from_iso_script_fails_the_install_before_any_disk_is_touched(tmp_path):
    outcome, sink, runner = real_install(tmp_path, FirstBoot("from-iso"), medium=medium_with(tmp_path, None))
    assert not outcome.started and not outcome.ok
    assert runner.commands == []
    assert "--on-first-boot" in sink.of_type("error")[0].text
    assert [e.text for e in sink.of_type("finished")] == [NOTHING_WRITTEN]
    assert sink.of_type("phase") == []


def test_a_failed_download_fails_the_install_before_any_disk_is_touched(https_server, tmp_path):
    https_server.reply.update(status=404, body="no hook here")
    first = FirstBoot("from-url", "fully-up", https_server.url, https_server.fingerprint)
    outcome, sink, runner = real_install(tmp_path, first, medium=tmp_path)
    assert not outcome.started and runner.commands == []
    assert "http error: 404" in sink.of_type("error")[0].text


def test_an_iso_whose_payload_cannot_run_the_hook_fails_before_any_disk_is_touched(tmp_path):
    outcome, sink, runner = real_install(tmp_path, FirstBoot("from-iso"), medium=medium_with(tmp_path, SCRIPT),
                                         payload_files="squashfs-root/usr/sbin/keel-boot-tool\n")
    assert not outcome.started and runner.commands == []
    assert "rebuild the ISO" in sink.of_type("error")[0].text


def test_a_dry_run_with_first_boot_goes_through(tmp_path):
    sink = ListSink()
    outcome = start_install(replace(CONFIG, first_boot=FirstBoot("from-iso", "before-network")), HARDWARE, [sink],
                            dry_run=True, settings=InstallSettings(live_path=tmp_path / "no-live.json",
                                                                   medium=medium_with(tmp_path, SCRIPT)))
    assert outcome.ok, [e.text for e in sink.of_type("error")]
    assert any("first-boot hook: /var/lib/keel/first-boot/script runs once at before-network" in e.text
               for e in sink.of_type("message"))
