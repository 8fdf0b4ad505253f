"""The disks screen's live preview: the storage plan for the current choice, or why there is none yet."""

from __future__ import annotations

from typing import Any

from installer.tui.model import Wizard


def describe(wizard: Wizard) -> list[Any]:
    """Markup for the preview pane: the planner's own rendering, what will be destroyed, or the problems."""
    from installer.storage.plan import PlanError, plan
    from installer.storage.plan.table import format_plan

    problems = wizard.problems("disks")
    if problems:
        return [("error", "No plan yet:\n")] + [("error", f"! {p.message}\n") for p in problems]
    try:
        storage = plan(wizard.preview_config(), wizard.hardware)
    except PlanError as err:
        return [("error", "The planner refuses this choice:\n")] + [("error", f"! {p}\n") for p in err.problems]
    except Exception as err:  # a planner bug must not take the whole wizard down; Next re-checks anyway
        return [("error", f"The plan could not be computed ({type(err).__name__}: {err}).")]
    return [format_plan(storage)]
