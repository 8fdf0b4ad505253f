"""The installed system: its files (one renderer per file in `render/`, written by `writer`), the chroot it is
configured in, and unpacking the payload onto it. A phase module: imports the core, the runner, the host
helpers, the storage plan and `installer.phase`, never the engine."""
