"""The README's wizard screenshots: every step rendered at 80x24 on the example server, as a person would see it
after the keys a test types (a test keeps the README current).

    python -m installer.tui.screenshots   # prints the Markdown section
"""

from __future__ import annotations

from collections.abc import Iterator

from installer.core.events import Event
from installer.core.hardware import HardwareProfile
from installer.engine.phases import EXTRACT
from installer.tui.app import Options, WizardApp
from installer.tui.checks import answerfile_checks
from installer.tui.model import Wizard

SIZE = (80, 24)
PASSWORD = "example-password"
# install.log lines as the runner writes them
EXAMPLE_LOG = [
    "$ mkfs.ext4 -F -U 7a0b8f3e-5b1c-4d7e-9a41-2f6c8d0e1b23 /dev/pve/root",
    "$ mount /dev/pve/root /target",
    "$ unsquashfs -f -i -d /target /usr/share/keel/payload.squashfs  (streamed)",
]


def _text(app: WizardApp) -> str:
    canvas = app.render(SIZE, focus=True)
    return "\n".join(line.decode().rstrip() for line in canvas.text)


def _press(app: WizardApp, *keys: str) -> None:
    for key in keys:
        app.keypress(SIZE, key)


def _type(app: WizardApp, text: str) -> None:
    for ch in text:
        app.keypress(SIZE, ch)


def screens(hardware: HardwareProfile) -> Iterator[tuple[str, str]]:
    """(caption, rendered screen) for each step, license to finish."""
    app = WizardApp(Wizard(hardware, answerfile_checks()), Options(reboot_seconds=5),
                    on_install=lambda _config: [])
    yield "License: the medium's EULA; I agree (Alt+G) continues", _text(app)
    _press(app, "meta g")
    yield "Target disks and options, with the plan of what will be written", _text(app)
    _press(app, "meta n")
    yield "Location, time zone and keyboard (the keyboard applies at once)", _text(app)
    _press(app, "meta n")
    _type(app, PASSWORD)
    _press(app, "down")
    _type(app, PASSWORD)
    _press(app, "down", "ctrl e", "ctrl u")
    _type(app, "admin@example.com")
    yield "Root password, confirmed, and the administrator's email", _text(app)
    _press(app, "meta n")
    yield "Management network, pre-filled from DHCP", _text(app)
    _press(app, "meta n")
    yield "Summary of every choice; Install stays refused until the erase is confirmed", _text(app)
    app.screens["summary"].erase.set_state(True)
    _press(app, "meta i")
    # the engine's own phase names, so the picture cannot drift from the install
    extract = EXTRACT
    app.handle_event(Event("phase", text=extract, phase=extract))
    app.handle_event(Event("progress", text="/usr/lib/x86_64-linux-gnu/libc.so.6", phase=extract, ratio=0.42))
    assert app.progress is not None
    app.progress.show_log(EXAMPLE_LOG)
    yield "Progress: bar, phase, the last lines of the install log", _text(app)
    app.handle_event(Event("finished", text="Installation finished successfully.", ok=True, ratio=1.0))
    yield "Finish: a reboot countdown (or the error, the log path and a debug shell)", _text(app)


def markdown(hardware: HardwareProfile | None = None) -> str:
    if hardware is None:
        from answerfile.demo import EXAMPLE_HARDWARE

        hardware = HardwareProfile.load(EXAMPLE_HARDWARE)
    parts = []
    for caption, text in screens(hardware):
        parts.append(f"{caption}:\n\n```\n{text}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
