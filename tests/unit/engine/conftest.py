"""Engine tests share the hand-built samples of the target tests and the TLS server of the answer-source tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "target"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "answer_sources"))

from tls_server import certificate, https_server

__all__ = ["certificate", "https_server"]
