"""keel-firstboot: runs the answer's [first-boot] hook once on the installed system and records how it went."""
