"""Anonymous aggregates for the operator's ``/stats``: how many, never who.

Rules:
- Counts over all cases, by step and by jurisdiction, and the journey's milestones; a count
  below ``SMALL`` is shown as "<5" (a single case in a small country is a person).
- No per-person value leaves: no chat id, date, answer or text; the median days to Meta's
  confirmation is computed only over at least ``SMALL`` confirmed cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median

from conversations.case import Case
from conversations.knowledge import Knowledge

SMALL = 5


@dataclass(frozen=True)
class Stats:
    cases: str
    by_step: list[tuple[str, str]]  # (step, count), most first
    by_jurisdiction: list[tuple[str, str]]  # the law that applies: eea, uk, ch, br, …
    by_country: list[tuple[str, str]]
    letters: str
    submitted: str
    confirmed: str
    refused: str
    escalated: str
    median_days_to_confirmation: str  # "—" below SMALL confirmations


def shown(count: int) -> str:
    """A count as the operator sees it: small ones hidden."""
    return f"<{SMALL}" if 0 < count < SMALL else str(count)


def summarize(cases: Iterable[Case], knowledge: Knowledge) -> Stats:
    steps: Counter[str] = Counter()
    places: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    milestones: Counter[str] = Counter()
    days: list[float] = []
    total = 0
    for case in cases:
        total += 1
        steps[case.step.value] += 1
        if case.country is not None:
            places[knowledge.jurisdiction_key(case.country, case.region)] += 1
            countries[case.country] += 1
        for name in ("letter_written_at", "form_submitted_at", "confirmed_at", "refused_at"):
            if getattr(case, name) is not None:
                milestones[name] += 1
        if case.escalated_at is not None:
            milestones["escalated_at"] += 1
        if case.confirmed_at is not None and case.form_submitted_at is not None:
            days.append((case.confirmed_at - case.form_submitted_at).total_seconds() / 86400)
    return Stats(
        cases=shown(total),
        by_step=[(step, shown(n)) for step, n in steps.most_common()],
        by_jurisdiction=[(key, shown(n)) for key, n in places.most_common()],
        by_country=[(code, shown(n)) for code, n in countries.most_common()],
        letters=shown(milestones["letter_written_at"]),
        submitted=shown(milestones["form_submitted_at"]),
        confirmed=shown(milestones["confirmed_at"]),
        refused=shown(milestones["refused_at"]),
        escalated=shown(milestones["escalated_at"]),
        median_days_to_confirmation=f"{median(days):.1f}" if len(days) >= SMALL else "—",
    )
