"""The event stream a dry run shows on the progress screen: the install's phases, without touching anything."""

from __future__ import annotations

from installer.config import InstallConfig
from installer.engine.events import Event, EventBus, ListSink

# (phase, weight) in install order; the same steps the engine walks, so a demo looks like the real thing
PHASES: tuple[tuple[str, float], ...] = (
    ("Removing old storage on the selected disks", 0.05),
    ("Partitioning disks", 0.05),
    ("Creating volumes", 0.05),
    ("Making filesystems", 0.05),
    ("Unpacking the system", 0.55),
    ("Configuring the system", 0.15),
    ("Installing the bootloader", 0.07),
    ("Finishing", 0.03),
)
STEPS_PER_PHASE = 4


def simulated_events(config: InstallConfig, destroy: tuple[str, ...] = ()) -> list[Event]:
    """Every event of a successful install of `config`, in order (dry run: nothing happens)."""
    sink = ListSink()
    bus = EventBus([sink], weights=dict(PHASES), clock=lambda: 0.0)
    setup = config.disk_setup
    for name, _weight in PHASES:
        bus.phase(name)
        if name.startswith("Removing"):
            for line in destroy:
                bus.message(f"dry run: would wipe {line}")
        if name == "Creating volumes":
            bus.message(f"dry run: {setup.label} on {', '.join(setup.disks)}")
        for step in range(1, STEPS_PER_PHASE + 1):
            bus.progress(step / STEPS_PER_PHASE)
    bus.message(f"dry run: hostname {config.network.fqdn}, address {config.network.cidr}")
    bus.finished(True, "Dry run finished: the configuration is written, no disk was touched.")
    return sink.events
