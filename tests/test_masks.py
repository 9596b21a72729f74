"""Issue 10, point 3: from everything shown or stored in clear, a number cannot be rebuilt.

For a person the clear facts are the mask, the village (the ID's region), the age on a known day
and the sex; the tests count the numbers consistent with them: at least 10,000 must remain.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from dialogs.intake import masked_household_number, masked_id, masked_phone
from storage.crypto import mask_household_number, mask_id, mask_phone
from storage.db import Database
from storage.models import Member
from storage.submission import age_on
from tests.access_support import (  # noqa: F401
    VILLAGE,
    cipher_fixture,
    db_fixture,
    member,
    resident_id,
    submission,
    submit,
    url_fixture,
)

ENOUGH = 10_000
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def check_character(body: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return CHECK[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def ids_fitting(mask: str, region: str, age: int, day: date, male: bool) -> int:
    """How many checksum-valid IDs of this region, age on `day` and sex show this mask."""
    count = 0
    birth = date(day.year - age - 1, day.month, day.day) + timedelta(days=1)  # the oldest possible
    while age_on(birth, day) == age:
        for serial in range(1 if male else 0, 1000, 2):  # the 17th digit: odd for men
            body = f"{region}{birth:%Y%m%d}{serial:03d}"
            if mask_id(body + check_character(body)) == mask:
                count += 1
        birth += timedelta(days=1)
    return count


@settings(max_examples=8, deadline=None)
@given(
    birth=st.dates(min_value=date(1950, 1, 1), max_value=date(2015, 12, 31)),
    serial=st.integers(min_value=0, max_value=999),
)
def test_a_masked_id_with_region_age_and_sex_leaves_ten_thousand_numbers(birth: date, serial: int) -> None:
    day = date(2026, 12, 2)
    number = resident_id("410225", f"{birth:%Y%m%d}", f"{serial:03d}")
    fitting = ids_fitting(mask_id(number), "410225", age_on(birth, day), day, male=serial % 2 == 1)
    assert fitting >= ENOUGH, fitting


def phones_fitting(mask: str) -> int:
    """How many mainland mobile numbers (1, then 3-9, then nine digits) show this mask."""
    second = 7 if mask[1] == "*" else 1  # the first digit is always 1
    return second * 10 ** mask[2:].count("*")


@pytest.mark.parametrize("phone", ["13812345678", "19900000000", "15011112222"])
def test_a_masked_phone_leaves_ten_thousand_numbers(phone: str) -> None:
    assert phones_fitting(mask_phone(phone)) >= ENOUGH


def household_numbers_fitting(mask: str, village: str) -> int:
    """How many numbers starting with the village code (which is shown anyway) show this mask."""
    return 10 ** mask[len(village) :].count("*")


def test_a_masked_household_number_leaves_ten_thousand_numbers() -> None:
    number = VILLAGE + "0001"
    assert household_numbers_fitting(mask_household_number(number), VILLAGE) >= ENOUGH


@pytest.mark.parametrize(
    ("shown", "stored", "value"),
    [
        (masked_id, mask_id, "41022520100301123X"),
        (masked_phone, mask_phone, "13812345678"),
        (masked_household_number, mask_household_number, "4102251012010001"),
    ],
)
def test_the_dialog_shows_the_same_masks_as_storage(shown, stored, value) -> None:
    assert shown(value) == stored(value)


async def test_the_birth_date_is_not_stored_in_clear(db: Database, cipher, url: str) -> None:
    son_id = resident_id("410225", "20100301", "123")
    son = member("王小明", son_id, birth_date="2010-03-01")
    await submit(db, cipher, submission("王建国", resident_id("410225", "19780512", "131"), "13812345678",
                                        "4102251012010001", son))  # fmt: skip
    async with db.session() as session:
        dump = repr((await session.exec(text("SELECT * FROM member"))).all())  # type: ignore[call-overload]
        (token,) = [
            row.birth_date_enc
            for row in (await session.exec(text("SELECT * FROM member"))).all()
            if row.birth_date_enc
        ]  # type: ignore[call-overload]
    assert "2010-03-01" not in dump and "20100301" not in dump
    assert cipher.open_date(token) == date(2010, 3, 1)
    assert "birth_date" not in Member.model_fields
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        data = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        assert b"2010-03-01" not in data and b"20100301" not in data


def test_the_review_screen_masks_the_household_number_and_phone() -> None:
    from dialogs.intake_screens import household

    shown = repr(household({"h.name": "王建国", "h.number": "4102251012010001", "h.phone": "13812345678"}))
    assert "4102251012010001" not in shown and "4102************" in shown
    assert "13812345678" not in shown and "*******5678" in shown
