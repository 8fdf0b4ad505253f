"""Where auto mode gets its answer: the ISO, a partition labelled PROXMOX-AIS, or an HTTPS URL (reference §7).

Imports only the core, the runner and the host helpers; modules here import each other directly.
"""

from installer.answer_sources.errors import AnswerSourceError

__all__ = ["AnswerSourceError"]
