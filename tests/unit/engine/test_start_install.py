"""The one install entry: a dry run is the real engine on a recording runner, and leaves nothing behind."""

from __future__ import annotations

import glob
import tempfile
from dataclasses import replace
from pathlib import Path

from installer.core.events import ListSink
from installer.engine.install import NOTHING_WRITTEN, InstallSettings, start_install
from keel_testing.samples import CONFIG, HARDWARE, PASSWORD


def dry_run(tmp_path: Path, config=CONFIG, **settings):
    sink = ListSink()
    outcome = start_install(config, HARDWARE, [sink], dry_run=True,
                            settings=InstallSettings(live_path=tmp_path / "no-live.json", **settings))
    return outcome, sink


def scratch_dirs() -> set[str]:
    return set(glob.glob(str(Path(tempfile.gettempdir()) / "keel-dry-run-*")))


def test_a_dry_run_runs_every_engine_phase_and_records_the_storage_commands(tmp_path):
    outcome, sink = dry_run(tmp_path)
    assert outcome.started and outcome.ok, [e.text for e in sink.of_type("error")]
    assert [e.text for e in sink.of_type("phase")][:2] == ["Removing old storage on the selected disks",
                                                           "Partitioning disks"]
    programs = [argv[0] for argv in outcome.commands]
    for program in ("pvcreate", "vgcreate", "lvcreate", "mkfs.vfat", "mkfs.ext4", "mount", "chroot"):
        assert program in programs, program
    assert all(PASSWORD not in " ".join(argv) for argv in outcome.commands)


def test_a_dry_run_removes_its_scratch_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))    # not /tmp, where parallel tests make their own
    before = scratch_dirs()
    dry_run(tmp_path)
    assert scratch_dirs() == before


def test_the_install_log_is_readable_by_root_only(tmp_path):
    log = tmp_path / "install.log"
    dry_run(tmp_path, log_path=log)
    assert log.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in log.read_text()


def test_an_impossible_plan_writes_nothing_and_says_so(tmp_path):
    setup = replace(CONFIG.disk_setup, disks=("/dev/nonexistent",))
    outcome, sink = dry_run(tmp_path, config=replace(CONFIG, disk_setup=setup))
    assert not outcome.started and not outcome.ok
    assert sink.of_type("error")[0].text == "the storage plan is impossible on this hardware"
    assert [e.text for e in sink.of_type("finished")] == [NOTHING_WRITTEN]
