"""Making every selected disk bootable: GRUB for ext4/xfs, keel-boot-tool for ZFS and Btrfs, as a pure list of
boot steps and a small executor that is handed its callables (it imports nothing of the engine)."""
