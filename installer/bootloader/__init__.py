"""Making every selected disk bootable: GRUB for ext4/xfs, keel-boot-tool for ZFS and Btrfs."""
