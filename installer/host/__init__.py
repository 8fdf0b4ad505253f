"""The live host's own state, read and changed through the runner: mounts (/proc/self/mountinfo, mount and
umount) and the block-device tree (lsblk). One parser each; the probe, storage apply and the answer sources use
them. Imports only the core and the runner."""
