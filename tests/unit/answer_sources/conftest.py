"""The local TLS server fixtures (shared with the engine's auto-mode tests)."""

from keel_testing.tls_server import certificate, http_server, https_server, other_certificate, other_https_server

__all__ = ["certificate", "http_server", "https_server", "other_certificate", "other_https_server"]
