"""Storage planning: turn an InstallConfig and a HardwareProfile into an exact, previewable StoragePlan."""
