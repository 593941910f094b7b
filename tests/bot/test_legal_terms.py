"""Every language's letters use the terms of that language's official GDPR text.

The objection of a person in France (the GDPR, Art. 21(1)) and their complaint (Art. 77) are
rendered in every language the bot writes, and must contain the article and the right as the
official text of Regulation (EU) 2016/679 in that language names them (EUR-Lex, the
regulation's language versions: https://eur-lex.europa.eu/eli/reg/2016/679/oj, "right to
object" Art. 21, "particular situation" Art. 21(1), "right to lodge a complaint with a
supervisory authority" Art. 77), cited the way the language's own authorities cite it.
Brazilian Portuguese follows the official Portuguese text (there is one Portuguese version).
"""

from __future__ import annotations

import pytest

from bot.renderer import Renderer
from conversations import LANGUAGES
from tests.conftest import letter_case

#: language -> (how Art. 21(1) is cited, the right to object's noun, "particular situation",
#: the complaint Art. 77 gives, as it names it)
TERMS: dict[str, tuple[str, str, str, str]] = {
    "en": ("Art. 21(1) GDPR", "object", "particular situation", "complaint"),
    "de": ("Art. 21 Abs. 1 DSGVO", "Widerspruch", "besonderen Situation", "Beschwerde"),
    "fr": (
        "article 21, paragraphe 1, du RGPD",
        "opposition",
        "situation particulière",
        "réclamation",
    ),
    "it": (
        "art. 21, par. 1, GDPR",
        "opposizione",
        "situazione particolare",
        "autorità di controllo",
    ),
    "es": ("art. 21.1 RGPD", "oposición", "situación particular", "reclamación"),
    "pl": ("art. 21 ust. 1 RODO", "sprzeciw", "szczególną sytuacją", "skarg"),
    "nl": (
        "artikel 21, lid 1, AVG",
        "bezwaar",
        "specifieke situatie",
        "toezichthoudende autoriteit",
    ),
    "pt-BR": (
        "artigo 21.º, n.º 1, do RGPD",
        "oposição",
        "situação particular",
        "reclamação",
    ),
    "sv": (
        "artikel 21.1 i dataskyddsförordningen",
        "invändning",
        "specifika situation",
        "klagomål",
    ),
    "pt-PT": ("artigo 21.º, n.º 1, do RGPD", "oposição", "situação particular", "reclamação"),
    "cs": ("čl. 21 odst. 1 GDPR", "námitku", "konkrétní situace", "stížnost"),
    "da": (
        "artikel 21, stk. 1, i databeskyttelsesforordningen",
        "indsigelse",
        "særlige situation",
        "klage",
    ),
    "el": ("άρθρο 21 παρ. 1 ΓΚΠΔ", "εναντίωση", "ιδιαίτερη κατάσταση", "καταγγελία"),
    "hu": (
        "GDPR 21. cikk (1) bekezdés",
        "tiltakoz",
        "saját helyzetemmel kapcsolatos okok",
        "panasz",
    ),
    "bg": ("чл. 21, параграф 1 от ОРЗД", "възражение", "конкретната ми ситуация", "жалба"),
    "et": ("IKÜM art 21 lg 1", "vastuväide", "konkreetsest olukorrast", "kaebus"),
    "ro": ("art. 21 alin. (1) din RGPD", "opoziție", "situația particulară", "plângere"),
    "nb": ("artikkel 21 nr. 1 i personvernforordningen", "protest", "særlige situasjon", "klage"),
    "hr": ("čl. 21. st. 1. GDPR-a", "prigovor", "posebne situacije", "pritužb"),
    "sl": ("prvega odstavka 21. člena Splošne uredbe", "ugovor", "posebnim položajem", "pritožb"),
    "fi": (
        "tietosuoja-asetuksen 21 artiklan 1 kohta",
        "vastustamisoikeu",
        "erityiseen tilanteeseeni",
        "valitus",
    ),
    "sk": ("čl. 21 ods. 1 GDPR", "namieta", "konkrétnej situácie", "sťažnosť"),
}


def test_every_language_has_its_terms() -> None:
    assert set(TERMS) == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_objection_names_the_right_as_the_official_text_does(
    renderer: Renderer, language: str
) -> None:
    cite, right, situation, _ = TERMS[language]
    case = letter_case("FR", language)
    text = renderer.letter(case).full_text
    assert cite in text, (language, cite)
    assert right.casefold() in text.casefold(), (language, right)
    assert situation.casefold() in text.casefold(), (language, situation)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_complaint_is_the_one_article_77_gives(renderer: Renderer, language: str) -> None:
    _, _, _, complaint = TERMS[language]
    case = letter_case("DE", language, region="DE-BY")
    text = renderer.letter(case, "complaint").full_text
    assert "77" in text, language
    assert complaint.casefold() in text.casefold(), (language, complaint)
