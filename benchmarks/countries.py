#!/usr/bin/env python3
"""How fast a typed country is found, with every language's names in one index.

Run from the repository root (the project installed)::

    python benchmarks/countries.py          # 5 rounds of 20,000 lookups: ~10 s
    python benchmarks/countries.py --quick  # 1 round of 2,000: a smoke run

What is measured, in one process, on the index ``conversations.countries`` builds once
(CLDR names in the bot's languages and ``NAME_LOCALES``, ISO 3166 names, the knowledge data's
aliases): the time to build it; the time per input for an exact hit (a name as people type
it, e.g. "Polska", "U.S.A.", "Ελλάδα": normalising plus a dictionary lookup); and for a near
miss ("Germny": rapidfuzz's ratio over every name, for the suggestions). Baselines in the
same run: a bare ``dict`` lookup of an already normalised key (the floor), and the standard
library's ``difflib.get_close_matches`` over the same names (what the matcher replaced).
Best of the rounds. Not a test: nothing here fails the build; the goal is an exact hit well
under a millisecond.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conversations import country_index, load_knowledge, normalize, resolve_country

EXACT = ["Polska", "U.S.A.", "Ελλάδα", "Deutschland", "the Netherlands", "日本", "Sverige", "UK"]
MISSES = ["Germny", "Itlay", "Polsja", "Swizterland"]


def per_call(fn: Callable[[str], object], inputs: list[str], n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            fn(inputs[i % len(inputs)])
        best = min(best, (time.perf_counter() - start) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, rounds = (2_000, 1) if args.quick else (20_000, 5)
    knowledge = load_knowledge()
    start = time.perf_counter()
    index = country_index(knowledge)
    built = time.perf_counter() - start
    print(f"index: {len(index):,} names, built in {built * 1000:.0f} ms (once per process)")
    keys = [normalize(t) for t in EXACT]
    floor = per_call(index.get, keys, n, rounds)
    exact = per_call(lambda t: resolve_country(t, knowledge), EXACT, n, rounds)
    fuzzy_n = max(n // 100, 20)
    miss = per_call(lambda t: resolve_country(t, knowledge), MISSES, fuzzy_n, rounds)
    names = list(index)
    difflib_miss = per_call(
        lambda t: difflib.get_close_matches(normalize(t), names, n=9, cutoff=0.72),
        MISSES,
        max(fuzzy_n // 10, 3),
        1,
    )
    print(f"{'exact hit (resolve)':<34}{exact * 1e6:>10.1f} µs per input")
    print(f"{'  baseline: bare dict lookup':<34}{floor * 1e6:>10.2f} µs per input")
    print(f"{'near miss (rapidfuzz suggestions)':<34}{miss * 1e3:>10.2f} ms per input")
    print(f"{'  baseline: difflib, same names':<34}{difflib_miss * 1e3:>10.2f} ms per input")
    print(
        f"ratios: exact hit / dict {exact / floor:,.0f}x; difflib / rapidfuzz "
        f"{difflib_miss / miss:,.0f}x"
    )


if __name__ == "__main__":
    main()
