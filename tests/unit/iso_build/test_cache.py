"""Cache keys change exactly when an input changes; the cache directory comes from option, env or default."""

from pathlib import Path

from keel_iso.cache import DEFAULT_CACHE_DIR, CacheLayout, base_key, cache_key, resolve_cache_dir, zfs_key

MIRROR = "http://mirror.example/debian"


def test_same_inputs_give_the_same_key_whatever_the_argument_order():
    assert cache_key(a=1, b="x") == cache_key(b="x", a=1)
    assert len(cache_key(a=1)) == 16


def test_include_order_does_not_change_the_base_key():
    assert base_key("trixie", MIRROR, ("main", "contrib"), ("a", "b")) == base_key(
        "trixie", MIRROR, ("main", "contrib"), ("b", "a"))


def test_a_different_mirror_suite_or_component_gives_a_new_base():
    key = base_key("trixie", MIRROR, ("main", "contrib"), ("a",))
    assert key != base_key("trixie", "http://other.example/debian", ("main", "contrib"), ("a",))
    assert key != base_key("forky", MIRROR, ("main", "contrib"), ("a",))
    assert key != base_key("trixie", MIRROR, ("main",), ("a",))


def test_zfs_modules_are_keyed_by_kernel_and_zfs_version():
    key = zfs_key("6.12.38+deb13-amd64", "2.3.2-2")
    assert key != zfs_key("6.12.41+deb13-amd64", "2.3.2-2")
    assert key != zfs_key("6.12.38+deb13-amd64", "2.3.3-1")


def test_cache_dir_option_beats_environment_beats_default():
    env = {"KEEL_CACHE_DIR": "/srv/keel-cache"}
    assert resolve_cache_dir("/tmp/c", env) == Path("/tmp/c")
    assert resolve_cache_dir(None, env) == Path("/srv/keel-cache")
    assert resolve_cache_dir(None, {}) == DEFAULT_CACHE_DIR == Path("/var/cache/keel-build")


def test_layout_keeps_everything_under_the_cache_root():
    layout = CacheLayout(Path("/c"))
    assert layout.base_tarball("k") == Path("/c/base/trixie-k.tar")
    assert layout.zfs_deb_dir("z") == Path("/c/zfs/z")
    assert layout.apt_archives == Path("/c/apt-archives")
