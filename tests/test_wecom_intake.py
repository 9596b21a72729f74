"""End to end on WeCom: a work-team member's intake in the app; a household from a poster in 微信客服."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.channels.wecom.render import CARD_BUTTONS, MENU_ITEMS, TEXT_LIMIT_BYTES
from storage.db import Database
from storage.models import Household, IntentRecord, Member
from storage.repositories.access import grant
from tests.fakewecom import FakeWeCom, Sent
from tests.test_intake_dialog import KID_ID, SON_ID, XUCHANG
from tests.wecom_harness import Customer, texts, wecom_bot, wecom_settings
from tests.wecom_harness import Member as AppMember


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


async def rows(url: str, model: type) -> list:
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            return list((await session.exec(select(model).order_by(model.id))).all())
    finally:
        await database.dispose()


def within_limits(messages: list[Sent]) -> None:
    """What WeCom would refuse never reaches it (the fake refuses it too; this says which)."""
    for message in messages:
        assert len(message.text.encode()) <= TEXT_LIMIT_BYTES
        assert len(message.buttons) <= (CARD_BUTTONS if message.msgtype == "template_card" else MENU_ITEMS)


async def test_a_members_whole_intake_in_the_app(fake, tmp_path, bot_database_url):
    settings = wecom_settings(fake, tmp_path, bot_database_url)
    async with wecom_bot(fake, settings) as channel:
        async with channel.services.database.session() as session:
            await grant(
                session=session, channel_key="wecom:wang", role="worker", scopes=[("county", "410225")]
            )
            await session.commit()
        member = AppMember(fake, channel, "wang")
        welcome = await member.says(f"/start v_{XUCHANG}")
        assert "谁在填" in texts(welcome)
        assert "户主叫什么名字" in texts(await member.press("worker"))
        await member.says("王建国")
        await member.press("registered_poor")
        await member.says("4102251012010001")
        await member.says("138 1234 5678")
        await member.says("王小明")
        await member.press("child", "male")
        await member.says(SON_ID)
        card = texts(await member.press("from_id", "junior_current", "full", "at_home", "technical_school",
                                        "electrician", "yes", "evening"))  # fmt: skip
        assert "4102*************8" in card and SON_ID not in card
        await member.press("ok", "add")
        await member.says("王小红")
        await member.press("child", "female")
        await member.says(KID_ID)
        guardian = texts(await member.press("from_id"))
        assert "监护人" in guardian
        kid = ("agree", "in_school", "none", "in_school", "vocational_training", "pre_employment", "cooking")
        await member.press(*kid, "no", "any", "ok")
        review = texts(await member.press("no_more"))
        assert "周场村" in review and "*******5678" in review and "13812345678" not in review
        await member.press("next")
        done = texts(await member.press("agree"))
        assert "兰考县人社局" in done
        within_limits(fake.messages_to("wang"))
        # Every pressed card was greyed out once, showing the chosen label.
        assert len(fake.card_updates) == member.presses
        assert all(u["button"]["replace_name"].startswith("✓ ") for u in fake.card_updates)
        assert fake.card_updates[0]["button"]["replace_name"] == "✓ 我是工作队员，帮一户登记"
    (household,) = await rows(settings.db_url, Household)
    assert (household.village_code, household.head_name, household.answered_by) == (
        XUCHANG,
        "王建国",
        "worker",
    )
    assert [m.name for m in await rows(settings.db_url, Member)] == ["王小明", "王小红"]
    assert len(await rows(settings.db_url, IntentRecord)) == 2


async def test_a_household_from_a_poster_to_submission_in_kf(fake, tmp_path, bot_database_url):
    settings = wecom_settings(fake, tmp_path, bot_database_url)
    async with wecom_bot(fake, settings) as channel:
        family = Customer(fake, channel, "wmFamily001")
        (welcome,) = await family.enters(f"v_{XUCHANG}")
        assert (
            welcome.via == "kf_welcome" and welcome.msgtype == "msgmenu"
        )  # one message for the welcome code
        assert "谁在填" in welcome.text
        await family.press("household")
        await family.says("李桂花")
        await family.press("unknown", "skip", "skip")
        await family.says("李小军")
        await family.press("sibling", "male", "skip")
        await family.says("30")
        answers = ("senior_previous", "full", "at_home", "entrepreneurship", "yes", "no", "morning", "ok")
        review = texts(await family.press(*answers))
        assert "李小军" in review and "周场村" in review
        await family.press("next")
        done = texts(await family.press("agree"))
        assert "兰考县人社局" in done
        within_limits(fake.messages_to("wmFamily001"))
        assert all(m.via in ("kf", "kf_welcome") for m in fake.messages_to("wmFamily001"))
    (household,) = await rows(settings.db_url, Household)
    assert (household.village_code, household.head_name, household.answered_by) == (
        XUCHANG,
        "李桂花",
        "household",
    )
