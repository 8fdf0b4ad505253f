"""The machine Keel installs on: how it is probed (`probe`) and converted from Proxmox's run-env files
(`pve_env`); the HardwareProfile type itself is `installer.core.hardware`. `cli` (`keel-installer probe`) is a
frontend."""
