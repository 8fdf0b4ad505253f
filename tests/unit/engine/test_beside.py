"""Work started beside the phases (`InstallContext.beside`): it overlaps what follows, ends before the phase that
waits for it and before the cleanup, and its failure fails the install with what it was."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from installer.core.events import EventBus, ListSink
from installer.core.live import LiveInfo
from installer.engine.engine import InstallFailed, run_install
from installer.engine.phases import Phase
from installer.phase import InstallContext
from installer.runner import CommandError, FakeRunner
from keel_testing.samples import HARDWARE, LVM_PLAN


def context(tmp_path: Path, sink: ListSink) -> InstallContext:
    return InstallContext(config=None, plan=LVM_PLAN, hardware=HARDWARE, runner=FakeRunner(),  # type: ignore[arg-type]
                          events=EventBus([sink]), live=LiveInfo(payload=Path("/nonexistent"), payload_files=None),
                          target=tmp_path / "target", log_path=tmp_path / "install.log")


def test_beside_work_overlaps_the_next_phases_and_ends_before_the_phase_that_waits(tmp_path):
    order, release = [], threading.Event()

    def slow():
        assert release.wait(5), "the next phase did not run while the work beside it was running"
        order.append("beside done")

    phases = [
        Phase("Start", 0.3, lambda ctx: ctx.beside("slow work", slow)),
        Phase("Overlapping", 0.3, lambda ctx: (order.append("overlapping ran"), release.set())),
        Phase("Finishing", 0.4, lambda ctx: order.append("finishing"), after_beside=True),
    ]
    run_install(context(tmp_path, ListSink()), phases)
    assert order == ["overlapping ran", "beside done", "finishing"]


def test_a_failure_beside_fails_the_install_where_it_is_waited_for(tmp_path):
    sink = ListSink()

    def fails():
        raise CommandError(["lvcreate", "--type", "thin-pool"], "exit status 5", "no space\n", 5)

    phases = [
        Phase("Creating volumes", 0.5, lambda ctx: ctx.beside("the thin pool", fails)),
        Phase("Finishing", 0.5, lambda ctx: None, after_beside=True),
    ]
    with pytest.raises(InstallFailed) as err:
        run_install(context(tmp_path, sink), phases)
    assert err.value.phase == "Finishing"
    assert "lvcreate --type thin-pool" in err.value.reason
    assert any("the thin pool, which ran beside the other work, failed" in e.text for e in sink.events)


def test_an_earlier_failure_stays_first_and_the_work_beside_still_ends_before_the_cleanup(tmp_path):
    order, started = [], threading.Event()

    def work():
        started.set()
        order.append("beside done")

    def cleanup_check(ctx):
        ctx.cleanup.callback(lambda: order.append("cleanup"))
        ctx.beside("work", work)
        assert started.wait(5)
        raise RuntimeError("the extraction broke")

    with pytest.raises(InstallFailed) as err:
        run_install(context(tmp_path, ListSink()), [Phase("Extracting", 1.0, cleanup_check)])
    assert err.value.reason == "the extraction broke"
    assert order == ["beside done", "cleanup"]


def test_without_concurrency_the_work_runs_at_once(tmp_path):
    ctx = context(tmp_path, ListSink())
    ctx.concurrent = False
    ran = []
    ctx.beside("work", lambda: ran.append(threading.current_thread() is threading.main_thread()))
    assert ran == [True]


def test_a_phase_waits_only_for_the_work_started_for_it_and_gets_its_failure_first(tmp_path):
    sink, order, release = ListSink(), [], threading.Event()

    def unrelated():
        assert release.wait(5), "the boot loaders waited for work they do not need"
        order.append("unrelated done")

    def esp():
        order.append("esp started")
        raise CommandError(["mkfs.vfat", "-F32", "/dev/vda2"], "exit status 1", "no such device\n", 1)

    def boot(ctx):
        try:
            ctx.wait_wanted("boot")
        finally:
            order.append("boot waited")
            release.set()

    def start(ctx):
        ctx.beside("the thin pool", unrelated)
        ctx.beside("FAT32 ESP", esp, wanted_by="boot")

    phases = [Phase("Creating file systems", 0.5, start), Phase("Making the disks bootable", 0.5, boot)]
    with pytest.raises(InstallFailed) as err:
        run_install(context(tmp_path, sink), phases)
    assert err.value.phase == "Making the disks bootable"
    assert "mkfs.vfat -F32 /dev/vda2" in err.value.reason
    assert order == ["esp started", "boot waited", "unrelated done"]
    assert any("FAT32 ESP, which ran beside the other work, failed" in e.text for e in sink.events)
