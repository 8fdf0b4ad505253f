"""The machine Keel installs on: its recorded profile, how it is probed, and converters from other formats."""
