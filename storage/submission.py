"""The intake submission (version 1): the contract between the intake dialog and storage, validated.

Also the age rules that decide whether a member is a child under 14 (PIPL: such data needs a
guardian's separate consent).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storage.crypto import normalise
from storage.models import LANGUAGE_LENGTH, NAME_LENGTH, TRADE_LENGTH, VERSION_LENGTH

CHILD_AGE = 14  # under this age, a guardian's separate consent is needed
ID_PATTERN = r"^\d{17}[\dX]$"
PHONE_PATTERN = r"^1\d{10}$"
HOUSEHOLD_NUMBER_PATTERN = r"^[0-9A-Z]{4,32}$"
# Relations that may well be children: an unknown age is then not taken to be 14 or over.
CHILD_RELATIONS = frozenset({"child", "grandchild"})


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _normalised(value: str | None) -> str | None:
    """A personal number without spaces, upper case; an empty string means not given."""
    if not isinstance(value, str):
        return value
    return normalise(value) or None


class Wish(_Part):
    """What the member would like to do."""

    kind: Literal["technical_school", "vocational_training", "apprenticeship", "entrepreneurship", "none"]
    training_type: (
        Literal["pre_employment", "employment_skills", "skill_upgrade", "entrepreneurship"] | None
    ) = None
    trade: str | None = Field(default=None, min_length=1, max_length=TRADE_LENGTH)
    has_business_project: bool | None = None
    outside_county_ok: bool | None = None
    contact_time: Literal["morning", "afternoon", "evening", "any"] | None = None


class MemberIn(_Part):
    """One member as the dialog collected them."""

    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    relation: Literal["head", "spouse", "child", "grandchild", "parent", "sibling", "other"]
    sex: Literal["male", "female"] | None = None
    age: int | None = Field(default=None, ge=0, le=120)
    birth_date: date | None = None
    id_number: str | None = Field(default=None, pattern=ID_PATTERN)
    education: Literal[
        "junior_high_graduate", "senior_high_graduate", "in_school", "primary_or_less", "college", "other"
    ]
    two_after: Literal["current", "previous"] | None = None
    labour_capacity: Literal["full", "partial", "none"] | None = None
    situation: Literal["in_school", "working_away", "at_home", "other"]
    guardian_consent: bool | None = None
    wish: Wish

    _id_number = field_validator("id_number", mode="before")(_normalised)


class HouseholdIn(_Part):
    """The household's own facts."""

    head_name: str = Field(min_length=1, max_length=NAME_LENGTH)
    status: Literal["registered_poor", "lifted_out", "monitored", "none", "unknown"]
    household_number: str | None = Field(default=None, pattern=HOUSEHOLD_NUMBER_PATTERN)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)

    _numbers = field_validator("household_number", "phone", mode="before")(_normalised)


class ConsentIn(_Part):
    """The household's consent, with the exact text that was shown."""

    given: bool
    text_version: str = Field(min_length=1, max_length=VERSION_LENGTH)
    text: str = Field(min_length=1)
    language: str = Field(min_length=1, max_length=LANGUAGE_LENGTH)


class Submission(_Part):
    """A whole intake, version 1."""

    version: Literal[1]
    answered_by: Literal["worker", "household"]
    village_code: str = Field(pattern=r"^\d{12}$")
    household: HouseholdIn
    members: list[MemberIn]
    consent: ConsentIn

    @property
    def county_code(self) -> str:
        """The county: the first 6 digits of the village code."""
        return self.village_code[:6]


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def valid_resident_id(value: str) -> bool:
    """Whether a (normalised) value is a whole resident ID number with the right check character."""
    if not re.match(ID_PATTERN, value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def consent_given(raw: dict[str, Any]) -> bool:
    """Whether the household consented; only the consent part is read (and validated)."""
    consent = raw.get("consent") if isinstance(raw, dict) else None
    return ConsentIn.model_validate(consent).given


def parse_submission(raw: dict[str, Any]) -> Submission:
    """The validated submission; raises ValidationError (a ValueError) when it breaks the contract."""
    return Submission.model_validate(raw)


# ---------------------------------------------------------------- age


def birth_date_from_id(id_number: str | None) -> date | None:
    """The birth date in an 18-character resident ID (digits 7 to 14), or None."""
    if not id_number or len(id_number) != 18:
        return None
    digits = id_number[6:14]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def age_on(birth: date, day: date) -> int:
    """Completed years between `birth` and `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def known_age(*, age: int | None, birth_date: date | None, id_number: str | None, day: date) -> int | None:
    """The youngest age any known fact gives (stated age, birth date, ID number), or None."""
    births = [birth for birth in (birth_date, birth_date_from_id(id_number)) if birth is not None]
    ages = [age] if age is not None else []
    ages += [max(age_on(birth, day), 0) for birth in births]
    return min(ages) if ages else None


def child_without_consent(member: MemberIn, day: date) -> str | None:
    """Why a member may not be stored (a child under 14 without guardian consent), or None."""
    if member.guardian_consent is True:
        return None
    age = known_age(age=member.age, birth_date=member.birth_date, id_number=member.id_number, day=day)
    if age is not None:
        return "under_14_without_guardian_consent" if age < CHILD_AGE else None
    return "age_unknown_without_guardian_consent" if member.relation in CHILD_RELATIONS else None
