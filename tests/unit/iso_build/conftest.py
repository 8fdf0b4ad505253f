"""Makes iso-build's `keel_iso` package importable (the directory name has a hyphen)."""

import sys
from pathlib import Path

ISO_BUILD = Path(__file__).resolve().parents[3] / "iso-build"
if str(ISO_BUILD) not in sys.path:
    sys.path.insert(0, str(ISO_BUILD))
