"""keel-boot-tool: keeps the kernels on every EFI system partition of an installed system in sync."""
