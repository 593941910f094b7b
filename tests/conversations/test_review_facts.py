"""One test per fact fixed after the review of issue 8 (/tmp/review/issue8.md, findings 1–19).

Each test asserts the rendered letter text (and, where the fact lives there, the knowledge data):
what a letter may claim, to whom it goes, and how the German letters word it.
"""

from __future__ import annotations

import pytest

from bot.renderer import Renderer
from conversations.case import Case, Reason
from conversations.effects import LetterKind
from conversations.knowledge import Knowledge, Platform
from tests.conftest import letter_case


def _case(country: str, language: str, region: str | None = None) -> Case:
    return letter_case(
        country, language, region=region, platforms=(Platform.FACEBOOK,), reasons=(Reason.PRIVACY,)
    )


def _text(
    renderer: Renderer,
    country: str,
    language: str,
    kind: LetterKind = "objection",
    region: str | None = None,
) -> str:
    return renderer.letter(_case(country, language, region), kind).full_text


# -- 1: Australia – the OAIC's 30 days are no legal deadline for Meta ------------------------------


def test_1_australia_claims_no_legal_deadline(knowledge: Knowledge, renderer: Renderer) -> None:
    period = knowledge.jurisdictions["au"].deadline
    assert period is not None and period.confidence != "verified"
    en = _text(renderer, "AU", "en", "complaint")
    assert "Meta had to answer" not in en
    assert "- I gave Meta 30 days to answer, until" in en
    assert "give it 30 days (the OAIC requires this)" in en
    de = _text(renderer, "AU", "de", "complaint")
    assert "hätte innerhalb" not in de
    assert "Ich habe Meta für die Antwort eine Frist von 30 Tagen gesetzt" in de
    assert "gib Meta 30 Tage Zeit (das verlangt die OAIC)" in de


# -- 2: Brazil – the ANPD's measure was preventive and was lifted ---------------------------------


def test_2_brazil_states_the_measure_as_preventive_and_lifted(renderer: Renderer) -> None:
    en = _text(renderer, "BR", "en")
    assert "the ANPD considered that legitimate interest was not an adequate legal basis" in en
    assert "30 August 2024 only under a compliance plan" in en
    assert "cured these defects" not in en and "found that" not in en
    assert "called the wrong legal basis" not in en
    assert "relying on legitimate interest." in en
    de = _text(renderer, "BR", "de")
    assert "In ihrer vorbeugenden Maßnahme vom 2. Juli 2024" in de
    assert "als ungeeignete Rechtsgrundlage angesehen" in de
    assert "am 30. August 2024 nur unter einem Compliance-Plan wieder erlaubt" in de
    assert "behoben" not in de and "festgestellt" not in de


# -- 3: Québec – the CAI acts under Québec's law, not PIPEDA --------------------------------------


def test_3_quebec_complaint_names_quebecs_law(renderer: Renderer) -> None:
    en = _text(renderer, "CA", "en", "complaint", region="CA-QC")
    assert "powers you have under Québec's Act respecting the protection of personal" in en
    assert "under the applicable law (PIPEDA)" not in en
    assert "is our reading, not confirmed by a source" in en
    assert "official language of the province" in en
    de = _text(renderer, "CA", "de", "complaint", region="CA-QC")
    assert "Ihre Befugnisse nach dem Gesetz von Québec" in de
    assert "(in der Fassung von Gesetz 25)" in de and "Amtssprache der Provinz" in de
    # the rest of Canada keeps the OPC and PIPEDA
    assert "the applicable law (PIPEDA)" in _text(renderer, "CA", "en", "complaint")


# -- 4: Switzerland – the FDPIC takes a report (Anzeige), it decides no individual case ------------


def test_4_switzerland_reports_to_the_fdpic(renderer: Renderer) -> None:
    en = _text(renderer, "CH", "en", "complaint")
    assert "Report (Anzeige) about Meta Platforms Ireland Limited: my objection under" in en
    assert "Art. 30(2)(b) and (3) FADP is not being respected" in en
    assert "does not decide your individual case" in en
    de = _text(renderer, "CH", "de", "complaint")
    assert "Anzeige gegen Meta Platforms Ireland Limited: Mein Widerspruch gemäß" in de
    assert "Diese Behörde (EDÖB) entscheidet nicht über deinen Einzelfall" in de
    assert "Beschwerde über Meta" not in de
    followup = _text(renderer, "CH", "en", "followup")
    assert "I will report the matter to the Federal Data Protection and Information" in followup
    assert "reserve the right to take legal action" in followup
    assert "lodge a complaint" not in followup
    assert "werde ich den Vorgang der zuständigen Behörde (EDÖB) anzeigen und behalte mir" in (
        _text(renderer, "CH", "de", "followup")
    )


# -- 5: Gibraltar and the Crown Dependencies ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name_en", "name_de"),
    [
        ("GI", "Gibraltar", "Gibraltar"),
        ("JE", "Jersey", "Jersey"),
        ("GG", "Guernsey", "Guernsey"),
        ("IM", "the Isle of Man", "der Isle of Man"),
    ],
)
def test_5_territory_letters_say_the_controller_is_unconfirmed(
    knowledge: Knowledge, renderer: Renderer, code: str, name_en: str, name_de: str
) -> None:
    assert knowledge.territories[code].confidence == "reported"
    en = _text(renderer, code, "en")
    assert f"Which Meta company is responsible for your data in {name_en} is not confirmed" in en
    assert "addressed to Meta Platforms, Inc." in en
    de = _text(renderer, code, "de")
    assert f"Welches Meta-Unternehmen in {name_de} für deine Daten verantwortlich ist" in de


@pytest.mark.parametrize(
    ("code", "authority", "email"),
    [
        ("GI", "Gibraltar Regulatory Authority", "info@gra.gi"),
        ("JE", "Jersey Office of the Information Commissioner (JOIC)", "enquiries@jerseyoic.org"),
        ("GG", "Office of the Data Protection Authority, Guernsey (ODPA)", None),
        ("IM", "Isle of Man Information Commissioner", None),
    ],
)
def test_5_territory_complaints_name_their_authority(
    knowledge: Knowledge, renderer: Renderer, code: str, authority: str, email: str | None
) -> None:
    regulator = knowledge.regulator_for(code)
    assert regulator is not None and regulator.confidence == "reported"
    complaint = _text(renderer, code, "en", "complaint")
    assert f"To: {authority}" in complaint
    assert "add its name and address" not in complaint
    # an unknown law is not "no law": the letter does not tell the authority there is no right
    assert "no law here gives you a right" not in complaint
    if email:
        assert f"E-mail: {email}" in complaint
    assert authority in _text(renderer, code, "en", "followup")


# -- 6: UK – no unconfirmed section number as a threat; 30 days before the ICO --------------------


def test_6_uk_followup_and_waiting_time(renderer: Renderer) -> None:
    followup = _text(renderer, "GB", "en", "followup")
    assert "I will lodge a complaint with the Information Commissioner's Office (ICO)" in followup
    assert "section 165" not in followup
    assert "Section 165" not in _text(renderer, "GB", "de", "followup")
    complaint = _text(renderer, "GB", "en", "complaint")
    assert "send Meta the complaint first and give it 30 days" in complaint
    assert "give it two weeks" not in complaint
    assert "gib Meta 30 Tage Zeit" in _text(renderer, "GB", "de", "complaint")


# -- 7: India – no hollow threat with the Board ---------------------------------------------------


def test_7_india_followup_points_to_may_2027(renderer: Renderer) -> None:
    en = _text(renderer, "IN", "en", "followup")
    assert "From about May 2027 I can also complain to the Data Protection Board of India." in en
    assert "I reserve the right" not in en
    de = _text(renderer, "IN", "de", "followup")
    assert "Ab etwa Mai 2027 kann ich mich zudem an die zuständige Behörde" in de
    assert "behalte ich mir vor" not in de


# -- 8: Korea asks without a harm condition; Japan's is "may harm" --------------------------------


def test_8_korea_and_japan_conditions(renderer: Renderer) -> None:
    kr = _text(renderer, "KR", "en")
    assert "I request that Meta suspend the processing of my personal data" in kr
    assert "for developing and improving AI at Meta. My reasons:" in kr
    assert "harm" not in kr
    kr_de = _text(renderer, "KR", "de")
    assert "zur Entwicklung und Verbesserung von KI bei Meta aussetzt. Meine Gründe:" in kr_de
    assert "verletzt meine Rechte" not in kr_de
    assert "because this use may harm my rights or legitimate interests" in (
        _text(renderer, "JP", "en")
    )
    assert "weil diese Verwendung meine Rechte oder berechtigten Interessen verletzen kann" in (
        _text(renderer, "JP", "de")
    )


# -- 9: the UK controller is reported, not verified -----------------------------------------------


def test_9_uk_controller_is_reported(knowledge: Knowledge, renderer: Renderer) -> None:
    contact = knowledge.meta_contact_for("GB")
    assert contact.controller == "Meta Platforms Ireland Limited"
    assert contact.confidence == "reported"
    assert knowledge.meta_contact_for("DE").confidence == "verified"
    note = "That Meta Platforms Ireland Limited is responsible for UK users is reported"
    for kind in ("objection", "followup", "complaint"):
        assert note in _text(renderer, "GB", "en", kind), kind
    assert "wird berichtet, ist aber nicht durch Metas britische Richtlinie bestätigt" in (
        _text(renderer, "GB", "de")
    )
    assert note not in _text(renderer, "DE", "en")


# -- 10: the third-party form text asks no more than the form can do ------------------------------


@pytest.mark.parametrize("country", ["US", "CA", "AU", "IN", "GI"])
def test_10_third_party_form_text_does_not_overstate(renderer: Renderer, country: str) -> None:
    form_text = renderer.letter(_case(country, "en")).form_text
    assert "Please stop this processing for my account" not in form_text
    assert "Please give effect to this request as far as you can." in form_text
    german = renderer.letter(_case(country, "de")).form_text
    assert "Bitte entsprechen Sie diesem Antrag, soweit Ihnen das möglich ist." in german
    # the objection itself still asks for the processing to stop
    assert "Please stop this processing" in renderer.letter(_case("DE", "en")).form_text


# -- 13–19: German legal language ------------------------------------------------------------------


def test_13_law_names_agree_with_their_article(renderer: Renderer) -> None:
    assert "Gestützt auf das Datenschutzgesetz Kanadas für die Privatwirtschaft (PIPEDA)" in (
        _text(renderer, "CA", "de")
    )
    assert "die Rechte aus dem Gesetz Indiens zum Schutz" in _text(renderer, "IN", "de")
    assert "dass mir das Datenschutzgesetz Australiens" in _text(renderer, "AU", "de")
    for country in ("CA", "IN", "AU"):
        text = _text(renderer, country, "de")
        assert "das Kanadisches" not in text and "dem Indisches" not in text, country
        assert "das Australisches" not in text, country


def test_14_canadian_finding_as_a_dass_clause(renderer: Renderer) -> None:
    de = _text(renderer, "CA", "de")
    assert "wurde festgestellt, dass das Training eines KI-Modells" in de
    assert "eine wirksame Einwilligung erforderte; ohne meine wirksame Einwilligung kann" in de
    assert "nicht fortgesetzt werden" in de and "weitergehen" not in de


def test_15_ccpa_period_before_the_clause(renderer: Renderer) -> None:
    de = _text(renderer, "US", "de", region="US-CA")
    assert (
        "Bitte teilen Sie mir innerhalb von 45 Tagen (§ 7021 CCPA Regulations) schriftlich mit,"
        " was Sie aufgrund dieses Antrags unternommen haben." in de
    )
    assert "CCPA-Verordnung" not in de


def test_16_within_a_month_as_in_the_gdpr(renderer: Renderer) -> None:
    objection = _text(renderer, "DE", "de", region="DE-BY")
    assert "spätestens jedoch innerhalb eines Monats" in objection
    complaint = _text(renderer, "DE", "de", "complaint", region="DE-BY")
    assert "spätestens aber innerhalb eines Monats" in complaint
    assert "spätestens innerhalb von drei Monaten" in complaint
    for text in (objection, complaint, _text(renderer, "DE", "de", "followup", region="DE-BY")):
        assert "innerhalb von einem Monat" not in text
    assert "innerhalb von 15 Tagen" in _text(renderer, "BR", "de")


def test_17_objection_addresses_meta_as_sie(renderer: Renderer) -> None:
    de = _text(renderer, "DE", "de", region="DE-BY")
    assert (
        "Sie stützen diese Verarbeitung auf Art. 6 Abs. 1 lit. f DSGVO (berechtigte Interessen);"
        " mein Widerspruch gemäß Art. 21 Abs. 1 DSGVO richtet sich daher gegen diese Verarbeitung."
        in de
    )
    assert "Meta stützt" not in de and "gegen sie." not in de


def test_18_authority_names_without_quotes(renderer: Renderer) -> None:
    gb = _text(renderer, "GB", "de", "followup")
    assert (
        "Beschwerde bei der zuständigen Aufsichtsbehörde (Information Commissioner's Office," in gb
    )
    complaint = _text(renderer, "DE", "de", "complaint", region="DE-BY")
    assert (
        "ist die Aufsichtsbehörde der Hauptniederlassung (Data Protection Commission, DPC)."
        in complaint
    )
    for text in (gb, complaint, _text(renderer, "US", "de", "complaint")):
        assert "Behörde „" not in text


def test_19_kronbesitzung(knowledge: Knowledge) -> None:
    assert knowledge.territories["JE"].note["de"].startswith("Jersey ist eine Kronbesitzung")
    assert knowledge.territories["GG"].note["de"].startswith("Guernsey ist eine Kronbesitzung")
    isle = knowledge.territories["IM"].note["de"]
    assert isle.startswith("Die Isle of Man ist eine Kronbesitzung, die nach ihrem eigenen")
    assert "von ihrem Information Commissioner" in isle
    for territory in knowledge.territories.values():
        assert "Kronbesitz " not in territory.note["de"]
        assert "ein Kronbesitz" not in territory.note["de"]
