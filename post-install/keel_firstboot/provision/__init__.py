"""[provision] on the installed system: the installer's /etc/keel/provision.json, read (model), the corosync.conf it
leads to (render_corosync) and the steps first boot will take for it (steps), shown by `keel-firstboot plan`.

What works now: reading the file, rendering corosync.conf, listing the steps. What does not exist yet (issue 16):
running the steps (an executor with idempotent, retried steps and their status), the join service and the join
client (the cluster-secret protocol in installer/core/provision.py), /etc/hosts and known_hosts of the members,
the reports, and the e2e cluster test. Nothing here runs at boot: no unit calls it.
"""
