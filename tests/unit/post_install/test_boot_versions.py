"""Kernel version order must be dpkg's (Debian kernel versions, not string order)."""

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel_boot.kversion import compare_versions, newest_first, series

# (a, b, expected sign of a vs b), each worked out from dpkg's rules by hand.
ORDER_CASES = [
    ("6.12.43+deb13-amd64", "6.12.9+deb13-amd64", 1, "digit runs compare as numbers, 43 > 9"),
    ("6.1.0-37-amd64", "6.1.0-9-amd64", 1, "bookworm ABI numbers compare as numbers"),
    ("6.1.0-37-amd64", "6.12.43+deb13-amd64", -1, "minor 1 < 12"),
    ("6.12~rc1", "6.12", -1, "tilde sorts before the end of the string"),
    ("6.12.43+deb13-amd64", "6.12.43+deb13-amd64", 0, "equal strings"),
    ("1:5.10", "6.12", 1, "an epoch wins over everything"),
    ("6.16.3+deb13-amd64", "6.16.3+deb13-cloud-amd64", -1, "letters sort by ASCII: a < c"),
    ("1.0a", "1.0+", -1, "letters sort before non-letters"),
    ("1.0", "1.0.0", -1, "a longer version with the same prefix is newer"),
    ("6.8.12-4-pve", "6.8.12-10-pve", -1, "Proxmox kernel names order the same way"),
]


@pytest.mark.parametrize(("a", "b", "expected"), [c[:3] for c in ORDER_CASES], ids=[c[3] for c in ORDER_CASES])
def test_versions_order_as_dpkg_says(a, b, expected):
    assert compare_versions(a, b) == expected
    assert compare_versions(b, a) == -expected


def test_newest_first_sorts_debian_kernels_and_drops_duplicates():
    versions = ["6.12.9+deb13-amd64", "6.12.43+deb13-amd64", "6.1.0-37-amd64", "6.12.10+deb13-amd64",
                "6.12.43+deb13-amd64"]
    assert newest_first(versions) == ("6.12.43+deb13-amd64", "6.12.10+deb13-amd64", "6.12.9+deb13-amd64",
                                      "6.1.0-37-amd64")


@pytest.mark.parametrize(
    ("version", "expected"),
    [("6.12.43+deb13-amd64", (6, 12)), ("6.1.0-37-amd64", (6, 1)), ("6.8.12-4-pve", (6, 8)), ("custom", None)],
    ids=["trixie kernel", "bookworm kernel", "proxmox kernel", "no numeric series"],
)
def test_series_is_major_and_minor(version, expected):
    assert series(version) == expected


# Valid Debian versions only: upstream starts with a digit, a revision (after the last '-') is not empty.
_chars = "0123456789.+~abz"
_versions = st.builds(
    lambda head, upstream, revision: head + upstream + (f"-{revision}" if revision else ""),
    st.sampled_from("0123456789"),
    st.text(alphabet=_chars, max_size=10),
    st.text(alphabet=_chars, max_size=4),
)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed")
@settings(max_examples=60, deadline=None)
@given(_versions, _versions)
def test_order_agrees_with_dpkg_compare_versions_on_random_versions(a, b):
    def dpkg(op: str) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True).returncode == 0

    expected = 0 if dpkg("eq") else (-1 if dpkg("lt") else 1)
    assert compare_versions(a, b) == expected
