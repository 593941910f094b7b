"""What goes into a person's texts: the facts of their case, looked up, as plain values.

The wording lives in ``templates/letters/<lang>/``; this module only decides *which* template
and hands it the facts, so the command-line ``letter`` and the chat render the very same text.
Every lookup passes the person's region as well as the country: the region can change the law
(only Californians get the CCPA) and the authority (the German states, Québec).
"""

from __future__ import annotations

from typing import Any

from conversations.case import Case
from conversations.countries import official_in
from conversations.effects import LetterKind
from conversations.knowledge import GUEST_LANGUAGES, Knowledge


def template_names(
    case: Case, knowledge: Knowledge, letter: LetterKind = "objection"
) -> tuple[str, str]:
    """(form text template, full text template) for the case's language, jurisdiction and kind.

    The objection's full text depends on what the law allows (objection, cessation request,
    third-party request); the follow-up and the complaint are one template each per language.
    """
    assert case.country is not None
    j = knowledge.jurisdiction_for(case.country, case.region)
    kind = j.kind.value if letter == "objection" else letter
    language = written_in(case, letter)
    return f"letters/{language}/form_text.txt.j2", f"letters/{language}/{kind}.txt.j2"


def written_in(case: Case, letter: LetterKind = "objection") -> str:
    """The language a text to Meta is written in: the one the person chose for it (English, if
    they prefer), else ``usual_language``. The complaint is in the case's language as given (the
    shell renders it from a copy of the case in the authority's, ``SendLetter.language``)."""
    assert case.language is not None
    if letter == "complaint":
        return case.language
    return case.letter_language or usual_language(case)


def usual_language(case: Case) -> str:
    """The language a text to Meta is written in unless the person chooses: their chat's, but
    English for a guest language (``GUEST_LANGUAGES``) that is not official in their country --
    Meta's reviewers for Europe read English, not necessarily Ukrainian or Arabic."""
    assert case.language is not None
    if case.language in GUEST_LANGUAGES and not official_in(case.language, case.country or ""):
        return "en"
    return case.language


def context(case: Case, knowledge: Knowledge) -> dict[str, Any]:
    assert case.country is not None
    key = knowledge.jurisdiction_key(case.country, case.region)
    j = knowledge.jurisdictions[key]
    regulator_key = knowledge.regulator_key_for(case.country, case.region)
    return {
        "case": case,
        "country": case.country,
        "region": case.region,
        "jurisdiction_key": key,
        "jurisdiction": j,
        "law": j.law,
        "kind": j.kind.value,
        "platforms": [p.value for p in case.platforms],
        "forms": {p.value: knowledge.forms[j.forms[p]] for p in case.platforms},
        "linked_accounts": case.linked_accounts,
        "reasons": [r.value for r in case.reasons],
        "own_words": case.own_words,
        "email": case.email,
        "date": case.letter_written_at.date() if case.letter_written_at else None,
        "regulator": knowledge.regulators[regulator_key] if regulator_key else None,
        # which authority, for wording that depends on it (Québec's CAI enforces Québec's law)
        "regulator_key": regulator_key,
        # the authority is a region's own (a German state's, Québec's), not the country's
        "regional_authority": regulator_key in set(knowledge.subdivision_regulators.values()),
        # a dependent territory that falls under the rules for everywhere else: what the
        # sources say about it, for the person above the letter (Gibraltar, the Crown
        # Dependencies, …); None for sovereign states and the EU's own territories
        "territory": knowledge.territories.get(case.country) if j.default else None,
        "lead_regulator": knowledge.regulators[j.lead_regulator] if j.lead_regulator else None,
        # the Meta company responsible here: Dublin only for Europe
        "meta": knowledge.meta_contacts[j.controller],
        # options the person ticks (the Case fields may not exist yet: then they are off)
        "ask_erasure": bool(getattr(case, "ask_erasure", False)),
        "ask_access": bool(getattr(case, "ask_access", False)),
        # the timeline, for the follow-up and the complaint
        "submitted": case.form_submitted_at,
        "code_entered": case.code_entered_at,
        "deadline": case.deadline_at,
        "refused": case.refused_at,
        "escalated": case.escalated_at,
        "proof": case.proof,
    }
