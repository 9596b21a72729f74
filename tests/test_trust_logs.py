"""Issue 10, point 6: no personal data in the logs at any level.

A whole intake runs through the bot with every logger at DEBUG, as `LOG_LEVEL=DEBUG` sets them;
the log (messages and exception texts) is then searched for every name, number and birth date
the intake entered. Exception texts are scrubbed too: an IntegrityError, a validation error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from bot.core import logs
from storage.db import Database
from storage.models import Member
from tests import test_intake_e2e
from tests.fakebot import FakeBotAPI
from tests.test_intake_dialog import KID_ID, SON_ID

NAMES = ("王建国", "王小明", "王小红")
NUMBERS = (SON_ID, KID_ID, "13812345678", "138 1234 5678", "4102251012010001")


def birth_dates(id_number: str) -> tuple[str, str]:
    """The birth date inside an ID number, as digits and as an ISO date."""
    digits = id_number[6:14]
    return digits, f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Logging as `outreach` sets it up with LOG_LEVEL=DEBUG, captured."""
    root = logging.getLogger()
    level = root.level
    logs.configure("DEBUG")
    caplog.set_level(logging.DEBUG)
    logs.configure("DEBUG")  # caplog lowered every logger it touched; the floors come back
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # every statement, parameters hidden
    try:
        yield caplog
    finally:
        root.setLevel(level)
        logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)


def full_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured line with its exception text, as a handler would write it."""
    formatter = logging.Formatter(logs.FORMAT)
    return "\n".join(formatter.format(record) for record in caplog.records)


async def test_a_whole_intake_at_debug_logs_no_name_number_or_birth_date(
    debug_logs: pytest.LogCaptureFixture, tmp_path, bot_database_url
) -> None:
    async with FakeBotAPI() as fake:
        await test_intake_e2e.test_poster_deep_link_then_a_whole_intake_is_stored_with_an_outbox_entry(
            fake, tmp_path, bot_database_url
        )
    text = full_text(debug_logs)
    assert len(debug_logs.records) > 100  # statements and the bot's own lines
    for secret in (*NAMES, *NUMBERS, *birth_dates(SON_ID), *birth_dates(KID_ID)):
        assert secret not in text, secret


async def test_an_integrity_error_carries_no_parameters(migrated_sqlite_url: str) -> None:
    database = Database.from_url(migrated_sqlite_url)
    try:
        async with database.session() as session:
            session.add(Member(household_id=999, name="王小明", relation="child", education="other",
                               situation="other", id_number_hash="x"))  # fmt: skip
            with pytest.raises(IntegrityError) as raised:
                await session.commit()
    finally:
        await database.dispose()
    assert "王小明" not in str(raised.value)


class Phone(BaseModel):
    phone: int


def test_a_validation_error_in_a_log_line_is_scrubbed(debug_logs: pytest.LogCaptureFixture) -> None:
    update = {"phone": "+86 138-1234-5678 " + NAMES[1]}  # a variable: tracebacks quote source lines
    try:
        Phone.model_validate(update)
    except ValidationError:
        logging.getLogger("aiogram.dispatcher").exception("malformed update")
    logging.getLogger("bot").info("note: １３８１２３４５６７８, id 4102 2520 1003 0112 38")
    text = full_text(debug_logs)
    assert "malformed update" in text and "王小明" not in text
    for number in ("138-1234-5678", "１３８１２３４５６７８", "13812345678", "4102 2520 1003 0112 38"):
        assert number not in text


@pytest.mark.parametrize(
    ("note", "shown"),
    [
        ("电话 138 1234 5678", "电话 *******5678"),
        ("电话138-1234-5678。", "电话*******5678。"),
        ("+8613812345678", "*******5678"),
        ("电话１３８１２３４５６７８，", "电话*******5678，"),
        ("身份证 4102 2520 1003 0112 38 已核", "身份证 4102*************8 已核"),
        ("身份证41022520100301123x", "身份证4102*************X"),
    ],
)
def test_hr_notes_mask_numbers_however_they_are_typed(note: str, shown: str) -> None:
    from storage.repositories.followup import masked_note

    assert masked_note(note) == shown
