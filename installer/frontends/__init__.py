"""The frontends that start an install without the wizard: `keel-installer run` (a saved InstallConfig) and
`keel-installer auto` (an answer file). Each parses its arguments, chooses its event sinks and calls the engine's
one entry, `installer.engine.install.start_install`; like every cli.py and the wizard, they may import any layer.
"""
