"""The local TLS server fixtures (shared with the engine's auto-mode tests)."""

from tls_server import certificate, https_server

__all__ = ["certificate", "https_server"]
