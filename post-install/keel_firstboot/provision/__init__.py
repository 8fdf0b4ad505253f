"""[provision] on the installed system: the installer's /etc/keel/provision.json, read (model), the corosync.conf it
leads to (render_corosync), the steps first boot takes for it (steps, shown by `keel-firstboot plan`) and running
them (execute, with their record in record; `keel-firstboot provision`).

What works now: reading the file, rendering corosync.conf, listing the steps, and running them by hand: skipped
when already true, retried until a deadline, recorded per step. The cluster join, its service and the
members' /etc/hosts and known_hosts are keel_firstboot.join. What does not exist yet (issue 16): a unit that
runs them at boot (the installer enables none; the units in post-install/systemd run the [first-boot] hook
only), the reports, and the e2e cluster test.
"""
