"""The conversation diagram, generated from the transition table (the README embeds it)."""

from __future__ import annotations

from conversations.table import BACK_FROM, GLOBAL, TABLE

#: The pseudo-state standing for "whichever step the person is at".
ANY = "any_step"


def mermaid() -> str:
    lines = ["stateDiagram-v2", "    [*] --> new", f'    state "any step" as {ANY}']
    for source, moves in TABLE.items():
        for trigger, target in moves.items():
            lines.append(f"    {source.value} --> {target.value}: {trigger.value}")
    for trigger, global_target in GLOBAL.items():
        if global_target is None:
            lines.append(f"    {BACK_FROM[trigger].value} --> {ANY}: {trigger.value}")
        else:
            lines.append(f"    {ANY} --> {global_target.value}: {trigger.value}")
    return "\n".join(lines) + "\n"
