"""The README shows every wizard step as it renders now (regenerate with `python -m installer.tui.screenshots`)."""

from pathlib import Path

from answerfile.demo import EXAMPLE_HARDWARE
from installer.core.hardware import HardwareProfile
from installer.tui.screenshots import markdown, screens

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_screenshots_are_current():
    readme = README.read_text()
    start = readme.index("\n", readme.index("<!-- wizard-screenshots:start"))
    end = readme.index("<!-- wizard-screenshots:end -->")
    assert readme[start:end].strip() == markdown().strip(), "run: python -m installer.tui.screenshots"


def test_there_is_one_screenshot_per_step_from_the_license_to_the_finish():
    titles = [text.splitlines()[1].strip() for _, text in screens(HardwareProfile.load(EXAMPLE_HARDWARE))]
    assert titles == ["License agreement", "Target disks and options", "Location, time zone and keyboard",
                      "Administration password and email address", "Management network configuration", "Summary",
                      "Installing", "Installation finished"]
