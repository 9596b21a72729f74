"""Synthetic but valid households for `outreach demo seed` and the export benchmark. Pure: no I/O.

Each household lives in a real village of the area table, has a head and one child, and one or two
wishes. Resident IDs carry the county's code, a birth date matching the stated age and a correct
check character (stdnum.cn.ric); everyone is born after 1983, when today's county codes were
assigned, which stdnum also checks. Phones and household numbers are unique by construction. Each
wish gets a follow-up status and a registration date in the past year, for summaries and reports.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stdnum.cn import ric

from content.demo import Pools
from dialogs.intake_members import SCHOOL_TRADES, TRAINING_TRADES

KINDS = ("technical_school", "vocational_training", "apprenticeship", "entrepreneurship")
TRAININGS = ("pre_employment", "employment_skills", "skill_upgrade")
STATUSES = (
    ("new",) * 8
    + ("contacted",) * 4
    + ("unreachable",) * 2
    + ("enrolled",) * 3
    + ("referred", "referred", "declined")
)
HOUSEHOLD_STATUSES = ("registered_poor", "lifted_out", "lifted_out", "monitored", "none", "unknown")
CONTACT_TIMES = ("morning", "afternoon", "evening", "any")
DAYS_SPREAD = 330  # registrations over the past year or so
SERIALS = 1000  # three-digit sequence numbers per birth date
DAYS = 360  # birth days within a year of age


@dataclass(frozen=True)
class DemoHousehold:
    """A submission (the intake contract, version 1) with when it was made and its wishes' statuses."""

    submission: dict
    created_at: datetime
    statuses: tuple[str, ...]  # one per member with a wish, in member order


def resident_id(county: str, birth: date, serial: int) -> str:
    """A resident ID number with a valid check character."""
    body = f"{county}{birth:%Y%m%d}{serial % SERIALS:03d}"
    return body + ric.calc_check_digit(body + "?")  # stdnum expects a place for the check character


def households(
    count: int,
    villages: Sequence[str],
    pools: Pools,
    consent_text: str,
    *,
    now: datetime,
    seed: int = 1,
    start: int = 0,
) -> Iterator[DemoHousehold]:
    """`count` households spread over the villages; `start` offsets the running numbers of a later batch."""
    if not villages:
        raise ValueError("no villages to put households in: import the area list first")
    rng = random.Random(seed)
    for index in range(start, start + count):
        yield _household(rng, index, villages[index % len(villages)], pools, consent_text, now)


def _household(
    rng: random.Random, index: int, village: str, pools: Pools, consent: str, now: datetime
) -> DemoHousehold:
    """One household: a head of 30 to 42 (a wish one time in three) and a child of 15 to 24 with a wish."""
    surname = rng.choice(pools.surnames)
    head = _member(
        rng, index * 2, village, now.date(), f"{surname}{rng.choice(pools.given_names)}", "head", 30, 42
    )
    child = _member(
        rng, index * 2 + 1, village, now.date(), f"{surname}{rng.choice(pools.given_names)}", "child", 15, 24
    )
    head["wish"] = _wish(rng) if index % 3 == 0 else {"kind": "none"}
    child["wish"] = _wish(rng)
    submission = {
        "version": 1,
        "answered_by": "worker",
        "village_code": village,
        "household": {
            "head_name": head["name"],
            "status": rng.choice(HOUSEHOLD_STATUSES),
            "household_number": f"{village[:6]}{index:010d}",
            "phone": f"1{rng.choice('3589')}{index % 10**9:09d}",
        },
        "members": [head, child],
        "consent": {"given": True, "text_version": "demo", "text": consent, "language": "zh_Hans"},
    }
    wishes = sum(1 for member in (head, child) if member["wish"]["kind"] != "none")
    created = now - timedelta(days=rng.randrange(DAYS_SPREAD), minutes=rng.randrange(24 * 60))
    return DemoHousehold(submission, created, tuple(rng.choice(STATUSES) for _ in range(wishes)))


def _member(
    rng: random.Random,
    number: int,
    village: str,
    today: date,
    name: str,
    relation: str,
    youngest: int,
    oldest: int,
) -> dict:
    """A member with an ID number whose birth date gives an age between `youngest` and `oldest`."""
    # serial, day and age from the running number, mixed so that small demos vary in all three and
    # no two numbers below 360,000 times the span of ages share all three (a unique ID number).
    serial, rest = number % SERIALS, number // SERIALS
    day = (rest + number) % DAYS
    age = youngest + (rest // DAYS + number) % (oldest - youngest + 1)
    # 1 to 360 days before the age-th birthday: exactly `age` completed years today.
    anniversary = date(today.year - age, today.month, min(today.day, 28))
    birth = anniversary - timedelta(days=1 + day)
    sex = "male" if serial % 2 else "female"  # the ID's 17th digit: odd for men
    return {
        "name": name,
        "relation": relation,
        "sex": sex,
        "age": age,
        "birth_date": None,
        "id_number": resident_id(village[:6], birth, serial),
        "education": "junior_high_graduate" if relation == "child" else "primary_or_less",
        "two_after": "previous" if relation == "child" else None,
        "labour_capacity": "full",
        "situation": rng.choice(("at_home", "working_away")),
        "guardian_consent": None,
    }


def _wish(rng: random.Random) -> dict:
    """A wish of any kind, with the details its kind asks for."""
    kind = rng.choice(KINDS)
    wish: dict = {
        "kind": kind,
        "outside_county_ok": rng.random() < 0.5,
        "contact_time": rng.choice(CONTACT_TIMES),
    }
    if kind == "vocational_training":
        wish |= {"training_type": rng.choice(TRAININGS), "trade": rng.choice(TRAINING_TRADES)}
    elif kind == "entrepreneurship":
        wish |= {"training_type": "entrepreneurship", "has_business_project": rng.random() < 0.4}
    else:
        wish["trade"] = rng.choice(SCHOOL_TRADES)
    return wish
