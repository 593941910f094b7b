"""The knowledge data: jurisdictions, Meta's forms, regulators and deadlines.

Rules of this module:
- Every fact lives in ``knowledge.toml`` beside this file, never in code. Changing a form link is a
  data edit.
- Every fact carries ``source`` (keys into ``[sources]``) and ``last_verified``; a fact whose
  confidence is not ``verified`` must be presented as such by the templates.
- Loading validates everything: unknown source keys, non-https links, unknown ISO 3166 codes, a
  country in two jurisdictions, or a missing language in a translated field all fail at start-up.
"""

from __future__ import annotations

import tomllib
from calendar import monthrange
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

KNOWLEDGE_FILE = Path(__file__).with_name("knowledge.toml")

#: Languages the bot speaks. Every translated field in the data must have all of them.
LANGUAGES: tuple[str, ...] = ("en", "de")


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"


class Kind(StrEnum):
    """What a person in a jurisdiction can actually do, which decides the letter they get."""

    OBJECTION = "objection"  # a legal right to object and a Meta form for it (GDPR, UK, CH, BR)
    CESSATION = (
        "cessation"  # a legal right to ask that processing stop, no confirmed Meta form (JP, KR)
    )
    THIRD_PARTY = "third_party"  # no right for own posts; only the third-party-information form


Confidence = Literal["verified", "reported", "unconfirmed"]


def _https(url: str) -> str:
    if not url.startswith("https://"):
        raise ValueError(f"not an https link: {url!r}")
    return url


def _country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"not an ISO 3166-1 alpha-2 code: {code!r}")
    return code


HttpsUrl = Annotated[str, AfterValidator(_https)]
CountryCode = Annotated[str, AfterValidator(_country)]


def _all_languages(value: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in LANGUAGES if not value.get(lang, "").strip()]
    if missing:
        raise ValueError(f"missing translation(s) {missing} in {value!r}")
    return value


#: A short text given in every supported language, e.g. the name of a law.
Translated = Annotated[dict[str, str], AfterValidator(_all_languages)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    url: HttpsUrl
    title: str


class Fact(_Strict):
    """Anything the bot states as true: where it comes from and when someone last checked it."""

    source: list[str] = Field(min_length=1)
    last_verified: date
    confidence: Confidence


class Form(Fact):
    url: HttpsUrl
    title: str
    platform: Literal["facebook", "instagram", "any"]


class Law(Fact):
    name: Translated  # "General Data Protection Regulation (GDPR)"
    short: Translated  # "GDPR" / "DSGVO"
    right: Translated  # the article that gives the right: "Art. 21(1) GDPR"
    basis: Translated | None = None  # the legal basis Meta relies on, where known
    deadline_rule: Translated | None = None  # the article that sets the answer deadline
    gdpr: bool = False  # the GDPR or a copy of it (UK GDPR): its article numbers apply


class Regulator(Fact):
    name: Translated
    native_name: str | None = None
    website: HttpsUrl | None = None  # None where no official site is confirmed
    complaint_url: HttpsUrl | None = None
    complaint_email: str | None = None
    complaint_language: str | None = None  # ISO 639-1: the language a complaint must be in
    postal_address: list[str] = []
    anonymous_complaints: bool | None = None  # False: refuses anonymous complaints
    contact_controller_first: bool | None = None  # True: expects you to ask the company first
    gdpr_authority: bool = False  # an Art. 77 complaint can be lodged here
    generic: bool = False  # stands for "your regional authority" until the region is known
    note: Translated | None = None  # e.g. "complaints by e-mail need a qualified e-signature"


class MetaContact(Fact):
    """Where a follow-up to Meta goes: its current privacy channel and postal address."""

    controller: str
    privacy_url: HttpsUrl
    legacy_dpo_url: HttpsUrl | None = None
    postal_address: list[str]


class Schedule(_Strict):
    """Product timing (not law): how the bot keeps time with a person. Data, not code."""

    countdown_tick_minutes: int = Field(gt=0)  # how often the countdown message is updated
    countdown_final_minutes: int = Field(gt=0)  # ... and every minute in this final stretch
    code_reminders_minutes: list[int]  # "N minutes left" notices
    checkin_after_hours: list[int]  # check-ins after the code was entered, before the deadline
    quiet_from_hour: int = Field(ge=0, le=23)  # no check-ins from this local hour ...
    quiet_until_hour: int = Field(ge=0, le=23)  # ... until this one
    #: check-ins held back by the night are spread over this many minutes after it ends
    wake_spread_minutes: int = Field(ge=0)
    #: how long an "N minutes left" message may wait in the queue before it is out of date
    countdown_valid_seconds: int = Field(gt=0)
    proof_max_chars: int = Field(gt=0)


class CodeStep(Fact):
    """Whether Meta e-mails a one-time code in this jurisdiction's form, and how long it lasts."""

    expected: Literal["yes", "no", "unknown"]
    validity_minutes: int | None = Field(default=None, gt=0)


class Deadline(Fact):
    """A period set by law: in days, or in calendar months ("one month", Art. 12(3) GDPR)."""

    days: int | None = Field(default=None, gt=0)
    months: int | None = Field(default=None, gt=0)
    extension_days: int | None = Field(default=None, ge=0)
    extension_months: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_unit(self) -> Deadline:
        if (self.days is None) == (self.months is None):
            raise ValueError("a deadline needs exactly one of days or months")
        return self

    def ends(self, start: datetime) -> datetime:
        """When the period that starts at ``start`` ends (months as calendar months)."""
        if self.days is not None:
            return start + timedelta(days=self.days)
        assert self.months is not None
        return add_months(start, self.months)


def add_months(start: datetime, months: int) -> datetime:
    """Same day ``months`` later; the month's last day where that day does not exist."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))


class ReasonRule(Fact):
    required: bool
    min_chars: int = Field(ge=0)  # the bot always writes at least this many characters


class Jurisdiction(_Strict):
    name: Translated  # "EU / EEA", "United Kingdom", "Brazil", "Everywhere else"
    kind: Kind
    law: Law | None = None  # None where no known data-protection law gives a right here
    countries: list[CountryCode]
    default: bool = False  # the one jurisdiction for every country not listed elsewhere
    forms: dict[Platform, str]  # platform -> key into [forms]; the form a person uses
    fallback_forms: list[str] = []  # privacy-centre pages that survive form-ID changes
    reason: ReasonRule
    code: CodeStep
    deadline: Deadline | None = None  # for Meta's answer
    authority_report: Deadline | None = None  # for the authority's report on a complaint
    regulator: str | None = None  # key into [regulators]: the default for these countries
    lead_regulator: str | None = None  # Meta's lead authority where one-stop-shop applies
    notes: list[Translated] = []  # honest caveats, in every language


class Knowledge(_Strict):
    reviewed: date
    sources: dict[str, Source]
    forms: dict[str, Form]
    regulators: dict[str, Regulator]
    jurisdictions: dict[str, Jurisdiction]
    country_regulators: dict[CountryCode, str]  # a country's own authority, where it has one
    country_aliases: dict[str, CountryCode]  # names CLDR and ISO do not know: "uk", "holland"
    common_countries: list[CountryCode]  # offered as buttons
    meta_sender_domains: list[str]
    meta_contact: MetaContact
    schedule: Schedule
    #: ISO 3166-2 subdivision -> regulator, where the competent authority depends on it (DE)
    subdivision_regulators: dict[str, str] = {}

    @model_validator(mode="after")
    def _references_resolve(self) -> Knowledge:
        facts: list[tuple[str, Fact]] = [(f"forms.{k}", v) for k, v in self.forms.items()]
        facts += [(f"regulators.{k}", v) for k, v in self.regulators.items()]
        for key, j in self.jurisdictions.items():
            facts += [
                (f"jurisdictions.{key}.reason", j.reason),
                (f"jurisdictions.{key}.code", j.code),
            ]
            if j.law is not None:
                facts.append((f"jurisdictions.{key}.law", j.law))
            for name, period in (
                ("deadline", j.deadline),
                ("authority_report", j.authority_report),
            ):
                if period is not None:
                    facts.append((f"jurisdictions.{key}.{name}", period))
            for form in [*j.forms.values(), *j.fallback_forms]:
                if form not in self.forms:
                    raise ValueError(f"jurisdictions.{key}: unknown form {form!r}")
            for reg in filter(None, [j.regulator, j.lead_regulator]):
                if reg not in self.regulators:
                    raise ValueError(f"jurisdictions.{key}: unknown regulator {reg!r}")
        facts.append(("meta_contact", self.meta_contact))
        for where, fact in facts:
            unknown = [s for s in fact.source if s not in self.sources]
            if unknown:
                raise ValueError(f"{where}: unknown source(s) {unknown}")
        for where, reg in [*self.country_regulators.items(), *self.subdivision_regulators.items()]:
            if reg not in self.regulators:
                raise ValueError(f"regulator for {where}: unknown regulator {reg!r}")
        for code in self.subdivision_regulators:
            known = code == code.upper() and pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
            if not known:
                raise ValueError(f"subdivision_regulators: not an ISO 3166-2 code: {code!r}")
        defaults = [k for k, j in self.jurisdictions.items() if j.default]
        if len(defaults) != 1:
            raise ValueError(f"exactly one default jurisdiction needed, found {defaults}")
        seen: dict[str, str] = {}
        for key, j in self.jurisdictions.items():
            for country in j.countries:
                if country in seen:
                    raise ValueError(f"{country} is in both {seen[country]} and {key}")
                seen[country] = key
        return self

    # -- lookups ---------------------------------------------------------------------------

    def jurisdiction_key(self, country: str) -> str:
        for key, j in self.jurisdictions.items():
            if country in j.countries:
                return key
        return next(key for key, j in self.jurisdictions.items() if j.default)

    def jurisdiction_for(self, country: str) -> Jurisdiction:
        return self.jurisdictions[self.jurisdiction_key(country)]

    def regulator_key_for(self, country: str, subdivision: str | None = None) -> str | None:
        """The competent authority: the region's, else the country's, else the jurisdiction's."""
        return (
            (
                self.subdivision_regulators.get(subdivision)
                if subdivision and subdivision.startswith(f"{country}-")
                else None
            )
            or self.country_regulators.get(country)
            or self.jurisdiction_for(country).regulator
        )

    def regulator_for(self, country: str, subdivision: str | None = None) -> Regulator | None:
        key = self.regulator_key_for(country, subdivision)
        return self.regulators[key] if key else None

    def subdivisions_of(self, country: str) -> list[str]:
        """Regions whose authority differs, e.g. the German states; empty for most countries."""
        return sorted(c for c in self.subdivision_regulators if c.startswith(f"{country}-"))


def parse(text: str) -> Knowledge:
    return Knowledge.model_validate(tomllib.loads(text))


@cache
def load(path: Path = KNOWLEDGE_FILE) -> Knowledge:
    """Read and validate the knowledge file once per process (it ships with the package)."""
    return parse(path.read_text(encoding="utf-8"))
