"""Make the harness package (qemu-harness/keel_harness) importable for its host-only unit tests."""

import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[3] / "qemu-harness"
if str(HARNESS) not in sys.path:
    sys.path.insert(0, str(HARNESS))
