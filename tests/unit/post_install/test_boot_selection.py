"""Which kernels stay on the ESPs (reference §4.2) and which boots by default."""

import pytest

from keel_boot.selection import (
    INSTALLING,
    MANUAL,
    NEWEST,
    NEXT_BOOT,
    PINNED,
    PREVIOUS_SERIES,
    RUNNING,
    select_kernels,
)

K38 = "6.12.38+deb13-amd64"
K41 = "6.12.41+deb13-amd64"
K43 = "6.12.43+deb13-amd64"
K48 = "6.12.48+deb13-amd64"
OLD37 = "6.1.0-37-amd64"
OLD38 = "6.1.0-38-amd64"
NEW1 = "6.16.1+deb13-amd64"
NEW3 = "6.16.3+deb13-amd64"

# (installed, keyword arguments, expected versions newest first, expected default, id)
CASES = [
    ([K43], {}, [K43], K43, "a single kernel is kept and is the default"),
    ([K38, K41, K43], {"running": K43}, [K43, K41], K43, "the two newest of one series are kept, the third goes"),
    ([OLD37, OLD38, K38, K41, K43], {"running": K38}, [K43, K41, K38, OLD38], K43,
     "the running kernel and the newest of the previous series stay too"),
    ([NEW3, NEW1, K43, K41, OLD38], {}, [NEW3, NEW1, K43], NEW3,
     "previous series means the series just below the newest one, nothing older"),
    (["6.12.9+deb13-amd64", "6.12.10+deb13-amd64", "6.12.8+deb13-amd64"], {},
     ["6.12.10+deb13-amd64", "6.12.9+deb13-amd64"], "6.12.10+deb13-amd64", "newest is by version, not by string"),
    ([K41, K43, K48], {"installing": K41}, [K48, K43, K41], K48, "the kernel being installed is kept"),
    ([OLD37, K41, K43], {"manual": [OLD37]}, [K43, K41, OLD37], K43, "a manually added kernel is kept"),
    ([K38, K41, K43], {"pinned": K38}, [K43, K41, K38], K38, "a pinned kernel is kept and is the default"),
    ([K38, K41, K43], {"pinned": K41, "next_boot": K38}, [K43, K41, K38], K38,
     "a next-boot pin beats the persistent pin as default"),
    ([K41, K43], {"running": "6.10.1-live-amd64"}, [K43, K41], K43,
     "a running kernel that is not installed (the installer's, in a chroot) is ignored"),
    ([], {}, [], None, "no installed kernel selects nothing"),
]


@pytest.mark.parametrize(
    ("installed", "kwargs", "versions", "default"), [c[:4] for c in CASES], ids=[c[4] for c in CASES]
)
def test_kernel_selection(installed, kwargs, versions, default):
    chosen = select_kernels(installed, **kwargs)
    assert list(chosen.versions) == versions
    assert chosen.default == default


def test_each_kept_kernel_says_why():
    chosen = select_kernels([OLD38, K38, K41, K43], running=K38, manual=[OLD38], pinned=K41, next_boot=K38)
    assert chosen.why(K43) == (NEWEST,)
    assert chosen.why(K41) == (NEWEST, PINNED)
    assert chosen.why(K38) == (RUNNING, NEXT_BOOT)
    assert chosen.why(OLD38) == (PREVIOUS_SERIES, MANUAL)


def test_wanted_kernels_that_are_not_installed_are_reported_not_kept():
    chosen = select_kernels([K43], installing=K48, manual=[OLD37], pinned=K41)
    assert chosen.versions == (K43,)
    assert chosen.missing == ((K48, INSTALLING), (OLD37, MANUAL), (K41, PINNED))
    assert chosen.default == K43
