"""post-install/ is its own tree (installed to /usr/lib/keel): make its modules and the unit tests' fakes importable."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
for path in (TESTS.parent / "post-install", TESTS / "unit" / "post_install"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
