"""What the person's law gives them, as yes/no facts the questions and letters branch on.

Each answer is looked up in the knowledge data for the case's country *and* region: the region
can change the law (only Californians get the CCPA) and the authority (the German states).
"""

from __future__ import annotations

from conversations.case import Case
from conversations.knowledge import LANGUAGES, SAME_LANGUAGE, Kind, Knowledge


def under_gdpr(case: Case, knowledge: Knowledge) -> bool:
    """Whether the GDPR (or the UK GDPR) applies: its "particular situation" (Art. 21(1)), and
    the erasure (Art. 17(1)(c)) and access (Art. 15) the objection can also ask for."""
    if not case.country:
        return False
    law = knowledge.jurisdiction_for(case.country, case.region).law
    return law is not None and law.gdpr


def objection_right(case: Case, knowledge: Knowledge) -> bool:
    """Whether the law gives a right to object (or to forbid); elsewhere only Meta's
    third-party form is left (USA outside California, …)."""
    if not case.country:
        return False
    return knowledge.jurisdiction_for(case.country, case.region).kind is not Kind.THIRD_PARTY


def writes_complaint(case: Case, knowledge: Knowledge) -> bool:
    """Whether escalating writes a complaint to an authority as well as the follow-up to Meta:
    only where the law gives a right a complaint can enforce, and an authority is known."""
    assert case.country is not None
    return (
        objection_right(case, knowledge)
        and knowledge.regulator_for(case.country, case.region) is not None
    )


def deadline_is_firm(case: Case, knowledge: Knowledge) -> bool:
    """Whether Meta's period to answer is a confirmed legal deadline (else only a guide)."""
    if not case.country:
        return False
    period = knowledge.jurisdiction_for(case.country, case.region).deadline
    return period is not None and period.confidence == "verified"


def law_regions(country: str, knowledge: Knowledge) -> list[str]:
    """The regions of ``country`` with a law of their own (US-CA): asked after the country."""
    prefix = f"{country}-"
    return sorted(code for code in knowledge.subdivision_jurisdictions if code.startswith(prefix))


def complaint_language(case: Case, knowledge: Knowledge) -> str:
    """The language the complaint is written in: the person's where the authority accepts it,
    else the first of the authority's languages the bot writes (the CNIL: French only), else
    the person's (with a note to translate it)."""
    assert case.country is not None and case.language is not None
    regulator = knowledge.regulator_for(case.country, case.region)
    if regulator is None or regulator.accepts(case.language):
        return case.language
    written = [
        lang
        for code in regulator.complaint_languages
        for lang in LANGUAGES
        if lang.split("-")[0] == SAME_LANGUAGE.get(code, code)
    ]
    return written[0] if written else case.language
