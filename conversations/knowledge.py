"""The knowledge data: jurisdictions, Meta's forms, regulators and deadlines.

Rules of this module:
- Every fact lives in ``knowledge.toml`` beside this file, never in code. Changing a form link is a
  data edit.
- Every fact carries ``source`` (keys into ``[sources]``) and ``last_verified``; a fact whose
  confidence is not ``verified`` must be presented as such by the templates.
- Loading validates everything: unknown source keys, non-https links, unknown ISO 3166 codes, a
  country in two jurisdictions, an unknown Meta company, a complaint language that is not ISO 639-1,
  a documented territory that resolves elsewhere than documented, or a missing language in a
  translated field all fail at start-up.
- Texts people read are written once, in English (``{ en = "…" }``); their translations live in
  the same gettext catalogs as the chat's (``templates/locale/<lang>/LC_MESSAGES/messages.po``,
  extracted by ``extract_babel`` through ``babel.cfg``), so translators see every string in one
  place. Loading fills each text's languages from there; a text may also carry its own
  translation inline (``{ en = "…", de = "…" }``), which wins.
- Lookups take the country and, optionally, the ISO 3166-2 region ("US-CA", "DE-BY"): a region can
  change the jurisdiction (``subdivision_jurisdictions``: only Californians get the CCPA) and the
  competent authority (``subdivision_regulators``). Without a region a lookup answers for the
  country as a whole.
"""

from __future__ import annotations

import tomllib
from calendar import monthrange
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import optout_templates
import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog as PoCatalog

KNOWLEDGE_FILE = Path(__file__).with_name("knowledge.toml")
#: The gettext catalogs the texts' translations come from (shared with the chat).
CATALOGS_DIR = Path(optout_templates.__file__).resolve().parent / "locale"

#: Languages the bot speaks. Every translated field in the data must have all of them.
LANGUAGES: tuple[str, ...] = (
    "en",
    "de",
    "fr",
    "it",
    "es",
    "pl",
    "nl",
    "pt-BR",
    "sv",
    "pt-PT",
    "cs",
    "da",
    "el",
    "hu",
    "bg",
    "et",
    "ro",
    "nb",
    "hr",
    "sl",
    "fi",
    "sk",
)

#: The languages the bot speaks for people who live under the GDPR (or the UK's, Switzerland's
#: law) without it being an official language there: Ukrainian, Turkish, Arabic, Russian. Their
#: texts to Meta are written in English unless the language is official in the person's country
#: (Turkish in Cyprus) or they choose their own; the complaint goes in the authority's language.
GUEST_LANGUAGES: frozenset[str] = frozenset({"uk", "tr", "ar", "ru"})
#: The languages written right to left (the evidence pack is set right-aligned in them).
RIGHT_TO_LEFT: frozenset[str] = frozenset({"ar"})

#: Where a client's language tag has no exact match, the variant a bare or unknown-region tag
#: gets ("pt" and "pt-AO": European Portuguese where the bot has it), and the tags that mean
#: another one (Norwegian: "no" and Nynorsk "nn" are served in Bokmål).
PREFERRED_VARIANT: dict[str, str] = {"pt": "pt-PT"}
SAME_LANGUAGE: dict[str, str] = {"no": "nb", "nn": "nb"}


def babel_locale(language: str) -> str:
    """The CLDR/gettext name of one of ``LANGUAGES`` ("pt-BR" -> "pt_BR")."""
    return language.replace("-", "_")


def supported_language(tag: str | None, default: str = "en") -> str:
    """The bot's language for a client's IETF tag: the exact language and region where the bot
    has it ("pt-BR"), else the language ("de-AT" -> "de", "pt" -> the preferred variant, else
    any), else ``default``."""
    parts = (tag or "").replace("_", "-").split("-")
    base = SAME_LANGUAGE.get(parts[0].lower(), parts[0].lower())
    if len(parts) > 1 and f"{base}-{parts[1].upper()}" in LANGUAGES:
        return f"{base}-{parts[1].upper()}"
    if base in LANGUAGES:
        return base
    variants = [lang for lang in LANGUAGES if lang.split("-")[0] == base]
    preferred = PREFERRED_VARIANT.get(base)
    if preferred in variants:
        return str(preferred)
    return variants[0] if variants else default


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


def _language(code: str) -> str:
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        raise ValueError(f"not an ISO 639-1 language code: {code!r}")
    return code


LanguageCode = Annotated[str, AfterValidator(_language)]


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


class Citation(Fact):
    """A provision or decision the letters cite, with its own evidence and confidence."""

    cite: Translated  # "s.164A Data Protection Act 2018", "PIPEDA Findings #2026-002"
    #: what it holds, where a letter argues from it (a decision, not a statute)
    holding: Translated | None = None
    days: int | None = Field(default=None, gt=0)  # a period it sets, e.g. 30 days to acknowledge


#: What a letter may ask for under the law, which decides its wording:
#: "object" a right to object (GDPR, UK GDPR, LGPD); "forbid" an express prohibition that makes
#: further processing unlawful (FADP Art. 30(2)(b), (3)); "stop" a right to have processing
#: stopped (APPI, PIPA); "withdraw_consent" (PIPEDA); "delete" a right to deletion that is no
#: AI-training opt-out (CCPA); "none" no right a letter may claim today (DPDP Act before its
#: rights apply, the Australian Privacy Act).
RequestKind = Literal["object", "forbid", "stop", "withdraw_consent", "delete", "none"]


class Law(Fact):
    name: Translated  # "General Data Protection Regulation (GDPR)"
    short: Translated  # "GDPR" / "DSGVO"
    right: Translated  # the article that gives the right: "Art. 21(1) GDPR"
    basis: Translated | None = None  # the legal basis Meta relies on, where known
    deadline_rule: Translated | None = None  # the article that sets the answer deadline
    gdpr: bool = False  # the GDPR or a copy of it (UK GDPR): its article numbers apply
    request: RequestKind = "object"
    #: the law excludes information the person made public (CCPA, DPDP Act s.3(c)(ii))
    public_data_excluded: bool = False
    #: the rights exist on paper but only apply from this date (DPDP Act: about May 2027)
    rights_apply_from: date | None = None
    #: where the person complains to the company before the authority (UK: s.164A DPA 2018)
    controller_complaint: Citation | None = None
    #: the basis of a complaint to the authority where it is not Art. 77 of ``short``
    authority_complaint: Citation | None = None
    #: decisions that support the request (Canada: the OPC's findings of 6 May 2026)
    precedents: list[Citation] = []


class Regulator(Fact):
    name: Translated
    native_name: str | None = None
    website: HttpsUrl | None = None  # None where no official site is confirmed
    complaint_url: HttpsUrl | None = None
    complaint_email: str | None = None
    #: ISO 639-1 languages a complaint may be written in, the preferred one first
    complaint_languages: list[LanguageCode] = Field(min_length=1)
    #: True where no source gives the languages: they are the country's official ones (our guess)
    complaint_languages_assumed: bool = False
    postal_address: list[str] = []
    anonymous_complaints: bool | None = None  # False: refuses anonymous complaints
    contact_controller_first: bool | None = None  # True: expects you to ask the company first
    #: False: takes reports but neither decides nor acts on your individual case (FTC, CPPA, FDPIC)
    individual_cases: bool | None = None
    gdpr_authority: bool = False  # an Art. 77 complaint can be lodged here
    generic: bool = False  # stands for "your regional authority" until the region is known
    note: Translated | None = None  # e.g. "complaints by e-mail need a qualified e-signature"
    #: the authority wants the complaint signed (by hand on paper, or a qualified e-signature):
    #: the bot offers a printable PDF to sign (from the authority's own rules in ``note``)
    signed_complaint: bool = False

    @property
    def complaint_language(self) -> str:
        """The preferred complaint language (kept for templates written before the list)."""
        return self.complaint_languages[0]

    def accepts(self, language: str) -> bool:
        """Whether a complaint in ``language`` is taken (a regional tag by its language:
        pt-BR is Portuguese; Norwegian "no" is taken in Bokmål, "nb")."""
        base = language.split("-")[0]
        return any(SAME_LANGUAGE.get(code, code) == base for code in self.complaint_languages)


class MetaContact(Fact):
    """The Meta company responsible for a person's data, and where a follow-up to it goes."""

    controller: str  # "Meta Platforms Ireland Limited", "Meta Platforms, Inc."
    privacy_url: HttpsUrl  # its privacy channel (or the policy that names it)
    legacy_dpo_url: HttpsUrl | None = None
    postal_address: list[str]
    #: True for the company of the European Region (and the UK), whose DPO the letters address
    european: bool = False
    note: Translated | None = None  # e.g. "which Meta company is responsible here is not confirmed"


class OptOut(Fact):
    """Whether Meta offers a setting or form to keep a person's own posts out of AI training."""

    exists: bool


class Advice(Fact):
    """A fact behind the protect-your-data advice, with the countries it concerns."""

    #: e.g. for "ai_chat_ads": where Meta had not started using AI chats for ads
    countries: list[CountryCode] = []


class Territory(Fact):
    """A dependent territory with its own ISO code: which jurisdiction's rules apply, and why."""

    jurisdiction: str  # key into [jurisdictions]; checked against where the code resolves
    note: Translated  # what the law there is, as far as the sources show


class Timing(_Strict):
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
    #: after escalating: days until "did Meta answer your follow-up?" (where the law sets no
    #: period of its own for Meta to acknowledge it, as the UK's s.164A does) ...
    followup_wait_days: int = Field(gt=0)
    #: ... and again after this many days when the person says "not yet"
    followup_again_days: int = Field(gt=0)


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
    controller: str  # key into [meta_contacts]: the Meta company responsible here
    opt_out: OptOut | None = None  # whether Meta offers an opt-out here, where the sources say
    # Honest caveats, in every language, by what they help with (each is one tap away at the
    # letter step): filling in the form and its links; what the objection does and covers;
    # what comes after if Meta does not confirm.
    form_notes: list[Translated] = []
    scope_notes: list[Translated] = []
    refusal_notes: list[Translated] = []

    @property
    def notes(self) -> list[Translated]:
        """Every caveat, in the order the letter step offers them."""
        return [*self.form_notes, *self.scope_notes, *self.refusal_notes]


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
    meta_contacts: dict[str, MetaContact]
    schedule: Timing
    #: ISO 3166-2 subdivision -> regulator, where the competent authority depends on it (DE)
    subdivision_regulators: dict[str, str] = {}
    #: ISO 3166-2 subdivision -> jurisdiction, where the law depends on it (US-CA: the CCPA)
    subdivision_jurisdictions: dict[str, str] = {}
    #: dependent territories with their own ISO code: where they belong and the evidence for it
    territories: dict[CountryCode, Territory] = {}
    #: facts behind the protect-your-data checklist (AI chats used for ads, …)
    advice: dict[str, Advice] = {}

    @model_validator(mode="after")
    def _references_resolve(self) -> Knowledge:
        """Every name the data uses is defined, every fact cites a known source, and every
        country belongs to exactly one jurisdiction. Each check raises on the first problem."""
        for key, j in self.jurisdictions.items():
            self._check_jurisdiction(key, j)
        for where, fact in self._facts():
            unknown = [s for s in fact.source if s not in self.sources]
            if unknown:
                raise ValueError(f"{where}: unknown source(s) {unknown}")
        self._check_regions()
        self._check_countries()
        self._check_territories()
        return self

    def _facts(self) -> list[tuple[str, Fact]]:
        """Every sourced fact in the data, with where it is."""
        facts: list[tuple[str, Fact]] = [(f"forms.{k}", v) for k, v in self.forms.items()]
        facts += [(f"regulators.{k}", v) for k, v in self.regulators.items()]
        for key, j in self.jurisdictions.items():
            at = f"jurisdictions.{key}"
            facts += [(f"{at}.reason", j.reason), (f"{at}.code", j.code)]
            if j.law is not None:
                facts.append((f"{at}.law", j.law))
                cited = [j.law.controller_complaint, j.law.authority_complaint, *j.law.precedents]
                facts += [(f"{at}.law.citation", c) for c in cited if c]
            optional = {
                "opt_out": j.opt_out,
                "deadline": j.deadline,
                "authority_report": j.authority_report,
            }
            facts += [(f"{at}.{name}", f) for name, f in optional.items() if f is not None]
        facts += [(f"meta_contacts.{k}", v) for k, v in self.meta_contacts.items()]
        facts += [(f"territories.{k}", v) for k, v in self.territories.items()]
        facts += [(f"advice.{k}", v) for k, v in self.advice.items()]
        return facts

    def _check_jurisdiction(self, key: str, j: Jurisdiction) -> None:
        if j.controller not in self.meta_contacts:
            raise ValueError(f"jurisdictions.{key}: unknown Meta company {j.controller!r}")
        for form in [*j.forms.values(), *j.fallback_forms]:
            if form not in self.forms:
                raise ValueError(f"jurisdictions.{key}: unknown form {form!r}")
        for reg in filter(None, [j.regulator, j.lead_regulator]):
            if reg not in self.regulators:
                raise ValueError(f"jurisdictions.{key}: unknown regulator {reg!r}")

    def _check_regions(self) -> None:
        for where, reg in [*self.country_regulators.items(), *self.subdivision_regulators.items()]:
            if reg not in self.regulators:
                raise ValueError(f"regulator for {where}: unknown regulator {reg!r}")
        for table, codes in (
            ("subdivision_regulators", self.subdivision_regulators),
            ("subdivision_jurisdictions", self.subdivision_jurisdictions),
        ):
            for code in codes:
                known = code == code.upper() and pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
                if not known:
                    raise ValueError(f"{table}: not an ISO 3166-2 code: {code!r}")
        for code, key in self.subdivision_jurisdictions.items():
            if key not in self.jurisdictions:
                raise ValueError(f"jurisdiction for {code}: unknown jurisdiction {key!r}")

    def _check_countries(self) -> None:
        defaults = [k for k, j in self.jurisdictions.items() if j.default]
        if len(defaults) != 1:
            raise ValueError(f"exactly one default jurisdiction needed, found {defaults}")
        seen: dict[str, str] = {}
        for key, j in self.jurisdictions.items():
            for country in j.countries:
                if country in seen:
                    raise ValueError(f"{country} is in both {seen[country]} and {key}")
                seen[country] = key

    def _check_territories(self) -> None:
        for code, territory in self.territories.items():
            if territory.jurisdiction not in self.jurisdictions:
                raise ValueError(
                    f"territories.{code}: unknown jurisdiction {territory.jurisdiction!r}"
                )
            resolves = self.jurisdiction_key(code)
            if territory.jurisdiction != resolves:
                raise ValueError(
                    f"territories.{code}: documented as {territory.jurisdiction!r}"
                    f" but resolves to {resolves!r}"
                )

    # -- lookups ---------------------------------------------------------------------------

    @staticmethod
    def _in(country: str, region: str | None) -> str | None:
        """The region if it is one of the country's ("US-CA" for "US"), else None."""
        return region if region and region.startswith(f"{country}-") else None

    def jurisdiction_key(self, country: str, region: str | None = None) -> str:
        """The jurisdiction whose rules apply: the region's where it has its own, else the
        country's, else the default one."""
        own = self._in(country, region)
        if own in self.subdivision_jurisdictions:
            return self.subdivision_jurisdictions[own]
        for key, j in self.jurisdictions.items():
            if country in j.countries:
                return key
        return next(key for key, j in self.jurisdictions.items() if j.default)

    def jurisdiction_for(self, country: str, region: str | None = None) -> Jurisdiction:
        return self.jurisdictions[self.jurisdiction_key(country, region)]

    def regulator_key_for(self, country: str, region: str | None = None) -> str | None:
        """The competent authority: the region's, else that of the region's own jurisdiction,
        else the country's, else the jurisdiction's."""
        own = self._in(country, region)
        if own in self.subdivision_regulators:
            return self.subdivision_regulators[own]
        if own in self.subdivision_jurisdictions:
            by_region = self.jurisdictions[self.subdivision_jurisdictions[own]].regulator
            if by_region:
                return by_region
        return self.country_regulators.get(country) or self.jurisdiction_for(country).regulator

    def regulator_for(self, country: str, region: str | None = None) -> Regulator | None:
        key = self.regulator_key_for(country, region)
        return self.regulators[key] if key else None

    def meta_contact_for(self, country: str, region: str | None = None) -> MetaContact:
        """The Meta company responsible for a person's data there (Dublin only in Europe)."""
        return self.meta_contacts[self.jurisdiction_for(country, region).controller]

    def subdivisions_of(self, country: str) -> list[str]:
        """The regions to choose from where the country's authority is only a stand-in for the
        regional ones (the German states); empty for most countries. A country with a real
        authority of its own and one regional exception (Canada and Québec's CAI) is not asked
        this way: see ``regions_with_own_rules``."""
        own = self.country_regulators.get(country)
        if own is None or not self.regulators[own].generic:
            return []
        return sorted(c for c in self.subdivision_regulators if c.startswith(f"{country}-"))

    def regulator_regions(self, country: str) -> list[str]:
        """The regions with an authority of their own (the German states, Québec): asked before
        a complaint is written. All of the country's regions where its own authority is only a
        stand-in (``subdivisions_of``), else the exceptions to a national authority."""
        return sorted(c for c in self.subdivision_regulators if c.startswith(f"{country}-"))

    def regions_with_own_rules(self, country: str) -> list[str]:
        """Every region whose law or authority differs from the country's: US-CA (the CCPA and
        CalPrivacy), CA-QC (the CAI), the German states. A journey that knows the person's region
        passes it to the lookups; one that does not gets the country-wide answer."""
        codes = {*self.subdivision_regulators, *self.subdivision_jurisdictions}
        return sorted(c for c in codes if c.startswith(f"{country}-"))


#: A catalog: English source text -> its translation (one language).
Catalog = dict[str, str]


def raw_data(path: Path = KNOWLEDGE_FILE, catalogs_dir: Path = CATALOGS_DIR) -> dict[str, object]:
    """The knowledge data as it is validated: the file, its texts translated."""
    data = _translated(tomllib.loads(path.read_text(encoding="utf-8")), read_catalogs(catalogs_dir))
    assert isinstance(data, dict)
    return data


def parse(text: str, catalogs: dict[str, Catalog] | None = None) -> Knowledge:
    """The knowledge data, its texts translated from ``catalogs`` (by language)."""
    return Knowledge.model_validate(_translated(tomllib.loads(text), catalogs or {}))


@cache
def load(
    path: Path = KNOWLEDGE_FILE, catalogs_dir: Path = CATALOGS_DIR, override: Path | None = None
) -> Knowledge:
    """Read and validate the knowledge file once per process (it ships with the package),
    with an operator's ``override`` file merged over it (``merged``) before validation: a
    fact can be corrected without a release, and a wrong correction stops the bot at start,
    not a person mid-way."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if override is not None:
        data = merged(data, tomllib.loads(override.read_text(encoding="utf-8")))
    return Knowledge.model_validate(_translated(data, read_catalogs(catalogs_dir)))


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: tables merged key by key, anything else (a value, a list, a
    text with its languages) replaced whole."""
    out = dict(base)
    for key, value in override.items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and not _is_text(value):
            out[key] = merged(old, value)
        else:
            out[key] = value
    return out


def catalog_file(catalogs_dir: Path, language: str) -> Path:
    """Where a language's gettext catalog is (``pt-BR`` -> ``pt_BR/LC_MESSAGES/messages.po``)."""
    return catalogs_dir / babel_locale(language) / "LC_MESSAGES" / "messages.po"


@cache
def parsed_catalog(po: Path) -> PoCatalog:
    """A catalog file, parsed once per process: the knowledge data and the renderer's
    gettext both read it from here."""
    from babel.messages.pofile import read_po  # the shell's dependency too; only loading needs it

    with po.open("rb") as f:
        return read_po(f, locale=po.parent.parent.name)  # the directory is the CLDR name


def read_catalogs(catalogs_dir: Path) -> dict[str, Catalog]:
    """Every language's translations, from its ``messages.po`` (fuzzy entries do not count)."""
    catalogs: dict[str, Catalog] = {}
    for language in LANGUAGES:
        po = catalog_file(catalogs_dir, language)
        if not po.exists():
            continue
        catalogs[language] = {
            m.id: m.string
            for m in parsed_catalog(po)
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and not m.fuzzy
        }
    return catalogs


def _is_text(value: object) -> bool:
    """A translated text in the raw data: a table of language codes with English among them."""
    return isinstance(value, dict) and "en" in value and all(k in LANGUAGES for k in value)


def _translated(raw: object, catalogs: dict[str, Catalog]) -> object:
    """The raw data with every text's missing languages filled in from the catalogs."""
    if _is_text(raw):
        assert isinstance(raw, dict)
        english = raw["en"]
        found = {lang: catalogs.get(lang, {}).get(english, "") for lang in LANGUAGES}
        return {**{k: v for k, v in found.items() if v}, **raw}
    if isinstance(raw, dict):
        return {key: _translated(value, catalogs) for key, value in raw.items()}
    if isinstance(raw, list):
        return [_translated(value, catalogs) for value in raw]
    return raw


def texts(raw: object) -> list[str]:
    """Every English text in the raw data, in file order (what translators translate)."""
    if _is_text(raw):
        assert isinstance(raw, dict)
        return [raw["en"]]
    if isinstance(raw, dict):
        return [text for value in raw.values() for text in texts(value)]
    if isinstance(raw, list):
        return [text for value in raw for text in texts(value)]
    return []


def extract_babel(
    fileobj: object,
    keywords: object,  # noqa: ARG001 - babel calls every extraction method with these
    comment_tags: object,  # noqa: ARG001
    options: object,  # noqa: ARG001
) -> list[tuple[int, None, str, list[str]]]:
    """Babel's extraction method for ``knowledge.toml`` (see ``babel.cfg``): each text once."""
    data = fileobj.read()  # type: ignore[attr-defined]
    raw = tomllib.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    return [(0, None, text, ["knowledge.toml"]) for text in dict.fromkeys(texts(raw))]
