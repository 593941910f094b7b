"""A case: one person's objection journey, as a plain value.

Rules: steps and reasons are StrEnums with stable values (they are stored in the database);
a case holds only what the journey needs — country, platforms, the account e-mail, the reason,
the language and the dates of its milestones — nothing about the person beyond that.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from conversations.knowledge import Platform

#: Longest "own words" the bot accepts: long enough for a real paragraph, short enough for the form.
OWN_WORDS_MAX_CHARS = 1500


class Step(StrEnum):
    """Where a person is in the journey. Values are stored: never rename one."""

    NEW = "new"
    PLATFORMS = "platforms"
    LINKED = "linked"
    COUNTRY = "country"
    STATE = "state"  # the state, where it decides the law (the USA: only California's CCPA)
    EMAIL = "email"
    REASONS = "reasons"
    OWN_WORDS = "own_words"
    LETTER = "letter"
    SUBMITTED = "submitted"
    CODE = "code"  # Meta's one-time code arrived: the countdown runs
    CODE_EXPIRED = "code_expired"
    WAITING = "waiting"  # code entered (or none needed): check-ins until Meta confirms
    PROOF = "proof"  # Meta confirmed: keep its confirmation as proof
    REGION = "region"  # which German state (its authority is the competent one)
    ESCALATED = "escalated"  # follow-up and complaint written; waiting for the authority
    DONE = "done"
    LANGUAGE = "language"
    TIMEZONE = "timezone"
    PAUSED = "paused"


class Reason(StrEnum):
    """The guided "particular situation" archetypes. Values are stored: never rename one."""

    CHILDREN = "children"
    SENSITIVE = "sensitive"
    CREATIVE = "creative"
    PUBLIC_ROLE = "public_role"
    HARASSMENT = "harassment"
    THIRD_PARTIES = "third_parties"
    PRIVACY = "privacy"


class CheckIns(StrEnum):
    ON = "on"
    PAUSED = "paused"


class Proof(BaseModel):
    """Meta's confirmation as the person gave it: pasted text, or a Telegram file reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    received_at: AwareDatetime
    text: str | None = None
    file_id: str | None = None  # a screenshot or forwarded file, kept on Telegram's servers


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    chat_id: int
    step: Step = Step.NEW
    #: where to go back to after a side question (/language) or a pause (/cancel)
    resume_step: Step | None = None
    language: str | None = None
    platforms: tuple[Platform, ...] = ()
    #: Facebook and Instagram in one Accounts Center (None: not asked, or not sure)
    linked_accounts: bool | None = None
    country: str | None = None
    email: str | None = None
    reasons: tuple[Reason, ...] = ()
    own_words: str | None = None
    #: a one-word text typed at the own-words question, until the person confirms it
    own_words_pending: str | None = None
    #: the objection also asks to erase the data from training sets not yet used (Art. 17)
    ask_erasure: bool = False
    #: ... and whether the data was used for training, and from which sources (Art. 15)
    ask_access: bool = False
    #: True once the person has answered the reason questions at least once
    reasons_done: bool = False
    created_at: AwareDatetime
    updated_at: AwareDatetime
    letter_written_at: AwareDatetime | None = None
    form_submitted_at: AwareDatetime | None = None
    # -- keeping time (after the form was submitted) --
    #: IANA time zone for check-ins in the person's daytime (from the country, changeable)
    timezone: str | None = None
    code_received_at: AwareDatetime | None = None
    code_expires_at: AwareDatetime | None = None
    code_entered_at: AwareDatetime | None = None
    #: when Meta's answer is due by law (None where the law sets no period)
    deadline_at: AwareDatetime | None = None
    checkins: CheckIns = CheckIns.ON
    next_checkin_at: AwareDatetime | None = None
    confirmed_at: AwareDatetime | None = None
    refused_at: AwareDatetime | None = None
    proof: Proof | None = None
    #: ISO 3166-2 region where the law (US states) or the competent authority (German states)
    #: depends on it
    region: str | None = None
    escalated_at: AwareDatetime | None = None
    authority_report_due_at: AwareDatetime | None = None
    #: Meta wrote that it will review the objection (the deadline still runs)
    review_said_at: AwareDatetime | None = None
    #: Meta asked for more information or an ID
    info_asked_at: AwareDatetime | None = None
    #: when "did Meta answer your follow-up?" is asked (after escalating)
    followup_due_at: AwareDatetime | None = None
    #: the person sent the complaint to the authority: its time to answer counts from here
    complaint_sent_at: AwareDatetime | None = None
    #: when e-mail copies were asked for (the daily limit counts the last 24 hours)
    emails_sent: tuple[AwareDatetime, ...] = ()
    #: "Erase everything?" was asked and is the open question: only then does "yes" erase
    erase_asked: bool = False
    #: one answer is being changed from the letter: once it is given, back to the letter
    changing: bool = False
    #: the person asked to be told when Meta's forms or the rules for their country change
    alerts: bool = False
    #: the language of the texts to Meta, where the person chose one (English) over the chat's
    letter_language: str | None = None
    #: the country's own language was offered once after the country question
    language_offered: bool = False

    @classmethod
    def new(cls, chat_id: int, now: datetime) -> Case:
        return cls(chat_id=chat_id, created_at=now, updated_at=now)

    def answers(self) -> dict[str, object]:
        """The fields a person has answered, for /status and for tests that nothing was lost."""
        return {
            "platforms": self.platforms,
            "linked_accounts": self.linked_accounts,
            "country": self.country,
            "email": self.email,
            "reasons": self.reasons,
            "own_words": self.own_words,
        }
