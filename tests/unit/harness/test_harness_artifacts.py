"""Finding the ISO build's outputs, and building them through `make iso` only when they are missing."""

import json
import threading
import time

import pytest

from installer.runner import FakeRunner, Result
from keel_harness.artifacts import build_outputs, ensure_built
from keel_harness.spec import HarnessError


def make_iso_in(repo):
    def responder(argv, stdin):
        (repo / "build").mkdir(exist_ok=True)
        (repo / "build" / "keel-0.1.0.iso").write_text("iso")
        (repo / "build" / "keel.iso").symlink_to("keel-0.1.0.iso")
        (repo / "build" / "iso-build.json").write_text(json.dumps({"version": "0.1.0", "profile": "minimal"}))
        return Result(argv, 0, "==== [11/11] Build record\n")

    return responder


def test_a_missing_iso_is_built_with_make_iso_and_nothing_else(tmp_path):
    runner = FakeRunner(responders=[make_iso_in(tmp_path)])
    outputs = ensure_built(tmp_path, runner)
    assert runner.commands == [("make", "-C", str(tmp_path), "iso")]
    assert outputs.iso == tmp_path / "build" / "keel-0.1.0.iso"
    assert outputs.pxe_dir == tmp_path / "build" / "pxe"
    assert outputs.version == "0.1.0"


def test_an_existing_iso_is_used_without_building(tmp_path):
    make_iso_in(tmp_path)(("make",), None)
    runner = FakeRunner()
    ensure_built(tmp_path, runner)
    assert runner.commands == []


def test_parallel_test_processes_build_the_iso_once_and_the_others_wait_for_it(tmp_path):
    build = make_iso_in(tmp_path)

    def slow_build(argv, stdin):
        time.sleep(0.3)  # the others arrive while this one builds
        return build(argv, stdin)

    runner = FakeRunner(responders=[slow_build])
    found = []
    workers = [threading.Thread(target=lambda: found.append(ensure_built(tmp_path, runner))) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert runner.commands == [("make", "-C", str(tmp_path), "iso")]
    assert [outputs.iso.name for outputs in found] == ["keel-0.1.0.iso"] * 3


def test_a_failed_build_says_so_in_one_line_with_the_cause(tmp_path):
    runner = FakeRunner(responders=[lambda argv, stdin: Result(argv, 2, "", "debootstrap: not found")])
    with pytest.raises(HarnessError, match="`make iso` failed"):
        ensure_built(tmp_path, runner)


def test_a_build_that_leaves_no_iso_is_an_error(tmp_path):
    with pytest.raises(HarnessError, match=r"build/keel\.iso is not there"):
        ensure_built(tmp_path, FakeRunner())


def test_without_an_iso_there_are_no_outputs(tmp_path):
    assert build_outputs(tmp_path) is None


def test_workers_that_need_the_selftest_image_at_once_build_it_one_after_the_other(tmp_path, monkeypatch):
    from keel_harness import selftest_image

    inside, most = [], []

    def slow_build(out_dir, runner):
        inside.append(out_dir)
        most.append(len(inside))
        time.sleep(0.2)                 # the others arrive while this one downloads and builds
        inside.pop()
        return out_dir / "selftest.iso"

    monkeypatch.setattr(selftest_image, "_build", slow_build)
    found = []
    workers = [threading.Thread(target=lambda: found.append(selftest_image.build(tmp_path / "selftest", FakeRunner())))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert most == [1, 1, 1], "two builds ran side by side"
    assert found == [tmp_path / "selftest" / "selftest.iso"] * 3
