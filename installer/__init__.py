"""Keel's live-environment engine: hardware probe, storage plan and apply, target system, bootloader, UI."""

__version__ = "0.1.0"
