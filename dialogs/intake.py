"""Hooks of the intake flow (content/flows/intake.yaml): answer keys, personal numbers, validators.

The other hooks of the flow live beside this module: dialogs.intake_members (the member loop),
dialogs.intake_screens (review, member and closing screens) and dialogs.intake_submission (the
submission for storage). Validators get the answers and a context with "today" (ISO date).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

import phonenumbers
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from dialogs.model import Ref
from dialogs.validators import Validated, error, has_letters, ok, validator

# Answer keys: the household, the member being entered ("m.", "w." for the wish), the list.
WHO, VILLAGE, MEMBERS, PICK = "answered_by", "village", "members", "pick"
CONSENT, SUBMISSION, SENT_AT = "consent", "submission", "sent_at"
HEAD, STATUS, NUMBER, PHONE = "h.name", "h.status", "h.number", "h.phone"
INDEX, EDITING = "m.index", "m.edit"
NAME, RELATION, SEX, ID_NUMBER, AGE = "m.name", "m.relation", "m.sex", "m.id", "m.age"
GUARDIAN, EDUCATION, LABOUR, SITUATION = "m.guardian", "m.edu", "m.labour", "m.situation"
KIND, TRAINING, TRADE, PROJECT = "w.kind", "w.training", "w.trade", "w.project"
OUTSIDE, CONTACT = "w.outside", "w.contact"
MEMBER_KEYS = (NAME, RELATION, SEX, ID_NUMBER, AGE, GUARDIAN, EDUCATION, LABOUR, SITUATION)
MEMBER_KEYS += (KIND, TRAINING, TRADE, PROJECT, OUTSIDE, CONTACT)
# What another person of the same household keeps: who answers, the place, the household's facts.
HOUSEHOLD_KEYS = (WHO, "county", "township", VILLAGE, HEAD, STATUS, NUMBER, PHONE)

MAX_NAME = 20
MAX_TRADE = 40
MAX_AGE = 120
CHILD_AGE = 14  # PIPL: under 14, a guardian's separate consent is needed
AGE_TOLERANCE = 1  # a typed age may be a year off the ID's (birthday not yet passed, 虚岁)
CHILD_RELATIONS = frozenset({"child", "grandchild"})  # may be under 14 when the age is unknown
OTHER_TRADE = "other:"  # prefix of a trade typed by the person
AGE_PATTERN = re.compile(
    r"(\d{1,3}|[零〇一二两三四五六七八九十百]{1,5})\s*(周岁|岁|years?|yrs?)?", re.IGNORECASE
)
CN_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
# 户编号 of the national poverty-alleviation system (全国扶贫开发信息系统): the 12-digit code of the village
# followed by the household's serial, 16 to 19 digits in all, so it starts with a province code.
HOUSEHOLD_NUMBER = re.compile(r"(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5])\d{14,17}")
# A name: Chinese characters, the middle dot of minority names (阿依古丽·买买提), or Latin letters
# for names written in them; no digits, signs, emoji or markup.
NAME_DOTS = "·・•‧∙"  # ways of typing the middle dot, all stored as "·"
NAME_PART = r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134fA-Za-z]+"  # CJK (with extensions), Latin
NAME_PATTERN = re.compile(rf"{NAME_PART}(?:[· ]{NAME_PART})*")
MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


# ---------------------------------------------------------------- personal numbers and dates


def clean_number(text: str) -> str:
    """A typed number: full-width forms folded, spaces and dashes removed, upper case."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "-—").upper()


def parse_day(raw: Any) -> date | None:
    """An ISO date (the channel's "today"), or None."""
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def age_on(birth: date, day: date) -> int:
    """Completed years between `birth` and `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def id_birth_date(id_number: Any) -> date | None:
    """The birth date inside an 18-character resident ID, or None."""
    if not isinstance(id_number, str) or len(id_number) != 18:
        return None
    try:
        return ric.get_birth_date(id_number)
    except (ValidationError, ValueError):
        return None


def id_sex(id_number: str) -> str:
    """The sex an ID number records: its 17th digit is odd for men, even for women."""
    return "male" if int(id_number[16]) % 2 else "female"


def id_age(id_number: Any, today: date | None) -> int | None:
    """The age an ID number gives on `today`, or None."""
    birth = id_birth_date(id_number)
    return age_on(birth, today) if birth is not None and today is not None else None


def years(written: str) -> int | None:
    """A number of years in digits or Chinese numerals ("16", "十六", "二十一", "一百零二"), or None."""
    if written.isdigit():
        return int(written)
    value = 0
    for unit, size in (("百", 100), ("十", 10)):
        head, found, rest = written.partition(unit)
        if found:
            if head and head not in CN_DIGITS:
                return None
            value, written = value + size * CN_DIGITS.get(head, 1), rest.lstrip("零〇")
    if written and written not in CN_DIGITS:
        return None
    return value + CN_DIGITS.get(written, 0)


# The same shapes as storage.crypto's masks (dialogs import nothing of storage); each leaves at
# least 10,000 possible numbers (tests/test_masks.py counts them).
def masked_id(id_number: str) -> str:
    """An ID number as it may be shown: `4102*************X`."""
    return id_number[:4] + "*" * (len(id_number) - 5) + id_number[-1:]


def masked_phone(phone: str) -> str:
    """A mobile number as it may be shown: `*******5678`."""
    return "*" * (len(phone) - 4) + phone[-4:]


def masked_household_number(number: str) -> str:
    """A household number as it may be shown: `4102************` (it starts with the village code)."""
    return number[:4] + "*" * (len(number) - 4) if len(number) >= 8 else "*" * len(number)


def member_age(member: Mapping[str, Any], today: date | None) -> int | None:
    """The youngest age the typed age and the ID number give (as storage reckons it), or None."""
    typed = member.get(AGE)
    ages = [typed] if isinstance(typed, int) and not isinstance(typed, bool) else []
    from_id = id_age(member.get(ID_NUMBER), today)
    ages += [max(from_id, 0)] if from_id is not None else []
    return min(ages) if ages else None


def is_child(member: Mapping[str, Any], today: date | None) -> bool:
    """True for a member under 14, or a child or grandchild whose age is unknown."""
    age = member_age(member, today)
    return age < CHILD_AGE if age is not None else member.get(RELATION) in CHILD_RELATIONS


def sex_label(sex: str) -> Ref:
    """The word for a sex, as a message."""
    return Ref(f"intake.a.{sex}")


# ---------------------------------------------------------------- validators


@validator("person_name")
def person_name(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """A name: Chinese characters, a middle dot between parts, or Latin letters; 1 to 20 characters."""
    if "\n" in text.strip() or "\r" in text.strip():
        return error("intake.err.name_chars")
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    for dot in NAME_DOTS:
        name = name.replace(f" {dot} ", "·").replace(dot, "·")
    if not has_letters(name):
        return error("intake.err.name_letters")
    if not NAME_PATTERN.fullmatch(name):
        return error("intake.err.name_chars")
    if len(name) > MAX_NAME:
        return error("intake.err.name_long", limit=MAX_NAME, count=len(name))
    return ok(name)


@validator("cn_mobile", numeric=True)
def cn_mobile(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """A Chinese mobile number, stored as its 11 digits."""
    try:
        number = phonenumbers.parse(unicodedata.normalize("NFKC", text), "CN")
    except phonenumbers.NumberParseException:
        return error("intake.err.phone")
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return error("intake.err.phone")
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        return error("intake.err.phone_landline")
    return ok(str(number.national_number))


@validator("household_number", numeric=True)
def household_number(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """A household number (户编号): 16 to 19 digits, starting with a province's code."""
    number = clean_number(text)
    if not HOUSEHOLD_NUMBER.fullmatch(number):
        return error("intake.err.household_number", count=len(number))
    return ok(number)


@validator("trade_text")
def trade_text(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """A trade or major typed by the person, kept as "other:<text>"."""
    trade = " ".join(unicodedata.normalize("NFKC", text).split())
    if not has_letters(trade) or len(trade) > MAX_TRADE:
        return error("intake.err.trade", limit=MAX_TRADE)
    return ok(OTHER_TRADE + trade)


@validator("resident_id", numeric=True)
def resident_id(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """An 18-character resident ID: checksum, birth date, and no contradiction with the typed facts."""
    number = clean_number(text)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return error("intake.err.id_format", count=len(number))
    if number[17] != ric.calc_check_digit(number):
        return error("intake.err.id_checksum")
    today = parse_day(context.get("today"))
    birth = id_birth_date(number)
    if birth is None or (today is not None and not 0 <= age_on(birth, today) <= MAX_AGE):
        return error("intake.err.id_birth")
    return _id_contradiction(number, answers, today) or _id_duplicate(number, answers) or ok(number)


def _id_contradiction(number: str, answers: Mapping[str, Any], today: date | None) -> Validated | None:
    """An error when the ID's sex or age contradicts what was typed for the member, else None."""
    typed_sex = answers.get(SEX)
    if typed_sex in ("male", "female") and typed_sex != id_sex(number):
        return error("intake.err.id_sex", id_sex=sex_label(id_sex(number)), typed=sex_label(typed_sex))
    typed_age, real_age = answers.get(AGE), id_age(number, today)
    if isinstance(typed_age, int) and real_age is not None and abs(typed_age - real_age) > AGE_TOLERANCE:
        birth = id_birth_date(number)
        return error("intake.err.id_age", birth=str(birth), id_age=real_age, typed=typed_age)
    return None


def _id_duplicate(number: str, answers: Mapping[str, Any]) -> Validated | None:
    """An error when another member of this household already has this ID number."""
    index = answers.get(INDEX)
    for position, member in enumerate(answers.get(MEMBERS) or []):
        if position != index and member.get(ID_NUMBER) == number:
            return error("intake.err.id_duplicate", name=member.get(NAME, ""))
    return None


@validator("age", numeric=True)
def age(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """An age in full years, 0 to 120 ("16", "16岁"), consistent with the member's ID number."""
    match = AGE_PATTERN.fullmatch(unicodedata.normalize("NFKC", text).strip())
    value = years(match.group(1)) if match is not None else None
    if value is None or value > MAX_AGE:
        return error("intake.err.age", limit=MAX_AGE)
    number = answers.get(ID_NUMBER)
    real_age = id_age(number, parse_day(context.get("today")))
    if real_age is not None and abs(value - real_age) > AGE_TOLERANCE:
        birth = id_birth_date(number)
        return error(
            "intake.err.age_id", id=masked_id(number), birth=str(birth), id_age=real_age, typed=value
        )
    return ok(value)
