"""Engine tests share the hand-built samples of the target tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "target"))
