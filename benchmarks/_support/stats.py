"""The figures: percentiles, messages per 1-second window, and how sending is spread in time."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Windows:
    max: int  # the most messages in any window [t, t + width)
    max_edge: int  # ... in any window 5 ms shorter (tells an edge effect from an excess)
    later: int  # the most in any window starting ``width`` or more after the first message
    first: int  # in the first window, [first message, + width)
    mean: float  # over the windows counted (see ``windows``)
    min: float
    overall: float  # messages / (last - first message)
    count: int


def windows(
    times: Sequence[float], width: float = 1.0, step: float = 0.1, trim: float = 0.0
) -> Windows:
    """Messages per ``width`` seconds. The maximum is exact: over every window starting at a
    message. The mean and minimum are over windows starting every ``step`` seconds, leaving
    out ``trim`` seconds at either end (the start-up burst and the cut-off at the end; every
    full window if that leaves none)."""
    ts = sorted(times)
    if not ts:
        return Windows(0, 0, 0, 0, math.nan, math.nan, math.nan, 0)

    def most(w: float, since: float = -math.inf) -> int:
        best, j = 0, 0
        for i in range(len(ts)):
            if ts[i] < since:
                continue
            while j < len(ts) and ts[j] < ts[i] + w:
                j += 1
            best = max(best, j - i)
        return best

    def within(start: float) -> int:
        return sum(1 for t in ts if start <= t < start + width)

    def counts(first: float, last: float) -> list[int]:
        found, start = [], first
        while start + width <= last + 1e-9:
            found.append(within(start))
            start += step
        return found

    counted = counts(ts[0] + trim, ts[-1] - trim)
    if not counted and trim:
        counted = counts(ts[0], ts[-1])
    span = ts[-1] - ts[0]
    overall = len(ts) / span if span > 0 else math.nan
    return Windows(
        max=most(width),
        max_edge=most(width - 0.005),
        later=most(width, since=ts[0] + width),
        first=within(ts[0]),
        mean=sum(counted) / len(counted) if counted else overall,
        min=min(counted) if counted else math.nan,
        overall=overall,
        count=len(ts),
    )


def bursts(times: Sequence[float], gap: float = 0.2) -> tuple[float, float, float]:
    """How sending is spread: median burst size, duration (s) and start-to-start period (s),
    a burst being sends less than ``gap`` seconds apart."""
    ts = sorted(times)
    groups: list[list[float]] = []
    for t in ts:
        if groups and t - groups[-1][-1] < gap:
            groups[-1].append(t)
        else:
            groups.append([t])
    full = groups[:-1] or groups  # the last burst may have been cut off by the end of the run
    periods = [b[0] - a[0] for a, b in itertools.pairwise(groups)]
    return (
        pct([len(g) for g in full], 50),
        pct([g[-1] - g[0] for g in full], 50),
        pct(periods, 50),
    )
