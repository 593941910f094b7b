"""The conversation diagram, generated from the transition table (the README embeds it)."""

from __future__ import annotations

from conversations.table import GLOBAL, TABLE, Trigger

#: The pseudo-state standing for "whichever step the person is at".
ANY = "any_step"


def mermaid() -> str:
    lines = ["stateDiagram-v2", "    [*] --> new", f'    state "any step" as {ANY}']
    for source, moves in TABLE.items():
        for trigger, target in moves.items():
            lines.append(f"    {source.value} --> {target.value}: {trigger.value}")
    for trigger, global_target in GLOBAL.items():
        if global_target is None:
            lines.append(f"    {_back_from(trigger)} --> {ANY}: {trigger.value}")
        else:
            lines.append(f"    {ANY} --> {global_target.value}: {trigger.value}")
    return "\n".join(lines) + "\n"


def _back_from(trigger: Trigger) -> str:
    """Where a "back to where you were" trigger starts: the side step that it ends."""
    sides = {Trigger.LANGUAGE_CHOSEN: "language", Trigger.TIMEZONE_CHOSEN: "timezone"}
    return sides.get(trigger, "paused")
