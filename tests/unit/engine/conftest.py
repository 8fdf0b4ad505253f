"""Engine tests share the TLS server of the answer-source tests."""

from keel_testing.tls_server import certificate, https_server

__all__ = ["certificate", "https_server"]
