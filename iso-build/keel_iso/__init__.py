"""Keel's ISO build: the payload, the live environment, the hybrid ISO and the PXE artifacts."""
