"""Keel's answer files: the Proxmox-compatible TOML schema, validation, filters and resolution."""
