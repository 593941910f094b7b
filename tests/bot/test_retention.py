"""Retention: closed cases are erased after 30 days, inactive ones after 120, by the scheduler."""

from __future__ import annotations

from datetime import timedelta

from bot.renderer import Renderer
from bot.scheduler import Retention, Scheduler
from bot.storage import Storage
from conversations import Policy
from conversations.case import Case, Step
from conversations.effects import Say, Schedule
from tests.support import START, Clock


async def noop(reminder: object) -> None:  # noqa: ARG001 - the scheduler's handler signature
    return None


def case(chat: int, step: Step, days_ago: int) -> Case:
    at = START - timedelta(days=days_ago)
    return Case.new(chat, at).model_copy(update={"step": step, "email": f"p{chat}@example.org"})


async def test_scheduler_erases_closed_and_inactive_cases(storage: Storage, clock: Clock) -> None:
    """Closed 31 days ago, idle 121 days: erased with their rows; recent ones stay."""
    await storage.commit(case(1, Step.DONE, 31), [Say(message="help")])
    await storage.commit(case(2, Step.DONE, 29), [])
    await storage.commit(case(3, Step.WAITING, 121), [Schedule(key="checkin", due_at=START)])
    await storage.commit(case(4, Step.WAITING, 90), [])
    scheduler = Scheduler(storage, noop, clock, Retention(timedelta(days=30), timedelta(days=120)))
    assert await scheduler.purge_if_due() == 2
    assert [await storage.load(c) is None for c in (1, 2, 3, 4)] == [True, False, True, False]
    assert await storage.pending(1) == [] and await storage.reminders(3) == {}
    assert await scheduler.purge_if_due() == 0  # at most once an hour
    clock.advance(days=2)
    assert await scheduler.purge_if_due() == 1  # case 2 is now past 30 days


def test_welcome_states_the_retention_numbers(renderer: Renderer) -> None:
    """The welcome text says how long data is kept, from settings."""
    policy = Policy(retention_closed_days=14, retention_inactive_days=60)
    text = renderer.message(Say(message="welcome", context=policy.retention()), "en").plain
    assert "14 days" in text and "60 days" in text


async def test_retention_keeps_only_what_change_alerts_need(storage: Storage, clock: Clock) -> None:
    """A closed case whose person asked for change alerts: the answers go after 30 days like
    everyone's; the language, the country and the yes stay, until /delete or "off"."""
    alerted = case(5, Step.DONE, 31).model_copy(
        update={"alerts": True, "language": "de", "country": "AT", "own_words": "mine"}
    )
    await storage.commit(alerted, [Schedule(key="checkin", due_at=START)])
    scheduler = Scheduler(storage, noop, clock, Retention(timedelta(days=30), timedelta(days=120)))
    assert await scheduler.purge_if_due() == 1
    kept = await storage.load(5)
    assert kept is not None and kept.step is Step.NEW
    assert (kept.language, kept.country, kept.alerts) == ("de", "AT", True)
    assert kept.email is None and kept.own_words is None and not kept.reasons
    assert await storage.reminders(5) == {}
    assert await storage.alert_chats() == [5]
    clock.advance(days=200)
    assert await scheduler.purge_if_due() == 0  # nothing more to take away
    assert await storage.load(5) == kept
