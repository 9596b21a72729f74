"""End to end: a poster's deep link, a whole intake by a work-team member, and what storage then holds."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import Consent, Household, IntentRecord, Member, Outbox
from tests.fakebot import FakeBotAPI
from tests.telegram_harness import polling_bot, press, say, settings_for
from tests.test_intake_dialog import KID_ID, SON_ID, XUCHANG

USER = 6262


@pytest.fixture
async def fake():
    async with FakeBotAPI() as server:
        yield server


async def presses(fake: FakeBotAPI, *choice_ids: str) -> str:
    """Press buttons one after the other; the text of the last message."""
    message = None
    for choice_id in choice_ids:
        (message,) = await press(fake, USER, choice_id)
    assert message is not None
    return message.text


async def rows(database: Database, model: type) -> list:
    """Every row of a table."""
    async with database.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def make_worker(db_url: str, user: int, county: str) -> None:
    """Give a Telegram user the work-team role for a county."""
    from storage.repositories.access import grant

    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            await grant(session=session, channel_key=f"tg:{user}", role="worker", scopes=[("county", county)])
    finally:
        await database.dispose()


async def test_poster_deep_link_then_a_whole_intake_is_stored_with_an_outbox_entry(
    fake, tmp_path, bot_database_url
):
    settings = settings_for(fake, tmp_path, bot_database_url)
    async with polling_bot(settings):
        await make_worker(settings.db_url, USER, XUCHANG[:6])  # joined by invitation, in practice
        _, who = await say(fake, USER, f"/start v_{XUCHANG}", expect=2)
        assert "谁在填" in who.text
        (who,) = await say(fake, USER, "/intake")
        assert who.buttons[:2] == [["我是工作队员，帮一户登记"], ["我是这家的人"]]
        (head,) = await press(fake, USER, "worker")
        assert "户主叫什么名字" in head.text  # the village came from the poster: no county, township, village
        await say(fake, USER, "王建国")
        await presses(fake, "registered_poor")
        await say(fake, USER, "4102251012010001")
        await say(fake, USER, "138 1234 5678")
        await say(fake, USER, "王小明")
        await presses(fake, "child", "male")
        (number,) = await say(fake, USER, "16")  # the age first, then the ID number
        assert "身份证号" in number.text
        await say(fake, USER, SON_ID)
        card = await presses(fake, "junior_current", "full", "at_home", "technical_school",
                             "electrician", "yes", "evening")  # fmt: skip
        assert "4102*************8" in card and SON_ID not in card
        await presses(fake, "ok", "add")
        await say(fake, USER, "王小红")
        await presses(fake, "child", "female")
        (guardian,) = await say(fake, USER, "十一")  # under 14: the guardian agrees before the ID number
        assert "监护人" in guardian.text and "不满14岁" in guardian.text
        await presses(fake, "agree")
        await say(fake, USER, KID_ID)
        kid = ("in_school", "none", "in_school", "vocational_training", "pre_employment", "cooking")
        await presses(fake, *kid, "no", "any", "ok")
        review = await presses(fake, "no_more")
        assert "兰考县 堌阳镇 周场村" in review and "*******5678" in review and "13812345678" not in review
        consent = await presses(fake, "next")
        assert "同意书版本：2026-11-1" in consent and "/forget" in consent
        done = await presses(fake, "agree")
        assert "兰考县人社局" in done
        assert fake.last_message(USER).buttons[:2] == [["再登记一户"], ["再登记这家的另一个人"]]
        assert ["« 返回"] not in fake.last_message(USER).buttons  # no way back to the consent

    database = Database.from_url(settings.db_url)
    try:
        (household,) = await rows(database, Household)
        assert (household.village_code, household.head_name, household.answered_by) == (
            XUCHANG,
            "王建国",
            "worker",
        )
        assert household.phone_enc and "13812345678" not in household.phone_enc
        members = await rows(database, Member)
        assert [(m.name, m.household_id) for m in members] == [
            ("王小明", household.id),
            ("王小红", household.id),
        ]
        assert all(m.id_number_enc and m.id_number_enc not in (SON_ID, KID_ID) for m in members)
        intents = await rows(database, IntentRecord)
        assert [(i.member_id, i.kind, i.trade) for i in intents] == [
            (members[0].id, "technical_school", "electrician"),
            (members[1].id, "vocational_training", "cooking"),
        ]
        outbox = await rows(database, Outbox)
        assert sorted(entry.record_id for entry in outbox) == [i.id for i in intents]
        assert {entry.county_code for entry in outbox} == {"410225"} and SON_ID not in outbox[0].payload
        consents = await rows(database, Consent)
        assert sorted((c.kind, c.member_id) for c in consents) == [
            ("guardian", members[1].id),
            ("household", None),
        ]
        assert all(c.given and c.text_version == "2026-11-1" and "/forget" in c.text for c in consents)
    finally:
        await database.dispose()


async def test_consent_refused_stores_nothing(fake, tmp_path, bot_database_url):
    settings = settings_for(fake, tmp_path, bot_database_url)
    async with polling_bot(settings):
        await say(fake, USER, f"/start v_{XUCHANG}", expect=2)
        await presses(fake, "household")
        await say(fake, USER, "李桂花")
        await presses(fake, "unknown", "skip", "skip")
        await say(fake, USER, "李小军")
        await presses(fake, "sibling", "male")
        await say(fake, USER, "30")
        review = await presses(fake, "skip", "senior_previous", "full", "at_home", "entrepreneurship", "yes",
                               "no", "morning", "ok", "no_more")  # fmt: skip
        assert "李小军" in review
        refused = await presses(fake, "next", "refuse")
        assert "什么都不发送" in refused and "个人信息保护法" in refused
    database = Database.from_url(settings.db_url)
    try:
        assert await rows(database, Household) == [] and await rows(database, Outbox) == []
    finally:
        await database.dispose()


async def test_a_user_without_the_role_who_says_work_team_is_told_at_once(fake, tmp_path, bot_database_url):
    settings = settings_for(fake, tmp_path, bot_database_url)
    async with polling_bot(settings):
        await say(fake, USER, "/intake")
        told, question = await press(fake, USER, "worker", expect=2)
        assert "没有工作队员的身份" in told.text and "自己的登记" in told.text
        assert "哪个县" in question.text or question.buttons
        await make_worker(settings.db_url, USER + 1, XUCHANG[:6])
        await say(fake, USER + 1, "/intake")
        (question,) = await press(fake, USER + 1, "worker")  # with the role: no remark
