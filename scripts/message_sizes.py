"""How much a person reads at each step: messages and visible characters, per country and language.

    python scripts/message_sizes.py                 # the letter step for DE, FR, US in en and de
    python scripts/message_sizes.py --all-steps     # every step of the journey
    python scripts/message_sizes.py --country PL --language de

The figures come from the same rendering the letter-step budget test reads
(``tests/support/screens.py``): the brain's effects for one move, rendered as chat messages.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.renderer import Renderer  # noqa: E402
from conversations import knowledge as knowledge_data  # noqa: E402
from tests.support import START  # noqa: E402
from tests.support.journey import JOURNEY  # noqa: E402
from tests.support.screens import screens  # noqa: E402
from tests.support.walks import Walk  # noqa: E402

COUNTRY_NAMES = {"DE": "Germany", "FR": "France", "US": "United States", "GB": "United Kingdom"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--country", action="append", help="ISO code (repeatable)")
    parser.add_argument("--language", action="append", help="en, de (repeatable)")
    parser.add_argument("--all-steps", action="store_true")
    args = parser.parse_args()
    knowledge = knowledge_data.load()
    renderer = Renderer(knowledge)
    for country in args.country or ["DE", "FR", "US"]:
        for language in args.language or ["en", "de"]:
            script = JOURNEY.but(country=COUNTRY_NAMES.get(country, country))
            if country == "US":
                script = script.but(country="United States").then()
            walk = Walk.begin(knowledge, START, language=language)
            print(f"\n{country} · {language}")
            for move in script:
                out = walk.send(move.event())
                if move.name == "country" and walk.current().step.value == "state":
                    out += walk.press("state:other")
                if not (args.all_steps or move is script.moves[-1]):
                    continue
                shown = screens(out, renderer, language)
                chat = [s for s in shown if s.template != "file"]
                sizes = ", ".join(f"{s.template} {s.chars}" for s in chat)
                longest = max((s.chars for s in chat if not s.is_letter), default=0)
                print(
                    f"  {move.name:<10} {len(chat)} messages, {sum(s.chars for s in chat):>5}"
                    f" chars (longest besides the letter {longest}): {sizes}"
                )


if __name__ == "__main__":
    main()
