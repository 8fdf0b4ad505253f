"""The files the installer reads on its way to the first phase go first in the live squashfs (mksquashfs -sort)."""

import importlib.util
import json.decoder
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from installer.runner import Runner
from keel_iso import live
from keel_iso.rootfs import make_squashfs


def test_the_script_prints_the_imported_module_files_in_import_order_and_each_program_with_its_libraries():
    argv = live.startup_files_argv()
    assert argv[:2] == ["python3", "-c"]
    assert argv[3:argv.index("--walk")] == list(live.STARTUP_MODULES)
    assert argv[argv.index("--walk") + 1:argv.index("--")] == list(live.KEEL_PACKAGES)
    printed = subprocess.run([sys.executable, "-c", live.STARTUP_FILES_SCRIPT, "tomllib", "--walk", "json", "--",
                              "sh"], capture_output=True, text=True, check=True).stdout.splitlines()
    assert printed[0] == sys.executable
    tomllib_file = importlib.util.cache_from_source(tomllib.__file__)
    decoder_file = importlib.util.cache_from_source(json.decoder.__file__)   # a submodule the walk imported
    assert printed.index(tomllib_file) < printed.index(decoder_file), "imported first, printed first"
    assert shutil.which("sh") in printed
    assert any(Path(line).name.startswith("libc.so") for line in printed)       # sh's libraries, from ldd


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for name in ("usr/bin/python3.13", "usr/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/python3/m.pyc",
                 "etc/other"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    (root / "usr/bin/python3").symlink_to("python3.13")
    (root / "lib").symlink_to("usr/lib")
    (root / "etc/alternatives").mkdir()
    (root / "etc/alternatives/py").symlink_to("/usr/bin/python3")   # absolute: inside the tree, not the host's
    (root / "loop").symlink_to("loop")
    return root


def test_sort_lines_name_each_real_file_once_relative_to_the_tree(tree: Path):
    printed = "\n".join([
        "/usr/bin/python3",                       # a link to the file beside it
        "/lib/x86_64-linux-gnu/libc.so.6",        # through the merged-/usr directory link
        "/etc/alternatives/py",                   # an absolute link, followed inside the tree
        "/usr/lib/python3/m.pyc",
        "/usr/lib/python3/m.pyc",                 # printed twice, listed once
        "/usr/lib/python3/missing.pyc",           # a module without a cached file
        "/usr/lib/python3",                       # a directory
        "/loop",                                  # a link loop
        "relative/path", "",                      # not paths the script prints
        "/usr/lib/with space",
    ])
    assert live.render_sort_file(printed, tree) == (     # the first printed first in the image
        "usr/bin/python3.13 32767\n"
        "usr/lib/x86_64-linux-gnu/libc.so.6 32766\n"
        "usr/lib/python3/m.pyc 32765\n"
    )


def test_resolving_never_leaves_the_tree(tree: Path):
    (tree / "up").symlink_to("../../../../etc")
    assert live.resolve_inside(tree, "/up/other") == tree / "etc/other"
    assert live.resolve_inside(tree, "/loop") is None


@pytest.mark.skipif(shutil.which("mksquashfs") is None, reason="needs mksquashfs (squashfs-tools)")
@pytest.mark.parametrize("order", [["a/early", "z/late", "m/middle"], ["z/late", "m/middle", "a/early"]],
                         ids=["listed-in-name-order", "listed-against-name-order"])
def test_the_listed_files_data_comes_first_in_the_squashfs_in_the_listed_order(tmp_path: Path, order: list[str]):
    root = tmp_path / "root"
    data = {}
    for name in ("a/early", "m/middle", "z/late", "zz/unlisted"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        data[name] = os.urandom(200 * 1024)       # random data: squashfs stores its blocks as they are
        (root / name).write_bytes(data[name])
    sort_file = tmp_path / "sort"
    sort_file.write_text(live.render_sort_file("\n".join(f"/{name}" for name in order), root))
    image = tmp_path / "out.squashfs"
    make_squashfs(Runner(), root, image, lambda line: None, sort_file=sort_file)
    content = image.read_bytes()
    offsets = {name: content.find(data[name][:4096]) for name in data}
    assert all(offset > 0 for offset in offsets.values())
    assert sorted(data, key=offsets.__getitem__) == [*order, "zz/unlisted"]
