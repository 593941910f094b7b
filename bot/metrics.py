"""What an operator can count: Prometheus metrics, counts only.

Rules:
- Labels are kinds, step names, lanes and outcomes: never a chat id, an e-mail, a language
  a person picked in combination with anything else, or text. A metric is a number about many
  people, not a record about one.
- Counters live at module level (prometheus-client's own pattern) in one registry, with the
  process and garbage-collector collectors beside them; ``/metrics`` (``bot.web``) renders it.
- The outbox depth is read from the database when scraped, not kept in memory: the database
  is the truth.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry()
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

UPDATES = Counter(
    "optout_updates", "Telegram updates received, by kind", ["kind"], registry=REGISTRY
)
STEPS = Counter(
    "optout_steps",
    "Inputs and reminders handled, by the step the case was at",
    ["step"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "optout_outbox_depth", "Messages waiting to be delivered, by lane", ["lane"], registry=REGISTRY
)
SENDS = Counter("optout_sends", "Outbox items delivered, by kind", ["kind"], registry=REGISTRY)
SEND_FAILURES = Counter(
    "optout_send_failures",
    "Failed deliveries, by kind and outcome (retry, given_up, unreachable)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
FLOOD_PAUSES = Counter(
    "optout_flood_pauses", "Times Telegram's flood control paused all sending", registry=REGISTRY
)
REMINDER_LAG = Histogram(
    "optout_reminder_lag_seconds",
    "From a reminder's due time to its handling",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
EMAILS = Counter(
    "optout_emails", "E-mail copies, by outcome (sent, failed)", ["outcome"], registry=REGISTRY
)


def render(outbox: dict[str, int]) -> bytes:
    """The registry in Prometheus' text format, with the outbox depth as just read."""
    for lane in ("chat", "mail"):
        OUTBOX_DEPTH.labels(lane=lane).set(outbox.get(lane, 0))
    return generate_latest(REGISTRY)


def update_kind(raw: dict[str, object]) -> str:
    """An update's kind by its field ("message", "callback_query"), never its content."""
    kinds = [key for key in raw if key != "update_id"]
    return kinds[0] if len(kinds) == 1 else "other"
