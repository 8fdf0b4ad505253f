"""Storage: `plan` turns an InstallConfig and a HardwareProfile into an exact, previewable StoragePlan (imports
only the core); `apply` carries a plan out as typed steps (imports the core, the runner, the host helpers, the
plan and `installer.phase`)."""
