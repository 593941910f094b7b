"""Tests for the knowledge data: the shipped file, and that validation rejects broken data."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pycountry
import pytest
from pydantic import ValidationError

from conversations import countries, knowledge
from conversations.knowledge import Knowledge

EEA = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
}  # fmt: skip

#: EU outermost regions with their own ISO code, and Åland (TFEU Art. 355(1), (4))
EU_TERRITORIES = {"GP", "GF", "MQ", "YT", "RE", "MF", "AX"}

GERMAN_STATES = {
    "DE-BW", "DE-BY", "DE-BE", "DE-BB", "DE-HB", "DE-HH", "DE-HE", "DE-MV",
    "DE-NI", "DE-NW", "DE-RP", "DE-SL", "DE-SN", "DE-ST", "DE-SH", "DE-TH",
}  # fmt: skip

_RAW: dict[str, Any] = knowledge.raw_data()


@pytest.fixture
def raw() -> dict[str, Any]:
    """A fresh, mutable copy of the parsed knowledge file."""
    return copy.deepcopy(_RAW)


def _assert_rejected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Knowledge.model_validate(data)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# -- the shipped file ------------------------------------------------------------------------------


def test_shipped_file_loads() -> None:
    """The knowledge file that ships with the package validates and has the reviewed date."""
    k = knowledge.load()
    assert k.reviewed == date(2026, 12, 2)
    expected = {"eea", "ch", "uk", "br", "jp", "kr", "us", "us_ca", "ca", "au", "in", "rest"}
    assert set(k.jurisdictions) == expected


def test_unmodified_copy_validates(raw: dict[str, Any]) -> None:
    """The parsed dict used by the rejection tests is valid before it is broken."""
    assert Knowledge.model_validate(raw) == knowledge.load()


def test_every_iso_country_maps_to_exactly_one_jurisdiction() -> None:
    """Every ISO 3166-1 country is listed in at most one jurisdiction and resolves to one."""
    k = knowledge.load()
    default = [key for key, j in k.jurisdictions.items() if j.default]
    assert len(default) == 1
    for country in pycountry.countries:
        code = country.alpha_2
        listed_in = [key for key, j in k.jurisdictions.items() if code in j.countries]
        assert len(listed_in) <= 1, (code, listed_in)
        expected = listed_in[0] if listed_in else default[0]
        assert k.jurisdiction_key(code) == expected


def test_eea_has_30_countries_each_with_its_own_regulator() -> None:
    """The EEA jurisdiction lists the 30 EEA states (plus the EU territories with their own ISO
    code), and each state has its own authority."""
    k = knowledge.load()
    eea = k.jurisdictions["eea"]
    assert set(eea.countries) == EEA | EU_TERRITORIES
    assert eea.lead_regulator == "ie"
    for code in eea.countries:
        assert code in k.country_regulators, code
        assert k.regulator_for(code) is k.regulators[k.country_regulators[code]]
    assert k.country_regulators["DE"] == "de_states"


def test_every_eea_regulator_is_a_gdpr_authority() -> None:
    """The EEA countries', the lead and the German states' authorities take Art. 77 complaints."""
    k = knowledge.load()
    for code in EEA:
        regulator = k.regulator_for(code)
        assert regulator is not None, code
        assert regulator.gdpr_authority, code
    eea = k.jurisdictions["eea"]
    assert eea.lead_regulator is not None
    assert k.regulators[eea.lead_regulator].gdpr_authority
    for subdivision, key in k.subdivision_regulators.items():
        if subdivision.startswith("DE-"):
            assert k.regulators[key].gdpr_authority, subdivision


def test_authorities_outside_the_eea_are_not_gdpr_authorities() -> None:
    """No country outside the EEA is sent to an authority marked as taking Art. 77 complaints."""
    k = knowledge.load()
    for code, key in k.country_regulators.items():
        if code not in EEA | EU_TERRITORIES:
            assert not k.regulators[key].gdpr_authority, (code, key)


def test_every_german_state_maps_to_a_german_language_authority() -> None:
    """Each of the 16 German states has its own authority, which takes complaints in German."""
    k = knowledge.load()
    assert set(k.subdivisions_of("DE")) == GERMAN_STATES
    keys = set()
    for state in GERMAN_STATES:
        subdivision = pycountry.subdivisions.get(code=state)  # type: ignore[no-untyped-call]
        assert subdivision is not None and subdivision.country_code == "DE", state
        regulator = k.regulator_for("DE", state)
        assert regulator is not None, state
        assert regulator is not k.regulators["de_states"], state
        assert regulator.complaint_language == "de", state
        keys.add(k.subdivision_regulators[state])
    assert len(keys) == len(GERMAN_STATES)


def test_regulator_for_a_german_state_and_for_germany() -> None:
    """Hamburg resolves to the Hamburg authority; Germany without a state to the generic entry."""
    k = knowledge.load()
    hamburg = k.regulator_for("DE", "DE-HH")
    assert hamburg is k.regulators["de_hh"]
    assert "HmbBfDI" in hamburg.name["en"]
    assert k.regulator_for("DE") is k.regulators["de_states"]
    assert k.regulator_for("DE", None) is k.regulators["de_states"]


def test_bavaria_is_the_private_sector_authority() -> None:
    """Bavaria resolves to the BayLDA (private sector, so Meta), not the public-sector BayLfD."""
    k = knowledge.load()
    bavaria = k.regulator_for("DE", "DE-BY")
    assert bavaria is not None
    assert "BayLDA" in bavaria.name["en"]
    assert bavaria.complaint_url == "https://www.lda.bayern.de/de/beschwerde.html"


def test_complaint_languages_are_iso_639_1() -> None:
    """Every authority has complaint languages, each a two-letter ISO 639-1 code, and the old
    single-language property still answers with the first one."""
    k = knowledge.load()
    for key, r in k.regulators.items():
        assert r.complaint_languages, key
        for language in r.complaint_languages:
            assert len(language) == 2 and pycountry.languages.get(alpha_2=language), (key, language)
        assert r.complaint_language == r.complaint_languages[0]


def test_eea_authority_report_ends_three_calendar_months_later() -> None:
    """The authority's report on a GDPR complaint is due three calendar months after lodging."""
    period = knowledge.load().jurisdictions["eea"].authority_report
    assert period is not None
    assert (period.months, period.days) == (3, None)
    start = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
    assert period.ends(start) == datetime(2027, 2, 26, 14, 30, tzinfo=UTC)
    # the month's last day where the day does not exist
    assert period.ends(datetime(2026, 11, 30, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)
    assert period.ends(datetime(2027, 5, 31, tzinfo=UTC)) == datetime(2027, 8, 31, tzinfo=UTC)


def test_country_aliases_are_needed_and_resolve() -> None:
    """Each alias is unknown to CLDR and ISO alone and resolves to its country with the file."""
    k = knowledge.load()
    bare = k.model_copy(update={"country_aliases": {}})
    assert k.country_aliases
    for alias, code in k.country_aliases.items():
        assert countries.resolve(alias, bare).code is None, alias
        assert countries.resolve(alias, k).code == code, alias


def test_every_url_in_the_file_is_https() -> None:
    """Every string in the file that starts with "http" is an https:// link."""
    links = [s for s in _strings(_RAW) if s.lower().startswith("http")]
    assert links, "the walk found no links at all"
    insecure = [s for s in links if not s.startswith("https://")]
    assert insecure == []


# -- validation rejects broken data ----------------------------------------------------------------


def test_missing_field_fails(raw: dict[str, Any]) -> None:
    """A jurisdiction without its reason rule is rejected."""
    del raw["jurisdictions"]["eea"]["reason"]
    _assert_rejected(raw, r"jurisdictions\.eea\.reason\s+Field required")


def test_unknown_country_code_fails(raw: dict[str, Any]) -> None:
    """A country code that is not ISO 3166-1 alpha-2 is rejected."""
    raw["jurisdictions"]["uk"]["countries"].append("XX")
    _assert_rejected(raw, "not an ISO 3166-1 alpha-2 code: 'XX'")


def test_unknown_country_code_in_country_regulators_fails(raw: dict[str, Any]) -> None:
    """A country_regulators entry for a code that does not exist is rejected."""
    raw["country_regulators"]["EU"] = "ie"
    _assert_rejected(raw, "not an ISO 3166-1 alpha-2 code: 'EU'")


def test_non_https_link_fails(raw: dict[str, Any]) -> None:
    """A form link over plain http is rejected."""
    raw["forms"]["fb_object_eu_2025"]["url"] = "http://www.facebook.com/help/contact/1"
    _assert_rejected(raw, "not an https link")


def test_non_https_regulator_website_fails(raw: dict[str, Any]) -> None:
    """A regulator website over plain http is rejected."""
    raw["regulators"]["ee"]["website"] = "http://www.aki.ee/"
    _assert_rejected(raw, "not an https link")


def test_fact_without_source_fails(raw: dict[str, Any]) -> None:
    """A fact with an empty source list is rejected."""
    raw["regulators"]["ie"]["source"] = []
    _assert_rejected(raw, r"regulators\.ie\.source")


def test_unknown_source_key_fails(raw: dict[str, Any]) -> None:
    """A fact that cites a source key missing from [sources] is rejected."""
    raw["jurisdictions"]["kr"]["deadline"]["source"] = ["no-such-source"]
    _assert_rejected(raw, r"jurisdictions\.kr\.deadline: unknown source\(s\) \['no-such-source'\]")


def test_missing_german_translation_fails(raw: dict[str, Any]) -> None:
    """A translated field without its German text is rejected."""
    del raw["jurisdictions"]["eea"]["law"]["right"]["de"]
    _assert_rejected(raw, r"missing translation\(s\) \['de'\]")


def test_blank_german_translation_fails(raw: dict[str, Any]) -> None:
    """A translated note whose German text is blank is rejected."""
    raw["jurisdictions"]["uk"]["form_notes"][0]["de"] = "   "
    _assert_rejected(raw, r"missing translation\(s\) \['de'\]")


def test_bad_complaint_language_fails(raw: dict[str, Any]) -> None:
    """A complaint language that is not ISO 639-1 is rejected."""
    raw["regulators"]["be"]["complaint_languages"] = ["fr", "flemish"]
    _assert_rejected(raw, "not an ISO 639-1 language code: 'flemish'")


def test_regulator_without_complaint_language_fails(raw: dict[str, Any]) -> None:
    """Every authority must say which language(s) a complaint may be in."""
    raw["regulators"]["cz"]["complaint_languages"] = []
    _assert_rejected(raw, r"regulators\.cz\.complaint_languages")


def test_unknown_meta_company_fails(raw: dict[str, Any]) -> None:
    """A jurisdiction naming a Meta company missing from [meta_contacts] is rejected."""
    raw["jurisdictions"]["jp"]["controller"] = "tokyo"
    _assert_rejected(raw, "jurisdictions.jp: unknown Meta company 'tokyo'")


def test_unknown_subdivision_jurisdiction_fails(raw: dict[str, Any]) -> None:
    """A region mapped to a jurisdiction that does not exist, or a bad region code, is rejected."""
    raw["subdivision_jurisdictions"]["US-CA"] = "california"
    _assert_rejected(raw, "jurisdiction for US-CA: unknown jurisdiction 'california'")
    raw["subdivision_jurisdictions"] = {"US-XX": "us_ca"}
    _assert_rejected(raw, "subdivision_jurisdictions: not an ISO 3166-2 code: 'US-XX'")


def test_territory_documented_elsewhere_than_it_resolves_fails(raw: dict[str, Any]) -> None:
    """A territory whose documented jurisdiction differs from where its code resolves fails."""
    raw["territories"]["GI"]["jurisdiction"] = "uk"
    _assert_rejected(raw, "territories.GI: documented as 'uk' but resolves to 'rest'")


def test_citation_without_source_fails(raw: dict[str, Any]) -> None:
    """A cited provision (here s.164A DPA 2018) needs its own source like any fact."""
    raw["jurisdictions"]["uk"]["law"]["controller_complaint"]["source"] = ["nowhere"]
    _assert_rejected(raw, r"jurisdictions\.uk\.law\.citation: unknown source\(s\) \['nowhere'\]")


def test_country_in_two_jurisdictions_fails(raw: dict[str, Any]) -> None:
    """A country listed in two jurisdictions is rejected."""
    raw["jurisdictions"]["uk"]["countries"].append("DE")
    _assert_rejected(raw, "DE is in both eea and uk")


def test_two_default_jurisdictions_fail(raw: dict[str, Any]) -> None:
    """Two jurisdictions marked as the default are rejected."""
    raw["jurisdictions"]["us"]["default"] = True
    _assert_rejected(raw, "exactly one default jurisdiction needed")


def test_unknown_form_key_fails(raw: dict[str, Any]) -> None:
    """A jurisdiction pointing at a form key that does not exist is rejected."""
    raw["jurisdictions"]["br"]["forms"]["instagram"] = "ig_object_br"
    _assert_rejected(raw, "jurisdictions.br: unknown form 'ig_object_br'")


def test_unknown_regulator_key_fails(raw: dict[str, Any]) -> None:
    """A country_regulators entry pointing at a regulator that does not exist is rejected."""
    raw["country_regulators"]["DE"] = "de_bund"
    _assert_rejected(raw, "regulator for DE: unknown regulator 'de_bund'")


def test_unknown_subdivision_code_fails(raw: dict[str, Any]) -> None:
    """A subdivision_regulators entry for a code that is not ISO 3166-2 is rejected."""
    raw["subdivision_regulators"]["DE-XX"] = "de_hh"
    _assert_rejected(raw, "subdivision_regulators: not an ISO 3166-2 code: 'DE-XX'")


def test_unknown_subdivision_regulator_key_fails(raw: dict[str, Any]) -> None:
    """A subdivision_regulators entry pointing at a regulator that does not exist is rejected."""
    raw["subdivision_regulators"]["DE-HH"] = "de_hamburg"
    _assert_rejected(raw, "regulator for DE-HH: unknown regulator 'de_hamburg'")


def test_authority_report_with_days_and_months_fails(raw: dict[str, Any]) -> None:
    """An authority_report period given in both days and months is rejected."""
    raw["jurisdictions"]["eea"]["authority_report"]["days"] = 90
    _assert_rejected(raw, "a deadline needs exactly one of days or months")


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("de-AT", "de"),
        ("pt-BR", "pt-BR"),
        ("pt_br", "pt-BR"),
        ("pt-PT", "pt-PT"),
        ("pt", "pt-PT"),  # a bare tag: the preferred variant
        ("pt-AO", "pt-PT"),
        ("nb", "nb"),
        ("no", "nb"),
        ("nn-NO", "nb"),
        ("xx", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_the_client_language_tag_picks_the_language_and_its_region(
    monkeypatch: pytest.MonkeyPatch, tag: str | None, language: str
) -> None:
    """Telegram's language tag, region included: Brazilian and European Portuguese are two
    languages; Norwegian in any form is Bokmål; anything else is English."""
    monkeypatch.setattr(knowledge, "LANGUAGES", ("en", "de", "pt-BR", "pt-PT", "nb"))
    assert knowledge.supported_language(tag) == language
    monkeypatch.setattr(knowledge, "LANGUAGES", ("en", "pt-BR"))
    assert knowledge.supported_language("pt-PT") == "pt-BR"  # the one Portuguese there is
