"""[provision] on the installed system: the installer's /etc/keel/provision.json, read (model), the corosync.conf it
leads to (render_corosync), the steps first boot takes for it (steps, shown by `keel-firstboot plan`) and running
them (execute, with their record in record; `keel-firstboot provision`).

Running them (keel-provision.service at first boot, or by hand): skipped when already true, retried until a
deadline, recorded per step; what a run shows on the console and reports is feedback. The cluster join, its service
and the members' /etc/hosts and known_hosts are keel_firstboot.join. tests/e2e/test_cluster.py runs them on two real
installs."""
