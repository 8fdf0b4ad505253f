"""post-install/ is its own tree (installed to /usr/lib/keel): make its modules and the unit tests' fakes importable."""

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2]
for path in (TESTS.parent / "post-install", TESTS / "unit" / "post_install"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """systemd-boot, a Debian kernel and a static busybox, unpacked (see boot_guest)."""
    import boot_guest  # importable only once the paths above are in place

    return boot_guest.unpacked_parts(tmp_path_factory)
