"""Which profile answers a machine: selectors (JSON-pointer globs over the system info, MAC lists, labels), the
highest priority wins, an operator's assignment overrides, the default profile answers what nothing else matches.

Pure functions over plain values; the service feeds them the stored profiles and machines. A JSON pointer is
RFC 6901 with one addition: a `*` token stands for every element of an array (or value of an object), so
`/network_interfaces/*/mac=3c:ec:ef:*` matches when any NIC's MAC does.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class SelectorError(ValueError):
    """A selector that cannot be used: a pointer that is not one, an empty glob."""


@dataclass(frozen=True)
class Candidate:
    """A profile as matching sees it."""

    name: str
    priority: int = 0
    is_default: bool = False
    match: dict[str, str] = field(default_factory=dict)     # JSON pointer -> glob, all must match
    macs: tuple[str, ...] = ()                              # any of the machine's MACs
    labels: dict[str, str] = field(default_factory=dict)    # every label, exactly

    @property
    def has_selectors(self) -> bool:
        return bool(self.match or self.macs or self.labels)


@dataclass(frozen=True)
class Subject:
    """A machine as matching sees it: its system info, MACs, labels and the profile an operator assigned."""

    sysinfo: dict[str, Any]
    macs: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    assigned: str | None = None
    name: str = "this machine"


@dataclass(frozen=True)
class Decision:
    profile: str | None
    why: str                                   # "assigned", "matched", "default", or why nothing answers
    tie: tuple[str, str] | None = None


def check_pointer(pointer: str) -> None:
    if not pointer.startswith("/"):
        raise SelectorError(f"--match {pointer}: a JSON pointer starts with '/', e.g. /dmi/system/serial")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def resolve_pointer(document: Any, pointer: str) -> list[Any]:
    """Every value `pointer` reaches in `document` (one, several through `*`, or none)."""
    check_pointer(pointer)
    found = [document]
    for token in (_unescape(t) for t in pointer.split("/")[1:]):
        nxt: list[Any] = []
        for value in found:
            if token == "*" and isinstance(value, list | dict):
                nxt += list(value.values()) if isinstance(value, dict) else value
            elif isinstance(value, dict) and token in value:
                nxt.append(value[token])
            elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
                nxt.append(value[int(token)])
        found = nxt
    return found


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def miss(candidate: Candidate, subject: Subject) -> str | None:
    """The first selector of `candidate` that `subject` does not satisfy, in words; None when all do."""
    for pointer, glob in candidate.match.items():
        values = resolve_pointer(subject.sysinfo, pointer)
        if not values:
            return f"{pointer}={glob}: {pointer} is not in the system info"
        if not any(fnmatch.fnmatchcase(_as_text(v), glob) for v in values):
            shown = ", ".join(repr(_as_text(v)) for v in values[:4])
            return f"{pointer}={glob}: {shown} does not match"
    if candidate.macs and not set(candidate.macs) & set(subject.macs):
        return f"--mac {','.join(candidate.macs)}: none of {', '.join(subject.macs)}"
    for key, want in candidate.labels.items():
        have = subject.labels.get(key)
        if have != want:
            return f"--label {key}={want}: " + (f"the label is {key}={have}" if have is not None else
                                               f"{subject.name} has no label {key}")
    if not candidate.has_selectors:
        return "no selectors (only answers as the default profile)" if candidate.is_default else "no selectors"
    return None


def matching(candidates: Iterable[Candidate], subject: Subject) -> list[Candidate]:
    """The profiles whose selectors all match, highest priority first (the default profile only by its own)."""
    found = [c for c in candidates if c.has_selectors and miss(c, subject) is None]
    return sorted(found, key=lambda c: (-c.priority, c.name))


def decide(candidates: list[Candidate], subject: Subject) -> Decision:
    by_name = {c.name: c for c in candidates}
    if subject.assigned is not None:
        if subject.assigned in by_name:
            return Decision(subject.assigned, "assigned")
        return Decision(None, f"assigned to profile {subject.assigned}, which does not exist")
    found = matching(candidates, subject)
    if len(found) > 1 and found[0].priority == found[1].priority:
        a, b = found[0].name, found[1].name
        return Decision(None, f"profiles {a} and {b} both match at priority {found[0].priority}", tie=(a, b))
    if found:
        return Decision(found[0].name, "matched")
    default = next((c for c in candidates if c.is_default), None)
    if default is not None:
        return Decision(default.name, "default")
    return Decision(None, "no profile matches and there is no default profile")


def tie(candidate: Candidate, others: Iterable[Candidate], subjects: Iterable[Subject]) -> str | None:
    """Why saving `candidate` is refused: another profile that also matches a known machine at the same
    priority (naming both and the machine); None when there is none."""
    if not candidate.has_selectors:
        return None
    rivals = [o for o in others if o.name != candidate.name and o.priority == candidate.priority
              and o.has_selectors]
    for subject in subjects:
        if miss(candidate, subject) is not None:
            continue
        for rival in rivals:
            if miss(rival, subject) is None:
                return (f"profile {candidate.name} ties with profile {rival.name} at priority {candidate.priority} "
                        f"for {subject.name}: give one of them another --priority or narrower selectors")
    return None


def explain(candidates: list[Candidate], subject: Subject) -> list[str]:
    """One line for the answering profile (or why none answers), then one per other profile."""
    decision = decide(candidates, subject)
    lines = []
    if decision.profile is not None:
        how = {"assigned": "assigned by an operator", "matched": "its selectors match",
               "default": "the default profile; no other profile matches"}[decision.why]
        chosen = next(c for c in candidates if c.name == decision.profile)
        lines.append(f"answer: profile {chosen.name} (priority {chosen.priority}): {how}")
    else:
        lines.append(f"no answer: {decision.why}")
    for c in sorted(candidates, key=lambda c: (-c.priority, c.name)):
        if c.name == decision.profile:
            continue
        reason = miss(c, subject)
        if reason is None:
            if decision.why == "assigned":
                reason = "matches, but the machine is assigned to another profile"
            elif decision.tie and c.name in decision.tie:
                reason = "matches, and ties at the same priority"
            else:
                reason = "matches, but at a lower priority"
        lines.append(f"  profile {c.name} (priority {c.priority}{', default' if c.is_default else ''}): {reason}")
    return lines
