"""Where auto mode gets its answer: the ISO, a partition labelled PROXMOX-AIS, or an HTTPS URL (reference §7)."""

from __future__ import annotations


class AnswerSourceError(RuntimeError):
    """No answer could be fetched; the message names the source and what went wrong, one line per attempt."""
