"""Shared pieces of the HR tests: two counties with villages, households in each, HR staff, HR chats.

County A is 兰考县 (410225, shipped sample villages); county B is 杞县 (410221), given one township
and one village here. Import the fixtures by name:
`from tests.hr_support import cipher_fixture, db_fixture, url_fixture  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram.hr import handle_hr_callback, handle_hr_message
from bot.channels.telegram.render import outbound_sender
from bot.core.outbound import Outbound
from storage.crypto import Cipher
from storage.db import Database
from storage.repositories import areas
from storage.repositories.access import grant
from storage.repositories.hr_destinations import add_destination
from storage.repositories.intake import SubmitResult, submit_intake
from tests.db_fixtures import MIGRATED_BACKENDS as BACKENDS
from tests.fakebot import FakeBotAPI, SentMessage

SECRET = "test-secret-0123456789-abcdefghijklmnop"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday
COUNTY_A, VILLAGE_A = "410225", "410225101201"  # 兰考县 堌阳镇 任庄村 (in the extract the tests seed)
COUNTY_B, TOWNSHIP_B, VILLAGE_B = "410221", "410221101", "410221101201"  # 杞县 五里河镇 史庄村 (added below)
HR_A, HR_B, ADMIN, STRANGER = 101, 102, 103, 104  # Telegram user ids
GROUP_A, GROUP_B = -1001000000001, -1001000000002


@pytest.fixture(name="url", params=BACKENDS)
def url_fixture(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return request.getfixturevalue(request.param)


async def open_db(url: str) -> Database:
    """A Database on `url`, with the area lists loaded and county B given a village."""
    database = Database.from_url(url)
    async with database.session() as session:
        await areas.seed_if_empty(session=session, csv_paths=areas.seed_csv_paths())
        await areas.import_areas(
            session=session,
            rows=[
                {"code": TOWNSHIP_B, "name": "五里河镇", "parent_code": COUNTY_B, "level": "4"},
                {"code": VILLAGE_B, "name": "史庄村委会", "parent_code": TOWNSHIP_B, "level": "5"},
            ],
        )
    return database


@pytest.fixture(name="db")
async def db_fixture(url: str) -> AsyncIterator[Database]:
    """A Database on it, prepared by open_db."""
    database = await open_db(url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(name="cipher")
def cipher_fixture() -> Cipher:
    """The cipher the tests store with."""
    return Cipher.from_secret(SECRET)


def resident_id(region: str, birth: str, serial: str) -> str:
    """A resident ID number with a valid check character (GB 11643)."""
    body = region + birth + serial
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def submission(village: str, head: str, child: str, serial: int, **overrides: Any) -> dict:
    """A household: a head without a wish and a 17-year-old who wants a technical school."""
    county = village[:6]
    people = [
        {"name": head, "relation": "head", "sex": "male", "age": 45,
         "id_number": resident_id(county, "19810301", f"{serial:03d}"), "education": "primary_or_less",
         "labour_capacity": "full", "situation": "at_home", "wish": {"kind": "none"}},
        {"name": child, "relation": "child", "sex": "female", "age": 17,
         "id_number": resident_id(county, "20090101", f"{serial + 1:03d}"),
         "education": "junior_high_graduate",
         "two_after": "current", "labour_capacity": "full", "situation": "at_home",
         "wish": {"kind": "technical_school", "trade": "electrician", "outside_county_ok": True,
                  "contact_time": "evening"}},
    ]  # fmt: skip
    data = {
        "version": 1,
        "answered_by": "worker",
        "village_code": village,
        "household": {
            "head_name": head,
            "status": "registered_poor",
            "household_number": f"{county}{serial:010d}",
            "phone": f"138{serial:08d}",
        },
        "members": people,
        "consent": {"given": True, "text_version": "v1", "text": "同意", "language": "zh_Hans"},
    }
    return {**data, **overrides}


async def submit(
    db: Database, cipher: Cipher, data: dict, who: str = "tg:900", now: datetime = NOW
) -> SubmitResult:
    """submit_intake in a session of its own."""
    async with db.session() as session:
        return await submit_intake(session=session, submission=data, cipher=cipher, submitted_by=who, now=now)


async def staff(db: Database) -> None:
    """HR of county A, HR of county B, an admin of 开封市 (both counties), and their groups."""
    async with db.session() as session:
        await grant(session=session, channel_key=f"tg:{HR_A}", role="hr", scopes=[("county", COUNTY_A)])
        await grant(session=session, channel_key=f"tg:{HR_B}", role="hr", scopes=[("county", COUNTY_B)])
        await grant(session=session, channel_key=f"tg:{ADMIN}", role="admin", scopes=[("city", "410200")])
        for county, chat in ((COUNTY_A, GROUP_A), (COUNTY_B, GROUP_B)):
            await add_destination(
                session=session, county_code=county, chat_key=f"tg:{chat}", added_by="cli:test", now=NOW
            )


async def send(
    fake: FakeBotAPI,
    bot: Bot,
    db: Database,
    user: int,
    text: str,
    chat: int | None = None,
    lang: str = "zh_Hans",
) -> bool:
    """A user writes (in a group when `chat` is given); the HR entry point handles it."""
    update = fake.user_sends(user, text, chat_id=chat)
    message = Message.model_validate(update["message"], context={"bot": bot})
    async with db.session() as session:
        return await handle_hr_message(
            message, bot, session=session, translator_lang=lang, outbound=telegram_outbound(bot)
        )


async def press(
    fake: FakeBotAPI, bot: Bot, db: Database, user: int, message: SentMessage, data: str, check: bool = True
) -> bool:
    """A user presses a button (any data when `check` is off: a modified client)."""
    update = fake.user_presses(user, message, data, check_button=check)
    query = CallbackQuery.model_validate(update["callback_query"], context={"bot": bot})
    async with db.session() as session:
        return await handle_hr_callback(query, bot, session=session, outbound=telegram_outbound(bot))


def telegram_outbound(bot: Bot) -> Outbound:
    """Households on Telegram can be told, as in the running bot."""
    outbound = Outbound()
    outbound.register("tg", outbound_sender(bot))
    return outbound


def record_messages(fake: FakeBotAPI, chat: int) -> list[SentMessage]:
    """The bot's messages in a chat that carry follow-up buttons."""
    return [m for m in fake.messages_to(chat) if any(d.startswith("h:s:") for d in m.callback_data)]
