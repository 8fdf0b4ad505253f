"""Keel's live-environment installer. Layers, lowest first (each imports only those below it):
`core` (types, defaults, rules; imports nothing else of Keel); `runner` and `host` (commands, mounts, block
devices); `hardware`, `answer_sources` and `storage.plan`; `phase` (what a phase is given); `storage.apply`,
`installed_system` and `bootloader` (the phases); `engine` (the phase list and the one install entry,
`engine.install.start_install`); the frontends (`frontends`, `tui`, every `cli.py`), which may import anything.
"""

__version__ = "0.1.0"
