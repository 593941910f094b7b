"""Calendar files (RFC 5545, via icalendar) with a case's dates, for "Add to calendar".

One event per date the person may want to see coming: the code's expiry, the day Meta's answer
is due, the day Meta should have answered the follow-up, the day the authority should report.
Summaries come from the templates' labels.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot.renderer import Renderer
from conversations import Button, Case

#: A deadline is shown as a short event at its moment, with a reminder a day before.
EVENT_LENGTH = timedelta(minutes=15)


def calendar_file(case: Case, renderer: Renderer) -> tuple[str, bytes]:
    language = case.language or "en"
    cal = Calendar()
    cal.add("prodid", "-//optout-bot//EN")
    cal.add("version", "2.0")
    dates: list[tuple[str, datetime | None, timedelta]] = [
        ("calendar.code_expires", case.code_expires_at, timedelta(minutes=10)),
        ("calendar.deadline", case.deadline_at, timedelta(days=1)),
        ("escalated.calendar_followup", case.followup_due_at, timedelta(days=1)),
        ("calendar.authority", case.authority_report_due_at, timedelta(days=1)),
    ]
    for label, moment, warn in dates:
        if moment is None:
            continue
        event = Event()
        event.add("uid", f"{label}-{case.chat_id}-{int(moment.timestamp())}@optout-bot")
        event.add("dtstamp", case.updated_at)
        event.add("dtstart", moment)
        event.add("dtend", moment + EVENT_LENGTH)
        event.add("summary", renderer.label(Button(label=label), language))
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", renderer.label(Button(label=label), language))
        alarm.add("trigger", -warn)
        event.add_component(alarm)
        cal.add_component(event)
    return "optout-dates.ics", cal.to_ical()
