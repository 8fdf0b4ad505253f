"""keel-server: per-machine answers from an inventory, every install tracked from its first request to ready."""
