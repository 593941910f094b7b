"""The evidence pack: a PDF whose text, read back with pypdf, is the complaint (or the objection),
the case's timeline in the person's time zone, and the annexes, with their own words as typed."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from bot.evidence import evidence_pack
from bot.renderer import Renderer
from conversations import LANGUAGES
from conversations.case import Case, Proof
from tests.support import START, letter_case

NOW = START + timedelta(days=41)
#: What a person may type: typography, a template expression, markup, fpdf2's page alias.
OWN_WORDS = "Meine Kinder „ä€–“ {{ 7*7 }} <b>fett</b> {nb} ß"
ANSWER = "Thank you. We reviewed your request – „nicht möglich“ {{ 7*7 }} <i>x</i>"
TEXT_PROOF = Proof(received_at=START + timedelta(days=20), text=ANSWER)
FILE_PROOF = Proof(received_at=START + timedelta(days=20), file_id="AgACAgIAAxkBAAIB")


def pages(pdf: bytes) -> list[str]:
    """Each page's text, whitespace collapsed (line wrapping is the layout's, not the text's)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def pack(renderer: Renderer, case: Case) -> tuple[str, list[str]]:
    name, pdf = evidence_pack(case, renderer, NOW)
    assert pdf.startswith(b"%PDF-")
    return name, pages(pdf)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_polish_pack_is_the_signed_complaint_timeline_and_annexes(renderer: Renderer) -> None:
    """Poland wants a signed complaint, in Polish: it leads, with lines to sign, then the dated
    timeline and, as annexes 1 to 3, the objection and the reminder as they were sent to Meta
    (in English, the person's language) and Meta's answer."""
    case = letter_case("PL", "en", own_words=OWN_WORDS, proof=TEXT_PROOF, timezone="Europe/Warsaw")
    name, text = pack(renderer, case)
    assert name == "evidence-pack-pl.pdf"
    whole = " ".join(text)
    first = text[0]
    assert "Skarga na podstawie art. 77 RODO na Meta Platforms Ireland Limited" in first
    assert "Do: Prezes Urzędu Ochrony Danych Osobowych (UODO)" in first
    # the notes for the person are set apart above the complaint, not dropped
    assert first.index("Uwagi dla nadawcy – nie są częścią pisma") < first.index("Skarga na")
    assert first.index("Przed wysłaniem: dopisz imię") < first.index("Skarga na")
    assert "Podpis własnoręczny:" in whole
    assert whole.index("Miejscowość, data") < whole.index("Imię i nazwisko drukowanymi")
    timeline = next(page for page in text if page.startswith("Przebieg sprawy"))
    assert "strefie czasowej Europe/Warsaw" in timeline
    assert "26 listopada 2026, 10:00 Sprzeciw został przesłany do Meta" in timeline
    assert "26 grudnia 2026, 10:00 Upłynął termin na odpowiedź Meta" in timeline
    assert "5 stycznia 2027, 10:00 Napisano ponaglenie do Meta i skargę" in timeline
    annexes = [page for page in text if page.startswith("Załącznik")]
    assert [page[:12] for page in annexes] == ["Załącznik 1:", "Załącznik 2:", "Załącznik 3:"]
    assert text[-3].startswith(
        "Załącznik 1: Sprzeciw skierowany do Meta Objection under Art. 21(1)"
    )
    assert text[-2].startswith("Załącznik 2: Ponaglenie skierowane do Meta Reminder:")
    assert text[-1].startswith("Załącznik 3: Odpowiedź Meta Zapisano 16 grudnia 2026, 10:00:")
    assert flat(ANSWER) in text[-1]
    assert f"Strona {len(text)}/{len(text)}" in text[-1]


def test_own_words_and_answer_are_printed_exactly_as_typed(renderer: Renderer) -> None:
    """Typography, template syntax, markup and "{nb}" come out literally, in every letter."""
    case = letter_case("PL", "de", own_words=OWN_WORDS, proof=TEXT_PROOF)
    _, text = pack(renderer, case)
    whole = " ".join(text)
    # the complaint, the objection (Annex 1) and the reminder (Annex 2) quote the own words
    assert whole.count(OWN_WORDS) == 3
    assert flat(ANSWER) in text[-1]
    assert "49" not in whole.replace("2026", "").replace("2027", "")


def test_german_pack_for_berlin(renderer: Renderer) -> None:
    """An escalated case in Berlin: the complaint to Berlin's authority, in German, with the
    German legal terms; Berlin takes an unsigned complaint, so no lines to sign."""
    case = letter_case("DE", "de", region="DE-BE", timezone="Europe/Berlin", own_words=OWN_WORDS)
    name, text = pack(renderer, case)
    assert name == "evidence-pack-de.pdf"
    whole = " ".join(text)
    assert "Beschwerde gemäß Art. 77 DSGVO gegen Meta Platforms Ireland Limited" in text[0]
    assert "An: Berliner Beauftragte für Datenschutz und Informationsfreiheit" in text[0]
    assert "Unterschrift" not in whole and "Ort, Datum" not in whole
    timeline = next(page for page in text if page.startswith("Zeitlicher Ablauf"))
    assert "26. November 2026, 10:00 Der Widerspruch wurde über das Online-Formular" in timeline
    assert "5. Januar 2027, 10:00 Die Erinnerung an Meta und die Beschwerde wurden" in timeline
    assert text[-2].startswith("Anlage 1: Der Widerspruch an Meta Widerspruch gemäß")
    assert text[-1].startswith("Anlage 2: Die Erinnerung an Meta Erinnerung:")
    assert "Seite 1/" in text[0]


def test_a_signed_complaint_has_the_signature_block_in_the_authoritys_language(
    renderer: Renderer,
) -> None:
    """Slovakia's authority wants it signed: for a German speaker the complaint is Slovak, and
    so are the lines to sign (place and date, signature, name); the objection, as sent to Meta,
    stays German."""
    name, text = pack(renderer, letter_case("SK", "de"))
    whole = " ".join(text)
    assert name == "evidence-pack-sk.pdf"
    assert "Vlastnoručný podpis: Miesto, dátum Podpis Meno a priezvisko paličkovým písmom" in whole
    assert "Widerspruch gemäß Art. 21 Abs. 1 DSGVO" in whole


def test_french_pack_with_a_screenshot_as_proof(renderer: Renderer) -> None:
    """France: the complaint to the CNIL, in French (the CNIL takes only French), unsigned;
    Meta's answer was a screenshot, kept in the chat: the last annex says so and asks for a
    printout."""
    case = letter_case("FR", "en", proof=FILE_PROOF, refused_at=START + timedelta(days=20))
    name, text = pack(renderer, case)
    assert name == "evidence-pack-fr.pdf"
    assert "article 77 du RGPD" in text[0] and "CNIL" in text[0]
    assert "Signature" not in " ".join(text)
    assert text[-1].startswith("Annexe 3 : La réponse de Meta La réponse de Meta a été enregistrée")
    assert "le 16 décembre 2026, 09:00" in text[-1]  # no time zone set: UTC
    assert "conversation Telegram avec le bot : veuillez l’imprimer et la joindre ici" in text[-1]
    assert "AgACAgIAAxkBAAIB" not in " ".join(text)  # Telegram's file id means nothing on paper
    timeline = next(page for page in text if page.startswith("Chronologie"))
    assert "16 décembre 2026, 09:00 Meta a rejeté l’opposition" in timeline


def test_german_screenshot_sentence_uses_sie(renderer: Renderer) -> None:
    """The German pack (Austria's authority takes German) addresses the person formally, as
    every document does."""
    _, text = pack(renderer, letter_case("AT", "de", proof=FILE_PROOF))
    assert text[-1].startswith("Anlage 3: Die Antwort von Meta Die Antwort von Meta wurde am")
    assert "Bitte drucken Sie sie aus und fügen Sie sie hier bei." in text[-1]


def test_us_pack_starts_with_the_request(renderer: Renderer) -> None:
    """No complaint is written for the USA: the pack opens with the request to Meta, which is
    therefore not repeated as an annex; the reminder becomes Annex 1."""
    case = letter_case("US", "en", timezone="America/New_York", own_words=OWN_WORDS)
    _, text = pack(renderer, case)
    whole = " ".join(text)
    assert text[0].startswith("Request to stop using my personal information for AI at Meta")
    assert "Complaint under" not in whole and "Signed by hand" not in whole
    assert [page[:8] for page in text if page.startswith("Annex")] == ["Annex 1:"]
    assert text[-1].startswith("Annex 1: The reminder to Meta")
    timeline = next(page for page in text if page.startswith("Timeline"))
    # 09:00 UTC is 4:00 in New York; the law there gives a request, not an objection
    assert "November 26, 2026, 4:00 AM The request was sent to Meta" in timeline
    assert "The reminder to Meta was written" in timeline
    assert OWN_WORDS in text[0]


def test_pack_before_escalation_is_the_objection_and_its_timeline(renderer: Renderer) -> None:
    """Not escalated yet: the objection leads, no complaint, no reminder, no annexes."""
    case = letter_case("DE", "de", escalated_at=None, code_entered_at=START + timedelta(hours=1))
    _, text = pack(renderer, case)
    whole = " ".join(text)
    assert text[0].startswith("Widerspruch gemäß Art. 21 Abs. 1 DSGVO")
    assert "Beschwerde gemäß" not in whole and "Anlage" not in whole
    assert len(text) == 2
    assert text[1].startswith("Zeitlicher Ablauf")
    assert (
        "26. November 2026, 10:00 Der Widerspruch wurde mit dem Code von Meta bestätigt"
        in (text[1])
    )  # UTC without a time zone: 09:00 + 1 h
    assert "Die Erinnerung an Meta" not in text[1]


def test_timeline_is_in_the_persons_time_zone_and_in_order(renderer: Renderer) -> None:
    """Late on 26 November in UTC is 27 November in Malta; the milestones added to a case
    later (complaint sent, Meta said it would review) are on the timeline, oldest first (in
    English: Malta's authority takes it)."""
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    case = letter_case(
        "MT",
        "en",
        timezone="Europe/Malta",
        form_submitted_at=late,
        # Meta asked for more before it said it would review: not the labels' order
        info_asked_at=late + timedelta(days=3),
        review_said_at=late + timedelta(days=4),
        complaint_sent_at=NOW,
        authority_report_due_at=NOW + timedelta(days=90),
    )
    _, text = pack(renderer, case)
    timeline = next(page for page in text if page.startswith("Timeline"))
    events = [
        "November 26, 2026, 10:00 AM The objection was written",
        "November 27, 2026, 12:30 AM The objection was sent to Meta through its online form",
        "November 30, 2026, 12:30 AM Meta asked for more information",
        "December 1, 2026, 12:30 AM Meta wrote that it will review the objection",
        "December 26, 2026, 10:00 AM Meta's answer was due",
        "January 5, 2027, 10:00 AM The reminder to Meta and the complaint were written",
        "January 6, 2027, 10:00 AM The complaint was sent to the authority",
        "April 6, 2027, 11:00 AM The authority's report on the complaint is due",
    ]
    positions = [timeline.index(event) for event in events]
    assert positions == sorted(positions)


def test_characters_the_font_lacks_stay_out_of_the_logs(
    renderer: Renderer, caplog: pytest.LogCaptureFixture
) -> None:
    """An emoji has no glyph in Noto Sans: it prints as a box, and fpdf2's warning, which would
    name the person's characters, is not logged."""
    case = letter_case("PL", "en", own_words="Meine Kinder 🦄 bitte nicht")
    with caplog.at_level(logging.DEBUG):
        _, text = pack(renderer, case)
    assert "Meine Kinder" in text[0]
    assert not [r for r in caplog.records if "🦄" in r.getMessage() or "1f984" in r.getMessage()]


def test_greek_and_cyrillic_are_embedded(renderer: Renderer) -> None:
    """The font covers the alphabets of every EU language, not only Latin-1."""
    words = "Ελληνικά και български – Łódź, Čeština, Ærø"
    _, text = pack(renderer, letter_case("BG", "en", own_words=words))
    assert words in text[0]


def fonts(pdf: bytes) -> set[str]:
    """The fonts a PDF embeds, without their subset prefix ("NotoSans")."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


def test_arabic_own_words_are_shaped_in_their_own_font(renderer: Renderer) -> None:
    """A person may write their own words in Arabic inside an English letter: Noto Sans Arabic
    is embedded for them (HarfBuzz joins the letters), and only then; the words read back."""
    words = "أطفالي في صوري"
    _, pdf = evidence_pack(letter_case("MT", "en", own_words=words), renderer, NOW)
    assert fonts(pdf) == {"NotoSans", "NotoSansArabic"}
    page = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    readable = "".join(c for c in page if c >= " " or c == "\n")  # shaped glyphs: no controls
    assert all(word in readable for word in words.split())
    _, latin = evidence_pack(letter_case("MT", "en"), renderer, NOW)
    assert fonts(latin) == {"NotoSans"}


def test_pack_needs_a_country(renderer: Renderer) -> None:
    """A case without a letter yet has nothing to print."""
    case = Case.new(1, START).model_copy(update={"language": "en"})
    with pytest.raises(ValueError, match="country"):
        evidence_pack(case, renderer, NOW)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_the_same_labels(renderer: Renderer, language: str) -> None:
    """The pack's wording exists in every language, with the same keys as in English, and each
    timeline label names a field of the case."""
    context = {
        "complaint": True,
        "objection": True,
        "annexes": ["objection", "followup", "proof"],
        "timezone": "UTC",
        "proof_saved": "x",
    }
    labels = renderer.document_labels("evidence", language, **context)
    assert labels.keys() == renderer.document_labels("evidence", "en", **context).keys()
    assert all(value.strip() for value in labels.values())
    fields = {key.removeprefix("timeline.") for key in labels if key.endswith("_at")}
    assert fields - set(Case.model_fields) == {"proof_received_at"}
