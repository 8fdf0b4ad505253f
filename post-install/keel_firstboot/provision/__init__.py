"""[provision] on the installed system: the installer's /etc/keel/provision.json, read (model), the corosync.conf it
leads to (render_corosync), the steps first boot takes for it (steps, shown by `keel-firstboot plan`) and running
them (execute, with their record in record; `keel-firstboot provision`).

What works now: reading the file, rendering corosync.conf, listing the steps, and running them by hand: skipped
when already true, retried until a deadline, recorded per step. What does not exist yet (issue 16): a unit that
runs them at boot (the installer enables none; the units in post-install/systemd run the [first-boot] hook
only), the join service and the join client (the cluster-secret protocol in installer/core/provision.py; a join
step fails saying so), /etc/hosts and known_hosts of the members, the reports, and the e2e cluster test.
"""
