"""The cluster join (issue 16): the TLS join service every member runs (server), the joiner's side of it and the
push of a new nodelist to the members (client), the messages and proofs both speak (protocol), the service's
certificate (cert), the cluster's members as data (members) and what a node writes for them (local)."""
