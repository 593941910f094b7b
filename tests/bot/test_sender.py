"""The sender: order, urgency, Telegram's rate limits, retries, blocked chats, edited messages."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.renderer import Message, Renderer
from bot.sender import ChatUnreachable, Limits, MessageGone, RetryLater, Sender
from bot.storage import Storage
from conversations import Policy
from conversations.case import Case
from conversations.effects import Say, Schedule
from tests.support import START, Clock, open_storage
from tests.support.transport import FakeTransport, drain


def case(chat: int) -> Case:
    return Case.new(chat, START).model_copy(update={"language": "en"})


async def queue(storage: Storage, chat: int, *says: Say) -> None:
    await storage.commit(case(chat), list(says))


@pytest.fixture
def transport(clock: Clock) -> FakeTransport:
    return FakeTransport(clock)


@pytest.fixture
def sender(storage: Storage, renderer: Renderer, transport: FakeTransport, clock: Clock) -> Sender:
    return Sender(storage, renderer, transport, clock)


async def test_a_chat_gets_its_messages_in_order(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """Within one chat the order is kept, whatever the urgency."""
    await queue(
        storage,
        1,
        Say(message="help", urgency="checkin"),
        Say(message="privacy", context=Policy().retention()),
    )
    await drain(sender, clock)
    assert [s[1][:12] for s in transport.sent] == ["What I can d", "Privacy noti"]


async def test_urgent_messages_jump_the_queue_across_chats(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """Replies first, then the countdown, then check-ins, across chats."""
    await queue(storage, 1, Say(message="help", urgency="checkin"))
    await queue(storage, 2, Say(message="help", urgency="countdown"))
    await queue(storage, 3, Say(message="help", urgency="reply"))
    await drain(sender, clock)
    assert [chat for chat, _, _ in transport.sent] == [3, 2, 1]


async def test_never_more_than_30_per_second_overall(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """A backlog of 200 messages to 200 chats goes out at no more than 30 in any second."""
    for chat in range(200):
        await queue(storage, chat, Say(message="help"))
    await drain(sender, clock)
    times = [when for _, _, when in transport.sent]
    assert len(times) == 200
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t - start < timedelta(seconds=1)]
        assert len(in_window) <= 30
    assert times[-1] - times[0] >= timedelta(seconds=6)


async def test_one_chat_gets_a_short_burst_then_one_per_second(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """Ten messages to one chat: a burst of three, then about one a second."""
    await queue(storage, 7, *[Say(message="help") for _ in range(10)])
    await drain(sender, clock)
    times = [when for _, _, when in transport.sent]
    assert times[2] - times[0] < timedelta(seconds=0.1)
    assert times[9] - times[2] >= timedelta(seconds=6.9)


async def test_retry_after_pauses_everything_for_as_long_as_asked(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """Flood control: after a 429 nothing new starts before Telegram's retry_after has passed
    (a call already under way for another chat could still finish), and nothing is lost."""
    await queue(storage, 1, Say(message="help"))
    await queue(storage, 2, Say(message="help"))
    transport.failures = [RetryLater(12)]
    assert await sender.send_ready() == pytest.approx(12)
    await queue(storage, 3, Say(message="help"))  # arrives during the pause: waits too
    under_way = [chat for chat, _, _ in transport.sent]  # started together with chat 1's
    await drain(sender, clock)
    assert under_way in ([], [2])
    assert sorted(chat for chat, _, _ in transport.sent) == [1, 2, 3]
    later = [at - START for chat, _, at in transport.sent if chat not in under_way]
    assert len(later) >= 2 and all(wait >= timedelta(seconds=12) for wait in later)


async def test_network_errors_are_retried_with_backoff(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """Three failures in a row, then success: delivered once, after growing pauses."""
    await queue(storage, 1, Say(message="help"))
    transport.failures = [OSError("down"), TimeoutError(), ConnectionError()]
    await drain(sender, clock)
    assert len(transport.sent) == 1
    assert transport.sent[0][2] - START >= timedelta(seconds=2 + 4 + 8)


async def test_a_message_that_keeps_failing_is_given_up(
    storage: Storage, renderer: Renderer, transport: FakeTransport, clock: Clock
) -> None:
    """After the last attempt the message is dropped (and logged), so the queue moves on."""
    sender = Sender(storage, renderer, transport, clock, Limits(max_attempts=3))
    await queue(
        storage, 1, Say(message="help"), Say(message="privacy", context=Policy().retention())
    )
    transport.failures = [OSError()] * 3
    await drain(sender, clock)
    assert [s[1][:7] for s in transport.sent] == ["Privacy"]


async def test_blocked_chat_loses_its_queue_and_reminders(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """Forbidden: nothing more is retried or scheduled for that chat; others go on."""
    await storage.commit(
        case(1),
        [
            Say(message="help"),
            Say(message="privacy", context=Policy().retention()),
            Schedule(key="checkin", due_at=START + timedelta(days=1)),
        ],
    )
    await queue(storage, 2, Say(message="help"))
    transport.failures = [ChatUnreachable()]
    await drain(sender, clock)
    assert [chat for chat, _, _ in transport.sent] == [2]
    assert await storage.reminders(1) == {}
    assert await storage.pending(1) == []


async def test_countdown_is_edited_in_place(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """The first countdown message is sent; later ones edit it; a vanished one is re-sent."""
    await queue(storage, 1, Say(message="help", slot="countdown"))
    await queue(storage, 1, Say(message="help", slot="countdown", edit=True))
    await drain(sender, clock)
    assert transport.sent[1][1].startswith("EDIT 101:")
    transport.failures = [MessageGone()]
    await queue(storage, 1, Say(message="help", slot="countdown", edit=True))
    await drain(sender, clock)
    assert not transport.sent[-1][1].startswith("EDIT")
    assert await storage.slot(1, "countdown") == 102


async def test_flush_ignores_rate_limits_for_the_console(storage: Storage, sender: Sender) -> None:
    """flush() delivers everything at once (a terminal has no flood limits)."""
    await queue(storage, 1, *[Say(message="help") for _ in range(10)])
    assert await sender.flush() == 10


async def test_nothing_is_lost_when_the_process_dies_mid_delivery(
    db_path: Path, renderer: Renderer, clock: Clock
) -> None:
    """A transport that dies after accepting a message: the message is sent again, not lost."""
    storage = await open_storage(db_path)
    await queue(storage, 1, Say(message="help"))

    class DiesAfterSending(FakeTransport):
        accepted = asyncio.Event()

        async def send_message(self, chat_id: int, message: Message) -> int:
            await super().send_message(chat_id, message)
            self.accepted.set()
            await asyncio.Event().wait()  # Telegram has it; the process dies right here
            raise AssertionError("unreachable")

    dying = DiesAfterSending(clock)
    sending = asyncio.create_task(Sender(storage, renderer, dying, clock).send_ready())
    await dying.accepted.wait()
    sending.cancel()  # the process dies before the delivery is recorded
    with pytest.raises(asyncio.CancelledError):
        await sending
    await storage.close()
    storage = await open_storage(db_path)
    again = FakeTransport(clock)
    await drain(Sender(storage, renderer, again, clock), clock)
    await storage.close()
    assert len(dying.sent) == 1 and len(again.sent) == 1  # at least once: one duplicate


async def test_a_reply_is_not_stuck_behind_its_own_chats_checkin(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """A chat whose oldest message is a check-in but which has a reply waiting ranks as urgent:
    its check-in goes first, and its reply before any other chat's next check-in."""
    for chat in range(10, 20):
        await queue(storage, chat, *[Say(message="help", urgency="checkin") for _ in range(2)])
    await queue(storage, 1, Say(message="help", urgency="checkin"), Say(message="help"))
    await drain(sender, clock)
    order = [chat for chat, _, _ in transport.sent]
    assert order[0] == 1
    reply_at = order.index(1, 1)
    before = order[:reply_at]
    assert all(before.count(chat) <= 1 for chat in range(10, 20))
    assert sorted(order) == sorted([1, 1, *range(10, 20), *range(10, 20)])


async def test_an_out_of_date_countdown_message_is_not_sent_but_refreshed(
    storage: Storage, sender: Sender, transport: FakeTransport, clock: Clock
) -> None:
    """ "4 minutes left" that reaches its turn after its moment: dropped, and its reminder is
    due again at once (in the same transaction), so the brain says what fits now; never sent
    late."""
    late = Say(
        message="code_reminder",
        context={"minutes": 4},
        urgency="countdown",
        valid_until=START + timedelta(seconds=60),
        refresh="code_left:5",
    )
    fresh = late.model_copy(update={"valid_until": START + timedelta(hours=2)})
    await queue(storage, 1, late)
    await queue(storage, 2, fresh)
    clock.advance(minutes=30)  # the bot was down
    await drain(sender, clock)
    assert [chat for chat, _, _ in transport.sent] == [2]
    assert await storage.reminders(1) == {"code_left:5": clock.now}
    assert await storage.reminders(2) == {}
    assert await storage.pending() == []


class SlowTransport(FakeTransport):
    """Takes ``latency`` seconds of real time per call; records how many were under way."""

    def __init__(self, clock: Clock, latency: float) -> None:
        super().__init__(clock)
        self.latency = latency
        self.under_way = 0
        self.most_under_way = 0

    async def send_message(self, chat_id: int, message: Message) -> int:
        self.under_way += 1
        self.most_under_way = max(self.most_under_way, self.under_way)
        try:
            await asyncio.sleep(self.latency)
            return await super().send_message(chat_id, message)
        finally:
            self.under_way -= 1


async def test_several_chats_are_sent_to_at_once_one_message_each(
    storage: Storage, renderer: Renderer, clock: Clock
) -> None:
    """With slow round trips the sender keeps several calls under way, but never two for the
    same chat, so each chat's order is kept."""
    from bot.inbox import utc_now

    transport = SlowTransport(clock, latency=0.3)  # real time: the pace is 30 a second
    sender = Sender(storage, renderer, transport, utc_now)
    for chat in range(1, 11):
        await queue(storage, chat, Say(message="help"), Say(message="slow_down"))
    async with asyncio.timeout(30):
        while (pause := await sender.send_ready()) is not None:
            await asyncio.sleep(pause)
    assert transport.most_under_way >= 5
    for chat in range(1, 11):
        mine = [what for c, what, _ in transport.sent if c == chat]
        assert len(mine) == 2 and "a lot of messages" in mine[1]  # help first, then the other


async def test_failures_and_retries_never_exceed_the_overall_limit(
    storage: Storage, renderer: Renderer, clock: Clock
) -> None:
    """Every call counts, failed ones too: with a third of the chats' first calls failing, no
    one-second window holds more than 30 calls, and every message is delivered once."""

    class Flaky(FakeTransport):
        def __init__(self, clock: Clock) -> None:
            super().__init__(clock)
            self.calls: list[datetime] = []
            self.failed: set[int] = set()

        async def send_message(self, chat_id: int, message: Message) -> int:
            self.calls.append(self.clock())
            if chat_id % 3 == 0 and chat_id not in self.failed:
                self.failed.add(chat_id)
                raise ConnectionError("reset")
            return await super().send_message(chat_id, message)

    transport = Flaky(clock)
    sender = Sender(storage, renderer, transport, clock, Limits(backoff_first=0.5))
    for chat in range(200):
        await queue(storage, chat, Say(message="help"))
    await drain(sender, clock)
    times = sorted(transport.calls)
    assert len({c for c, _, _ in transport.sent}) == 200
    for i, start in enumerate(times):
        within = [t for t in times[i:] if t - start < timedelta(seconds=1)]
        assert len(within) <= 30, f"{len(within)} calls within a second from {start}"


async def test_a_reply_committed_mid_pass_goes_out_without_the_idle_pause(
    storage: Storage, renderer: Renderer
) -> None:
    """The background sender is busy with a slow call when a reply is committed and the sender
    woken: the reply goes out right after, not after the 60-second idle pause."""
    from bot.inbox import utc_now

    transport = SlowTransport(Clock(), latency=0.3)
    sender = Sender(storage, renderer, transport, utc_now)
    await queue(storage, 1, Say(message="help"))
    running = asyncio.create_task(sender.run())
    try:
        while transport.under_way == 0:
            await asyncio.sleep(0.01)
        await queue(storage, 1, Say(message="slow_down"))  # same chat: waits for the first
        sender.wake()
        async with asyncio.timeout(10):  # the idle pause would be 60 s
            while len(transport.sent) < 2:
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert len(transport.sent) == 2
