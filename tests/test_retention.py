"""Retention: idle drafts lose their answers, closed records and idle households go after their period."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlmodel import select

from bot.cli import access as cli_access
from storage.models import Conversation, Household, IntentRecord, Member, Outbox
from storage.repositories import audit
from storage.repositories.retention import purge
from tests.access_support import (  # noqa: F401
    NOW,
    cipher_fixture,
    db_fixture,
    member,
    resident_id,
    submission,
    submit,
    url_fixture,
)

DAY = timedelta(days=1)
HEAD_ID, SON_ID = resident_id("410225", "19780512", "131"), resident_id("410225", "20100301", "123")
OTHER_ID, DAUGHTER_ID = resident_id("410225", "19800101", "222"), resident_id("410225", "20090909", "338")


def wang() -> dict:
    """A household whose 16-year-old son wants a technical school."""
    return submission("王建国", HEAD_ID, "13812345678", "N0001", member("王小明", SON_ID))


def li() -> dict:
    """Another household, whose daughter wants the same."""
    return submission("李秀英", OTHER_ID, "13700001111", "N0002", member("李明", DAUGHTER_ID))


async def draft(db, key: str, state: dict, idle: timedelta) -> None:
    async with db.session() as session:
        stamp = (NOW - idle).timestamp()
        session.add(Conversation(key=key, state=json.dumps(state, ensure_ascii=False), updated_at=stamp))
        await session.commit()


async def states(db) -> dict[str, dict]:
    async with db.session() as session:
        rows = (await session.exec(select(Conversation.key, Conversation.state))).all()
    return {key: json.loads(state) for key, state in rows}


async def test_idle_drafts_keep_only_their_language(db):
    unfinished = {"lang": "en", "flow": "intake", "answers": {"head_name": "王建国"}, "data": {"today": "x"}}
    await draft(db, "tg:1", unfinished, idle=31 * DAY)
    await draft(db, "tg:2", unfinished, idle=29 * DAY)
    await draft(db, "tg:3", {"lang": "zh_Hans"}, idle=400 * DAY)
    async with db.session() as session:
        result = await purge(session=session, now=NOW, draft_days=30, closed_days=730)
    assert result["drafts"] == 1
    assert await states(db) == {"tg:1": {"lang": "en"}, "tg:2": unfinished, "tg:3": {"lang": "zh_Hans"}}


async def close(db, record_id: int, when) -> None:
    """What HR closing a record does: status, no open key, the time of the change."""
    async with db.session() as session:
        record = await session.get(IntentRecord, record_id)
        record.status, record.open_key, record.status_changed_at = "enrolled", None, when
        await session.commit()


async def test_closed_records_and_idle_households_go_after_their_period(db, cipher):
    old = NOW - 800 * DAY
    first = await submit(
        db, cipher, submission("王建国", HEAD_ID, "13812345678", "N0001", member("王小明", SON_ID)), now=old
    )
    second = await submit(db, cipher, li(), now=old)
    await close(db, first.new_intent_ids[0], old)  # closed long ago: goes, and the household with it
    await close(db, second.new_intent_ids[0], NOW - 10 * DAY)  # closed recently: stays
    async with db.session() as session:
        result = await purge(session=session, now=NOW, draft_days=30, closed_days=730)
    assert result["intent_record"] == 1 and result["household"] == 1 and result["member"] == 2
    assert result["outbox"] == 1 and result["consent"] == 1
    async with db.session() as session:
        assert (await session.exec(select(Household.head_name))).all() == ["李秀英"]
        assert (await session.exec(select(Member.name).order_by(Member.id))).all() == ["李秀英", "李明"]
        assert len((await session.exec(select(Outbox))).all()) == 1
        (entry,) = await audit.entries(session=session)
    assert (entry.actor, entry.action, entry.channel) == ("system:retention", "retention.purge", "system")
    assert "household=1" in entry.detail


async def test_open_records_keep_their_household_for_as_long_as_the_consent_allows(db, cipher):
    old = NOW - 800 * DAY  # as long ago as the closed one above, but still open
    await submit(db, cipher, wang(), now=old)
    async with db.session() as session:
        result = await purge(session=session, now=NOW, draft_days=30, closed_days=730)
    assert result == {"drafts": 0}


async def test_records_never_followed_up_go_after_the_consents_three_years(db, cipher):
    grown = member("王大明", resident_id("410225", "19950505", "111"), age=31)
    adult_wang = submission("王建国", HEAD_ID, "13812345678", "N0001", grown)
    adult_li = submission("李秀英", OTHER_ID, "13700001111", "N0002", {**grown, "id_number": None})
    await submit(db, cipher, adult_wang, now=NOW - (3 * 365 + 2) * DAY)  # "最长保存3年": past it
    await submit(db, cipher, adult_li, now=NOW - (3 * 365 - 2) * DAY)  # not yet
    async with db.session() as session:
        result = await purge(session=session, now=NOW, draft_days=30, closed_days=730)
    assert result["intent_record"] == 1 and result["household"] == 1 and result["outbox"] == 1
    async with db.session() as session:
        assert (await session.exec(select(Household.head_name))).all() == ["李秀英"]


async def test_cli_purge_prints_counts_and_refuses_bad_periods(url, capsys):
    assert await asyncio.to_thread(cli_access.purge, url, 30, 730) == 0
    assert capsys.readouterr().out.splitlines() == ["drafts\t0"]
    assert await asyncio.to_thread(cli_access.purge, url, 0, 730) == 2
