"""One test per legal fact the bot states (issue 8), checked in the data and in the rendered texts.

These tests pin facts, not style: which Meta company a letter is addressed to, which law and
article it invokes (or, where no law gives a right, that it claims none), deadlines, authorities
and their complaint languages, and where each ISO 3166-1 territory belongs.
"""

from __future__ import annotations

import itertools

import pycountry
import pytest
from babel.dates import format_date

from bot.renderer import Renderer
from conversations import babel_locale
from conversations.case import Case, Reason
from conversations.effects import LetterKind
from conversations.knowledge import LANGUAGES, Knowledge
from tests.conftest import letter_case
from tests.support import PLACES

EEA = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
}  # fmt: skip

#: EU outermost regions with their own ISO code (TFEU Art. 355(1)) and Åland (Art. 355(4))
EU_TERRITORIES = {"GP", "GF", "MQ", "YT", "RE", "MF", "AX"}

#: Every ISO 3166-1 entry that is not a sovereign state: each must be decided in [territories].
DEPENDENT_TERRITORIES = {
    *EU_TERRITORIES,
    "GI", "JE", "GG", "IM", "FO", "GL", "SJ", "BV",  # Europe, Crown Dependencies, Nordic
    "PM", "BL", "WF", "PF", "NC", "TF",  # French overseas countries and territories
    "AW", "CW", "SX", "BQ",  # Caribbean parts of the Kingdom of the Netherlands
    "AI", "BM", "IO", "KY", "FK", "MS", "PN", "SH", "GS", "TC", "VG",  # British overseas
    "PR", "GU", "VI", "AS", "MP", "UM",  # US territories
    "CX", "CC", "NF", "HM",  # Australian external territories
    "CK", "NU", "TK",  # associated with New Zealand
    "HK", "MO", "AQ",
}  # fmt: skip

#: Countries with a jurisdiction of their own (everything not listed here or above is "rest").
OWN_JURISDICTION = {
    "CH": "ch", "GB": "uk", "BR": "br", "JP": "jp", "KR": "kr",
    "US": "us", "CA": "ca", "AU": "au", "IN": "in",
}  # fmt: skip

EUROPE = {"eea", "ch", "uk"}
DUBLIN = "Dublin"
KINDS: tuple[LetterKind, ...] = ("objection", "followup", "complaint")


def _case(country: str, language: str, region: str | None = None, **extra: object) -> Case:
    return letter_case(country, language, region=region, reasons=(Reason.CREATIVE,), **extra)


def _ticked(case: Case) -> Case:
    """The case with both options ticked: erasure (Art. 17(1)(c)) and access (Art. 15)."""
    return case.model_copy(update={"ask_erasure": True, "ask_access": True})


def _texts(renderer: Renderer, key: str, language: str) -> dict[str, str]:
    country, region = PLACES[key]
    case = _case(country, language, region)
    texts: dict[str, str] = {kind: renderer.letter(case, kind).full_text for kind in KINDS}
    texts["form_text"] = renderer.letter(case).form_text
    subject, body = renderer.email(case, renderer.letter(case))
    texts["email"] = subject + "\n" + body
    return texts


def _all(renderer: Renderer, key: str) -> str:
    return "\n".join(t for lang in LANGUAGES for t in _texts(renderer, key, lang).values())


# -- every text renders ----------------------------------------------------------------------------


def test_places_cover_every_jurisdiction(knowledge: Knowledge) -> None:
    """The table of sample places reaches each jurisdiction, through its region where needed."""
    assert set(PLACES) == set(knowledge.jurisdictions)
    for key, (country, region) in PLACES.items():
        assert knowledge.jurisdiction_key(country, region) == key


@pytest.mark.parametrize(("key", "language"), list(itertools.product(PLACES, LANGUAGES)))
def test_every_letter_kind_renders(renderer: Renderer, key: str, language: str) -> None:
    """Objection, form text, follow-up, complaint and e-mail render under StrictUndefined,
    with and without the erasure and access options, and with no gaps."""
    texts = _texts(renderer, key, language)
    country, region = PLACES[key]
    ticked = _ticked(_case(country, language, region))
    texts["ticked"] = renderer.letter(ticked).full_text
    for kind, text in texts.items():
        assert "holder@example.org" in text or kind == "form_text", (key, kind)
        assert "None" not in text and "{{" not in text and "{%" not in text, (key, kind)


# -- the controller (meta-and-law-2026.md row 23) --------------------------------------------------


@pytest.mark.parametrize(("key", "language"), list(itertools.product(PLACES, LANGUAGES)))
def test_only_european_letters_go_to_dublin(
    knowledge: Knowledge, renderer: Renderer, key: str, language: str
) -> None:
    """EU/EEA, Switzerland and the UK: Meta Platforms Ireland; everywhere else: Meta Platforms,
    Inc., 1 Meta Way – in every kind of letter."""
    contact = knowledge.meta_contacts[knowledge.jurisdictions[key].controller]
    for kind, text in _texts(renderer, key, language).items():
        if kind in ("form_text", "email"):
            continue
        if key in EUROPE:
            assert "Meta Platforms Ireland Limited" in text and DUBLIN in text, (key, kind)
        else:
            assert DUBLIN not in text and "Ireland" not in text, (key, kind)
            assert "Meta Platforms, Inc." in text and "1 Meta Way" in text, (key, kind)
        assert contact.controller in text


def test_brazil_controller_is_stated_as_unconfirmed(renderer: Renderer) -> None:
    """Brazil's letters go to Meta Platforms, Inc. and say that this is not confirmed."""
    text = _texts(renderer, "br", "en")["objection"]
    assert "Meta Platforms, Inc." in text and "not confirmed" in text
    assert "Facebook Serviços Online do Brasil" in text


# -- territories ---------------------------------------------------------------------------------


def test_every_iso_entry_is_decided(knowledge: Knowledge) -> None:
    """Each ISO 3166-1 entry maps deliberately: the EEA states and the EU territories to the
    EEA, the named countries to their own, each dependent territory as documented with a
    source, and every other state to "rest"."""
    documented = set(knowledge.territories)
    assert documented == DEPENDENT_TERRITORIES
    for country in pycountry.countries:
        code = country.alpha_2
        if code in EEA | EU_TERRITORIES:
            expected = "eea"
        elif code in OWN_JURISDICTION:
            expected = OWN_JURISDICTION[code]
        elif code in documented:
            expected = knowledge.territories[code].jurisdiction
        else:
            expected = "rest"
        assert knowledge.jurisdiction_key(code) == expected, code


def test_eu_outermost_regions_and_aland_are_in_the_eea(knowledge: Knowledge) -> None:
    """Réunion, Guadeloupe, Martinique, French Guiana, Mayotte, Saint-Martin and Åland get the
    GDPR objection, Dublin as controller, and their member state's authority."""
    for code in EU_TERRITORIES:
        j = knowledge.jurisdiction_for(code)
        assert j.kind == "objection" and j.law is not None and j.law.gdpr, code
        assert knowledge.meta_contact_for(code).european, code
        regulator = knowledge.regulator_for(code)
        assert regulator is not None and regulator.gdpr_authority, code
        assert knowledge.territories[code].confidence == "verified", code
    assert knowledge.regulator_for("RE") is knowledge.regulators["fr"]
    assert knowledge.regulator_for("AX") is knowledge.regulators["fi"]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("GI", "Gibraltar GDPR"),
        ("JE", "Data Protection (Jersey) Law 2018"),
        ("GG", "Data Protection (Bailiwick of Guernsey) Law 2017"),
        ("IM", "Data Protection Act 2018"),
        ("FO", "Art. 355(5)(a) TFEU"),
        ("GL", "TFEU Annex II"),
        ("SJ", "Protocol 40"),
        ("BV", "uninhabited"),
        *((c, "not part of the EU") for c in ("PM", "BL", "WF", "PF", "NC", "TF")),
    ],
)
def test_territories_outside_the_eu_go_to_rest_with_their_law(
    knowledge: Knowledge, code: str, says: str
) -> None:
    """Gibraltar, the Crown Dependencies, the Faroes, Greenland, Svalbard, Bouvet and the
    French overseas countries are not EU: "rest", with a note on the law that applies there."""
    assert knowledge.jurisdiction_key(code) == "rest"
    territory = knowledge.territories[code]
    assert says in territory.note["en"], code
    assert "UK GDPR" not in territory.note["en"] or "not" in territory.note["en"]


def test_unconfirmed_territories_say_so(knowledge: Knowledge) -> None:
    """A territory whose law or Meta form is not confirmed says "not confirmed" or names the gap."""
    for code, territory in knowledge.territories.items():
        if territory.jurisdiction == "rest":
            note = territory.note["en"]
            gaps = ("not confirmed", "not in our sources", "no data")
            assert any(gap in note for gap in gaps), code


# -- USA: the CCPA only in California (row 36) ---------------------------------------------------


def test_ccpa_only_for_california(knowledge: Knowledge, renderer: Renderer) -> None:
    """US-CA gets the CCPA (§1798.105, 45 days, CalPrivacy); every other state no statute, no
    legal deadline and the FTC as what it is."""
    assert knowledge.jurisdiction_key("US") == "us"
    assert knowledge.jurisdiction_key("US", "US-NY") == "us"
    assert knowledge.jurisdiction_key("US", "US-CA") == "us_ca"
    assert knowledge.jurisdiction_key("DE", "US-CA") == "eea"  # a region of another country
    us, ca = knowledge.jurisdictions["us"], knowledge.jurisdictions["us_ca"]
    assert us.law is None and us.deadline is None
    assert ca.law is not None and ca.law.request == "delete" and ca.law.public_data_excluded
    assert ca.deadline is not None and ca.deadline.days == 45
    assert knowledge.regulator_key_for("US") == "us_ftc"
    assert knowledge.regulator_key_for("US", "US-CA") == "us_ca"
    others = _all(renderer, "us")
    assert "CCPA" not in others and "1798" not in others and "§" not in others
    assert "45" not in others
    california = _texts(renderer, "us_ca", "en")
    assert "§1798.105" in california["objection"] and "45 days" in california["objection"]
    assert "no right to opt out of AI training" in california["objection"]
    assert "California Privacy Protection Agency" in california["complaint"]


def test_us_authorities_are_described_as_what_they_are(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """The FTC and CalPrivacy take reports; the texts do not promise that a report removes data."""
    for key in ("us_ftc", "us_ca"):
        assert knowledge.regulators[key].individual_cases is False
    complaint = _texts(renderer, "us", "en")["complaint"]
    assert "does not decide your individual case" in complaint
    assert "will not by itself get your data removed" in complaint
    assert "Report about" in complaint and "Complaint under" not in complaint
    note = knowledge.regulators["us_ftc"].note
    assert note is not None and "attorney general" in note["en"]


def test_no_particular_situation_where_no_law_asks_for_it(renderer: Renderer) -> None:
    """Only GDPR and UK GDPR letters speak of grounds from a "particular situation"."""
    for key in PLACES:
        text = _all(renderer, key)
        if key in ("eea", "uk"):
            assert "particular situation" in text and "besonderen Situation" in text
        else:
            assert "particular situation" not in text, key
            assert "besonderen Situation" not in text, key


# -- UK after the Data (Use and Access) Act 2025 (rows 24–27) -------------------------------------


def test_uk_2026_rules(knowledge: Knowledge, renderer: Renderer) -> None:
    """Art. 12(3) and 12A UK GDPR; a complaint to Meta first under s.164A DPA 2018 (30 days to
    acknowledge); the ICO complaint under s.165 DPA 2018 stated as reported; no stale address."""
    law = knowledge.jurisdictions["uk"].law
    assert law is not None and law.deadline_rule is not None
    assert law.deadline_rule["en"] == "Art. 12(3) and 12A UK GDPR"
    assert law.controller_complaint is not None and law.controller_complaint.days == 30
    assert law.controller_complaint.confidence == "verified"
    assert law.authority_complaint is not None
    assert law.authority_complaint.confidence == "reported"
    ico = knowledge.regulators["gb"]
    assert ico.postal_address == [] and ico.complaint_url is not None
    texts = _texts(renderer, "uk", "en")
    assert "Complaint under section 164A Data Protection Act 2018" in texts["followup"]
    assert "within 30 days" in texts["followup"]
    assert "section 165 Data Protection Act 2018" in texts["complaint"]
    assert "reported by one source and not confirmed" in texts["complaint"]
    assert "12A UK GDPR" in texts["objection"]
    everything = _all(renderer, "uk")
    assert "Wilmslow" not in everything and "Wycliffe" not in everything
    notes = " ".join(n["en"] for n in knowledge.jurisdictions["uk"].notes)
    assert "clock may stop" in notes


# -- India, Canada, Japan, Korea, Australia, Brazil, Switzerland (rows 28–35) ----------------------


def test_india_claims_no_dpdp_right(knowledge: Knowledge, renderer: Renderer) -> None:
    """The DPDP Act's rights apply from about May 2027 and exclude public data: no letter claims
    an enforceable right today."""
    law = knowledge.jurisdictions["in"].law
    assert law is not None and law.request == "none" and law.public_data_excluded
    assert law.rights_apply_from is not None and law.rights_apply_from.year == 2027
    for language in LANGUAGES:
        texts = _texts(renderer, "in", language)
        letter = texts["objection"]
        month = format_date(law.rights_apply_from, "MMMM", locale=babel_locale(language))
        assert month.casefold() in letter.casefold() and "2027" in letter, (language, month)
        assert "6(4)" not in letter
        assert "under the privacy law of my country" not in letter
        assert "6(4)" not in texts["email"]


def test_canada_cites_the_opc_findings_and_quebec_gets_the_cai(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """The CA letter withdraws consent and cites PIPEDA Findings #2026-002 of 6 May 2026; a
    Québec resident's authority is the CAI, everyone else's the OPC."""
    letter = _texts(renderer, "ca", "en")["objection"]
    assert "#2026-002" in letter and "6 May 2026" in letter and "withdraw" in letter
    assert knowledge.regulator_key_for("CA") == "ca"
    assert knowledge.regulator_key_for("CA", "CA-QC") == "ca_qc"
    assert knowledge.regulator_key_for("CA", "CA-ON") == "ca"
    complaint = renderer.letter(_case("CA", "en", "CA-QC"), "complaint").full_text
    assert "Commission d'accès à l'information" in complaint
    assert knowledge.subdivisions_of("CA") == []  # not every Canadian is asked for a province
    assert knowledge.regions_with_own_rules("CA") == ["CA-QC"]


def test_japan_art_35_5_appi(knowledge: Knowledge, renderer: Renderer) -> None:
    """Japan: Art. 35(5) APPI, now verified."""
    law = knowledge.jurisdictions["jp"].law
    assert law is not None and law.confidence == "verified"
    assert "Art. 35(5) APPI" in _texts(renderer, "jp", "en")["objection"]


def test_korea_pipa_37_ten_days_and_a_reported_opt_out(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Korea: PIPA Art. 37, 10 days, and an opt-out that is only reported – and said so."""
    opt_out = knowledge.jurisdictions["kr"].opt_out
    assert opt_out is not None and opt_out.exists and opt_out.confidence == "reported"
    letter = _texts(renderer, "kr", "en")["objection"]
    assert "Art. 37 PIPA" in letter and "10 days" in letter
    assert "It has been reported that you offer an opt-out" in letter
    assert "Berichten zufolge" in _texts(renderer, "kr", "de")["objection"]


def test_australia_no_opt_out_and_the_tort_is_a_court_route(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Australia: no opt-out, no right claimed; the statutory tort (10 June 2025) is a court
    route, not an opt-out."""
    j = knowledge.jurisdictions["au"]
    assert j.opt_out is not None and j.opt_out.exists is False
    assert j.law is not None and j.law.request == "none"
    notes = " ".join(n["en"] for n in j.notes)
    assert "10 June 2025" in notes and "not an opt-out" in notes
    assert "gives me no right to object" in _texts(renderer, "au", "en")["objection"]


def test_brazil_2025_changes_prior_request_and_no_legal_deadline(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Brazil: 16 Dec 2025 (Threads, AI chats), earlier objections valid, ANPD only after a
    request to Meta with its protocol number, and no "by law … by" for the 15-day guide."""
    j = knowledge.jurisdictions["br"]
    notes = " ".join(n["en"] for n in j.notes)
    assert "16 December 2025" in notes and "Threads" in notes
    assert "earlier objections stay valid" in notes
    anpd = knowledge.regulators["br"]
    assert anpd.contact_controller_first is True
    assert anpd.note is not None and "protocol number" in anpd.note["en"]
    assert j.deadline is not None and j.deadline.confidence != "verified"
    texts = _texts(renderer, "br", "en")
    assert "at the latest within 15 days" not in texts["objection"]
    assert "Meta had to answer" not in texts["complaint"]
    assert "protocol number" in texts["complaint"]


def test_brazil_argues_art_18_2_lgpd(renderer: Renderer) -> None:
    """The Brazilian objection argues what Art. 18 §2 LGPD requires: processing without consent
    that does not comply with the law (the ANPD's July 2024 findings)."""
    letter = _texts(renderer, "br", "en")["objection"]
    assert "Art. 18 §2 LGPD" in letter
    assert "without my consent" in letter and "does not comply with the LGPD" in letter
    assert "2 July 2024" in letter


def test_switzerland_art_30_fadp_express_prohibition(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Switzerland: Art. 30(2)(b) and (3) FADP, verified; the letter expressly forbids."""
    law = knowledge.jurisdictions["ch"].law
    assert law is not None and law.confidence == "verified" and law.request == "forbid"
    german = _texts(renderer, "ch", "de")["objection"]
    assert "untersage Ihnen ausdrücklich" in german
    assert "(Art. 30 Abs. 2 lit. b und Abs. 3 DSG)" in german
    english = _texts(renderer, "ch", "en")["objection"]
    assert "expressly forbid" in english and "(Art. 30(2)(b) and (3) FADP)" in english


# -- the stronger EEA/UK objection -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["eea", "uk"])
def test_gdpr_objection_demands_compelling_grounds_and_restriction(
    renderer: Renderer, key: str
) -> None:
    """Art. 21(1) second sentence, restriction meanwhile (Art. 18(1)(d)); erasure (Art. 17(1)(c))
    and access (Art. 15) only when ticked, in the GDPR's own terms in German."""
    english = _texts(renderer, key, "en")["objection"]
    assert "compelling legitimate grounds" in english and "second sentence" in english
    assert "Art. 18(1)(d)" in english
    assert "Art. 17(1)(c)" not in english and "Art. 15" not in english
    german = _texts(renderer, key, "de")["objection"]
    assert "zwingende schutzwürdige Gründe" in german and "Art. 21 Abs. 1 Satz 2" in german
    assert "Einschränkung der Verarbeitung" in german and "Art. 18 Abs. 1 lit. d" in german
    country, region = PLACES[key]
    for language, erasure, access in (
        ("en", "Art. 17(1)(c)", "Art. 15"),
        ("de", "Art. 17 Abs. 1 lit. c", "Art. 15"),
    ):
        ticked = _ticked(_case(country, language, region))
        text = renderer.letter(ticked).full_text
        assert erasure in text and access in text, (key, language)


# -- regulators (A.6) ------------------------------------------------------------------------------


def test_czech_authority_moved_to_uoou_gov_cz(knowledge: Knowledge, renderer: Renderer) -> None:
    """The Czech authority: uoou.gov.cz and posta@uoou.gov.cz, no old domain anywhere."""
    cz = knowledge.regulators["cz"]
    assert cz.website == "https://uoou.gov.cz/" and cz.complaint_email == "posta@uoou.gov.cz"
    complaint = renderer.letter(_case("CZ", "en"), "complaint").full_text
    assert "posta@uoou.gov.cz" in complaint and "@uoou.cz" not in complaint


def test_slovak_signature_three_working_days_and_prior_request(knowledge: Knowledge) -> None:
    """Slovakia: signed complaint, ordinary e-mail completed within 3 working days, prior
    request to Meta, and the new site."""
    sk = knowledge.regulators["sk"]
    assert sk.website == "https://dataprotection.gov.sk/sk/"
    assert sk.contact_controller_first is True
    assert sk.note is not None
    assert "signed" in sk.note["en"] and "3 working days" in sk.note["en"]


def test_dutch_complaint_entry_page(knowledge: Knowledge) -> None:
    """The Dutch AP's complaint link is its current tip/klacht entry page."""
    url = "https://autoriteitpersoonsgegevens.nl/een-tip-of-klacht-indienen-bij-de-ap"
    assert knowledge.regulators["nl"].complaint_url == url


def test_every_eea_authority_has_complaint_languages(knowledge: Knowledge) -> None:
    """All 30 EEA authorities (and the 16 German state authorities) say which languages a
    complaint may be in; where no source gives them, they are marked as our assumption."""
    keys = {knowledge.country_regulators[c] for c in EEA}
    keys |= set(knowledge.subdivision_regulators.values())
    assert len({knowledge.country_regulators[c] for c in EEA}) == 30
    for key in keys:
        regulator = knowledge.regulators[key]
        assert regulator.complaint_languages, key
    assert knowledge.regulators["fr"].complaint_languages == ["fr"]
    assert knowledge.regulators["ie"].complaint_languages == ["en"]
    assert knowledge.regulators["de_by"].complaint_languages == ["de"]
    belgium = knowledge.regulators["be"]
    assert {"fr", "nl", "de"} <= set(belgium.complaint_languages)
    assert belgium.complaint_languages_assumed
    assert set(knowledge.regulators["fi"].complaint_languages) == {"fi", "sv"}


def test_complaint_names_the_languages_an_authority_accepts(renderer: Renderer) -> None:
    """A complaint in a language the authority does not take says which ones it does; one in an
    accepted language does not."""
    belgian = renderer.letter(_case("BE", "en"), "complaint").full_text
    assert "language codes: fr, nl, de" in belgian and "not confirmed by the authority" in belgian
    assert "language code" not in renderer.letter(_case("IE", "en"), "complaint").full_text
    assert "Sprachcode" not in renderer.letter(_case("AT", "de"), "complaint").full_text


def test_every_authority_outside_the_eea_has_a_complaint_language(knowledge: Knowledge) -> None:
    """Every authority the bot can name has at least one complaint language."""
    assert all(r.complaint_languages for r in knowledge.regulators.values())
    assert knowledge.regulators["ca"].complaint_languages == ["en", "fr"]


def test_ai_chat_ads_not_yet_in_the_eu_uk_and_korea(knowledge: Knowledge) -> None:
    """From 16 Dec 2025 Meta uses AI chats for ads in most regions, not (yet) in the EU, the UK
    and South Korea; the EEA-EFTA states and Switzerland are not claimed either way."""
    excluded = set(knowledge.advice["ai_chat_ads"].countries)
    assert {"DE", "FR", "IE", "GB", "KR", "RE"} <= excluded
    assert not {"US", "BR", "JP", "CA", "AU", "IN", "NO", "CH"} & excluded
