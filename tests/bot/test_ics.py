"""The calendar file: a valid RFC 5545 file with the case's dates and a reminder before each."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from bot.ics import calendar_file
from bot.renderer import Renderer
from conversations.case import Case
from tests.support import START


def test_calendar_has_one_event_per_known_date(renderer: Renderer) -> None:
    """Code expiry and Meta's deadline become events with alarms; unknown dates are left out."""
    case = Case.new(1, START).model_copy(
        update={
            "language": "de",
            "code_expires_at": START + timedelta(hours=1),
            "deadline_at": START + timedelta(days=30),
        }
    )
    name, content = calendar_file(case, renderer)
    assert name.endswith(".ics")
    events = [c for c in Calendar.from_ical(content).walk("VEVENT")]
    assert [e.decoded("dtstart") for e in events] == [case.code_expires_at, case.deadline_at]
    assert all(e.walk("VALARM") for e in events)
    assert "Code" in str(events[0]["summary"])  # the German label


def test_calendar_without_dates_is_empty_but_valid(renderer: Renderer) -> None:
    """Nothing known yet: a valid calendar with no events."""
    _, content = calendar_file(Case.new(1, START).model_copy(update={"language": "en"}), renderer)
    assert Calendar.from_ical(content).walk("VEVENT") == []
