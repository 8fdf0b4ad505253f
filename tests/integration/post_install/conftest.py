"""post-install/ is its own tree (installed to /usr/lib/keel): make its modules importable in these tests."""

import sys
from pathlib import Path

POST_INSTALL = Path(__file__).resolve().parents[3] / "post-install"
if str(POST_INSTALL) not in sys.path:
    sys.path.insert(0, str(POST_INSTALL))
