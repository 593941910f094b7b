"""4. urgency: countdowns and replies jump a queue of check-ins.

With check-ins queued (one per chat), 50 ``countdown`` messages and then 50 ``reply`` messages
for other chats are committed; how long does each wait? Extra case: 50 replies to chats that
have a check-in of their own queued. The outbox comes from the production assembly.
Baseline: the wait a first-in-first-out queue would give them.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks._support.cases import new_case, waiting_case
from benchmarks._support.report import Table, heading, log, ms, secs
from benchmarks._support.shell import RecordingTransport, assemble_in, stop, utc_now
from benchmarks._support.stats import pct
from conversations import Say, checkin

CHECKIN_CHATS = 3_000_001  # first chat id of the check-ins ...
COUNTDOWN_CHATS = 4_000_001  # ... of the countdowns ...
REPLY_CHATS = 5_000_001  # ... and of the replies


async def run(tmp: Path, checkins: int, urgent: int, latency: float, summary: Table) -> None:
    heading(f"4. Urgency: {urgent} countdowns / replies while {checkins:,} check-ins are queued")
    print(
        f"  {checkins:,} check-ins (urgency 'checkin', one per chat) are queued; the outbox runs\n"
        f"  2s, then at t0 {urgent} 'code_reminder' messages (urgency 'countdown') for other\n"
        f"  chats are committed and the outbox woken; then {urgent} 'help' replies ('reply').\n"
        "  Wait = sent - t0. Baseline: a first-in-first-out queue would send them after every\n"
        "  check-in still queued at t0 (backlog / 30 per s). Extra: 50 replies for chats spread\n"
        "  over the queue that have a check-in of their own queued: a chat's messages keep their\n"
        "  order, so each waits for its own check-in (baseline: that check-in's position / 30)."
    )
    transport = RecordingTransport(latency)
    services = await assemble_in(tmp / "urgency", transport)
    storage, sender, renderer = services.storage, services.sender, services.renderer
    limit = sender.limits.global_per_second
    checkin_chats = range(CHECKIN_CHATS, CHECKIN_CHATS + checkins)
    try:
        now = utc_now()
        t = time.perf_counter()
        for chat in checkin_chats:
            case = waiting_case(chat, now)
            await storage.commit(case, [checkin(case, services.knowledge, False)])
        log(f"urgency: queued {checkins:,} check-ins in {secs(time.perf_counter() - t)}")
        task = asyncio.create_task(sender.run(), name="sender")
        await asyncio.sleep(2.0)
        countdown = Say(message="code_reminder", context={"minutes": 10}, urgency="countdown")
        reply = Say(message="help")
        rounds: list[tuple[str, Sequence[int] | None, Say, float]] = [
            ("countdown", range(COUNTDOWN_CHATS, COUNTDOWN_CHATS + urgent), countdown, 30.0),
            ("reply", range(REPLY_CHATS, REPLY_CHATS + urgent), reply, 30.0),
            ("reply, own check-in queued", None, reply, 20.0),
        ]
        for label, chosen, say, timeout in rounds:
            queue = [item.chat_id for item in await storage.pending(limit=10 * checkins)]
            backlog = len(queue)
            if chosen is None:  # chats spread evenly over the check-ins still queued
                step = max(1, len(queue) // urgent)
                chosen = queue[::step][:urgent]
            chats = list(chosen)
            position = {chat: queue.index(chat) if chat in queue else 0 for chat in chats}
            expected = renderer.message(say, "en").html  # (not the chat's own check-in)
            before = len(transport.sent)
            t0 = time.time()
            for chat in chats:
                await storage.commit(new_case(chat, now), [say])
                sender.wake()
            committed = time.time() - t0
            targets = set(chats)

            def all_sent(
                targets: set[int] = targets, before: int = before, html: str = expected
            ) -> bool:
                new = transport.sent[before:]
                got = sum(1 for s in new if s.chat_id in targets and s.html == html)
                return got >= len(targets)

            done = await transport.wait_for(all_sent, timeout)
            waits: list[float] = []
            overtook = 0
            for s in transport.sent[before:]:
                if s.chat_id in targets and s.html == expected:
                    waits.append(s.at - t0)
                elif len(waits) < len(targets) and s.chat_id in checkin_chats:
                    overtook += 1
            missing = len(targets) - len(waits)
            everything = waits + [math.inf] * missing
            p50, p99 = pct(everything, 50), pct(everything, 99)

            def show(value: float, timeout: float = timeout) -> str:
                return f"> {timeout:g} s" if math.isinf(value) else secs(value)

            if any(position.values()):
                own = sorted(position[c] / limit for c in chats)
                fifo_text = f"own check-in first: ~{pct(own, 50):.0f} s / ~{pct(own, 99):.0f} s"
            else:
                fifo_text = f"FIFO: ~{backlog / limit:.0f} s behind {backlog:,} queued"
            log(
                f"urgency '{label}': {len(waits)}/{len(targets)} sent"
                + ("" if done else f" within {timeout:g}s")
                + f"; wait p50 {show(p50)}, p99 {show(p99)} (commits took {ms(committed)}); "
                f"{overtook} check-ins went out meanwhile; {backlog:,} queued at t0; " + fifo_text
            )
            summary.add(
                f"wait: {len(targets)} x '{label}' p50 / p99",
                f"{show(p50)} / {show(p99)}"
                + ("" if done else f" ({len(waits)}/{len(targets)} in {timeout:g}s)"),
                fifo_text,
                f"{overtook} check-ins went first",
            )
            await asyncio.sleep(1.0)
        await stop(task)
    finally:
        await storage.close()
