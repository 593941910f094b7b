"""Time for a case: the code countdown, the check-in ladder, quiet hours, time zones.

Pure functions of the case, the knowledge data and ``now``. Durations come from the knowledge
data (``[schedule]`` for product timing, jurisdictions for legal periods), never from literals.
Time-zone rules are reference data (``zoneinfo``, with the ``tzdata`` package as fallback), read
like the knowledge file; no clock is read here.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import get_global

from conversations.case import Case
from conversations.knowledge import Knowledge

# Reminder keys. Stored in the database with each reminder: never rename one.
TICK = "tick"
CODE_LEFT = "code_left"  # + ":<minutes>"
CODE_EXPIRED = "code_expired"
CHECKIN = "checkin"
AUTHORITY = "authority_report"
FOLLOWUP = "followup_due"

#: Where CLDR lists several zones for a country and the first is not where most people live.
PRIMARY_ZONES = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "MX": "America/Mexico_City",
    "AR": "America/Argentina/Buenos_Aires",
    "ID": "Asia/Jakarta",
    "CL": "America/Santiago",
    "NZ": "Pacific/Auckland",
}
UTC_ZONE = "UTC"


def zones_of(country: str) -> list[str]:
    """The IANA zones CLDR lists for a country (empty for none)."""
    zones = get_global("territory_zones")
    return [z for z in zones.get(country, []) if is_zone(z)]


def default_zone(country: str | None) -> str:
    if country is None:
        return UTC_ZONE
    zones = zones_of(country)
    if country in PRIMARY_ZONES and PRIMARY_ZONES[country] in zones:
        return PRIMARY_ZONES[country]
    return zones[0] if zones else UTC_ZONE


def is_zone(name: str) -> bool:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: "Canada", "Europe" are folders of zones, not zones (IsADirectoryError)
        return False
    return True


def zone(case: Case) -> ZoneInfo:
    return ZoneInfo(case.timezone or default_zone(case.country))


# -- the code countdown ---------------------------------------------------------------------


def code_validity(case: Case, knowledge: Knowledge) -> timedelta | None:
    """How long Meta's code is valid here, from the knowledge data (None where unknown)."""
    if case.country is None:
        return None
    minutes = knowledge.jurisdiction_for(case.country, case.region).code.validity_minutes
    return timedelta(minutes=minutes) if minutes else None


def minutes_left(case: Case, now: datetime) -> int | None:
    """Whole minutes until the code expires, rounded up (0 once it has; None where nobody
    knows how long Meta's code stays valid: such a code never "expires" here)."""
    if case.code_expires_at is None:
        return None
    if now >= case.code_expires_at:
        return 0
    return math.ceil((case.code_expires_at - now).total_seconds() / 60)


def next_tick(case: Case, knowledge: Knowledge, now: datetime) -> datetime | None:
    """When the countdown message is next updated: every few minutes, every minute at the end."""
    if case.code_expires_at is None or now >= case.code_expires_at:
        return None
    s = knowledge.schedule
    left = case.code_expires_at - now
    step = timedelta(
        minutes=1
        if left <= timedelta(minutes=s.countdown_final_minutes)
        else s.countdown_tick_minutes
    )
    # Align ticks to whole steps before expiry so the displayed minutes are round numbers.
    steps_before_expiry = math.ceil(left / step) - 1
    due = case.code_expires_at - steps_before_expiry * step
    if due <= now:
        due = now + step
    return min(due, case.code_expires_at)


def code_reminder_keys(knowledge: Knowledge) -> list[str]:
    return [f"{CODE_LEFT}:{m}" for m in knowledge.schedule.code_reminders_minutes]


def code_reminder_is_current(key: str, case: Case, knowledge: Knowledge, now: datetime) -> bool:
    """A "N minutes left" reminder still fits the present: the code is valid, and no smaller
    reminder has become due meanwhile (after downtime only the most recent one is sent)."""
    left = minutes_left(case, now)
    if left is None or left <= 0:
        return False
    threshold = int(key.split(":", 1)[1])
    smaller = [m for m in knowledge.schedule.code_reminders_minutes if m < threshold]
    return not any(left <= m for m in smaller)


# -- check-ins -----------------------------------------------------------------------------


def deadline(case: Case, knowledge: Knowledge, start: datetime) -> datetime | None:
    """When Meta's answer is due by law, for an objection sent at ``start``."""
    if case.country is None:
        return None
    period = knowledge.jurisdiction_for(case.country, case.region).deadline
    return period.ends(start) if period else None


def next_checkin(case: Case, knowledge: Knowledge, now: datetime) -> datetime | None:
    """The next rung of the ladder after ``now`` (the deadline is the last), in daytime."""
    start = case.code_entered_at or case.form_submitted_at
    if start is None:
        return None
    rungs = [start + timedelta(hours=h) for h in knowledge.schedule.checkin_after_hours]
    if case.deadline_at is not None:
        rungs = [r for r in rungs if r < case.deadline_at] + [case.deadline_at]
    upcoming = [r for r in rungs if r > now]
    return daytime(case, knowledge, upcoming[0]) if upcoming else None


def is_quiet(case: Case, knowledge: Knowledge, moment: datetime) -> bool:
    hour = moment.astimezone(zone(case)).hour
    start, end = knowledge.schedule.quiet_from_hour, knowledge.schedule.quiet_until_hour
    return hour >= start or hour < end if start > end else start <= hour < end


def daytime(case: Case, knowledge: Knowledge, moment: datetime) -> datetime:
    """``moment``, or soon after the end of the person's night if it falls into quiet hours.

    Held-over check-ins are spread over the first minutes of the morning (by chat, so the same
    case always gets the same moment), so a country's people do not all get theirs at 09:00:00.
    """
    if not is_quiet(case, knowledge, moment):
        return moment
    local = moment.astimezone(zone(case))
    wake = local.replace(
        hour=knowledge.schedule.quiet_until_hour, minute=0, second=0, microsecond=0
    )
    if wake <= local:
        wake = (local + timedelta(days=1)).replace(
            hour=knowledge.schedule.quiet_until_hour, minute=0, second=0, microsecond=0
        )
    return (wake + wake_spread(case, knowledge)).astimezone(moment.tzinfo)


def wake_spread(case: Case, knowledge: Knowledge) -> timedelta:
    """This case's place in the morning spread: a fixed offset from its chat id."""
    spread = knowledge.schedule.wake_spread_minutes * 60
    return timedelta(seconds=case.chat_id % spread) if spread else timedelta(0)


def authority_report_due(case: Case, knowledge: Knowledge, start: datetime) -> datetime | None:
    if case.country is None:
        return None
    period = knowledge.jurisdiction_for(case.country, case.region).authority_report
    return daytime(case, knowledge, period.ends(start)) if period else None


def followup_due(
    case: Case, knowledge: Knowledge, start: datetime, *, again: bool = False
) -> datetime:
    """When to ask "did Meta answer your follow-up?", for a follow-up written at ``start``: after
    the days the law gives Meta to acknowledge it (the UK's s.164A: 30), else the product's two
    weeks; ``again`` (the person said "not yet"): a week later. In daytime."""
    return daytime(case, knowledge, start + followup_wait(case, knowledge, again=again))


def followup_wait(case: Case, knowledge: Knowledge, *, again: bool = False) -> timedelta:
    s = knowledge.schedule
    if again:
        return timedelta(days=s.followup_again_days)
    law = knowledge.jurisdiction_for(case.country, case.region).law if case.country else None
    first = law.controller_complaint if law else None
    return timedelta(days=first.days if first and first.days else s.followup_wait_days)
