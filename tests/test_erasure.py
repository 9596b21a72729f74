"""Erasure (PIPL): after `erase` no table (decrypted) nor the SQLite file holds the person; /forget."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlmodel import SQLModel

from bot.cli import access as cli_access
from storage import migrate
from storage.crypto import Cipher, DecryptionError
from storage.db import Database
from storage.models import Conversation, Household, Member
from storage.repositories import audit, erasure
from storage.urls import parse_url
from tests.access_support import (  # noqa: F401
    SECRET,
    VILLAGE,
    cipher_fixture,
    db_fixture,
    member,
    resident_id,
    submission,
    submit,
    url_fixture,
)
from tests.fakebot import FakeBotAPI
from tests.telegram_harness import polling_bot, press, say, settings_for

HEAD, HEAD_ID, PHONE, NUMBER = (
    "王建国",
    resident_id("410225", "19780512", "131"),
    "13812345678",
    "4102251012010001",
)
SON, SON_RENAMED, SON_ID = "王小明", "王晓明", resident_id("410225", "20100301", "123")
NEW_PHONE = "13987654321"
OTHER, OTHER_ID, OTHER_PHONE, OTHER_NUMBER = (
    "李秀英",
    resident_id("410225", "19800101", "222"),
    "13700001111",
    "4102251012010002",
)
OTHER_CHILD, OTHER_CHILD_ID = "李明", resident_id("410225", "20090909", "333")
TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_=-]+")


async def seed(db, cipher):
    """Household A (head + son, entered twice with changes: conflicts), household B, and dialog drafts."""
    son = member(SON, SON_ID)
    await submit(db, cipher, submission(HEAD, HEAD_ID, PHONE, NUMBER, son))
    renamed = member(SON_RENAMED, SON_ID, wish={"kind": "vocational_training", "trade": "welder"})
    await submit(db, cipher, submission(HEAD, HEAD_ID, NEW_PHONE, NUMBER, renamed))
    await submit(
        db,
        cipher,
        submission(OTHER, OTHER_ID, OTHER_PHONE, OTHER_NUMBER, member(OTHER_CHILD, OTHER_CHILD_ID)),
    )
    drafts = {
        "tg:600": {"flow": "intake", "answers": {"members": [{"name": SON, "id_number": SON_ID}]}},
        "tg:601": {"flow": "intake", "answers": {"head_name": HEAD, "phone": PHONE, "number": NUMBER}},
        "tg:602": {"flow": "intake", "answers": {"id_hash": cipher.lookup_hash("id_number", SON_ID)}},
        "tg:603": {"flow": "intake", "answers": {"members": [{"name": OTHER_CHILD}]}},
        "tg:604": {"flow": "intake", "answers": {"village": VILLAGE, "members": [{"name": SON_RENAMED}]}},
    }
    async with db.session() as session:
        for key, state in drafts.items():
            session.add(
                Conversation(key=key, state=json.dumps(state, ensure_ascii=False), updated_at=time.time())
            )
        await session.commit()


async def leftovers(db: Database, cipher: Cipher, needles: list[str]) -> list[str]:
    """Where any needle still is: table.column, reading every text column and decrypting every token."""
    async with db.session() as session:
        existing = set(await session.run_sync(lambda s: inspect(s.connection()).get_table_names()))
        found = []
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in existing:
                continue
            for row in (await session.execute(select(table))).all():
                for column, value in zip(table.columns, row, strict=True):
                    texts = _texts(cipher, value)
                    found += [
                        f"{table.name}.{column.name}: {n}" for n in needles if any(n in t for t in texts)
                    ]
    return found


def _texts(cipher: Cipher, value: object) -> list[str]:
    """A value as text, with the plain text of every token inside it."""
    if not isinstance(value, str):
        return [str(value)]
    texts = [value]
    for token in TOKEN.findall(value):
        with contextlib.suppress(DecryptionError):
            texts.append(cipher.decrypt(token))
    return texts


def raw_bytes(url: str) -> bytes:
    """The SQLite file and its WAL, as they are on disk."""
    path = Path(parse_url(url).sqlite_path or "")
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def audit_entries(db):
    async with db.session() as session:
        return await audit.entries(session=session)


# ---------------------------------------------------------------- the CLI and the repository


async def test_erasing_a_member_leaves_nothing_of_them_and_keeps_the_household(db, cipher, url):
    await seed(db, cipher)
    needles = [SON, SON_RENAMED, SON_ID]
    assert await leftovers(db, cipher, needles)  # the scan does see them before
    assert await asyncio.to_thread(cli_access.erase, url, [SECRET], person=SON_ID, yes=True) == 0
    assert await leftovers(db, cipher, needles) == []
    async with db.session() as session:
        households = (await session.exec(select(Household).order_by(Household.id))).scalars().all()
        keys = (await session.exec(select(Conversation.key).order_by(Conversation.key))).scalars().all()
    assert [h.head_name for h in households] == [HEAD, OTHER]
    # Gone: the drafts holding the son's ID (plain or hashed), or his name beside his village's code.
    assert keys == ["tg:601", "tg:603"]
    (entry,) = await audit_entries(db)
    assert (entry.action, entry.target_kind, entry.channel) == ("erase", "person", "cli")
    assert not any(n in str(entry.model_dump()) for n in [*needles, HEAD, PHONE])
    if url.startswith("sqlite"):
        data = raw_bytes(url)
        assert not any(n.encode() in data for n in needles)


async def test_erasing_a_household_leaves_nothing_of_anyone_in_it(db, cipher, url):
    await seed(db, cipher)
    needles = [HEAD, HEAD_ID, PHONE, NEW_PHONE, NUMBER, SON, SON_RENAMED, SON_ID]
    assert await asyncio.to_thread(cli_access.erase, url, [SECRET], household=NUMBER, yes=True) == 0
    assert await leftovers(db, cipher, needles) == []
    assert await leftovers(db, cipher, [OTHER, OTHER_ID, OTHER_PHONE, OTHER_CHILD]) != []  # B is untouched
    (entry,) = await audit_entries(db)
    assert entry.target_kind == "household" and not any(n in str(entry.model_dump()) for n in needles)
    if url.startswith("sqlite"):
        data = raw_bytes(url)
        assert not any(n.encode() in data for n in needles)


async def test_erasing_the_head_blanks_the_household_and_keeps_the_son(db, cipher):
    await seed(db, cipher)
    async with db.session() as session:
        result = await erasure.erase_person(
            session=session, cipher=cipher, id_number=HEAD_ID, actor="cli:root", channel="cli"
        )
    assert result.found and result.counts["member"] == 1
    assert await leftovers(db, cipher, [HEAD, HEAD_ID, PHONE, NEW_PHONE]) == []
    async with db.session() as session:
        household = await session.get(Household, result.counts and 1)
        names = (await session.exec(select(Member.name).order_by(Member.id))).scalars().all()
    assert household is not None and household.head_name == "" and household.needs_review
    assert names == [SON_RENAMED, OTHER, OTHER_CHILD]


async def test_a_namesake_in_another_village_is_left_alone(db, cipher):
    await seed(db, cipher)
    namesake = member(SON_RENAMED, resident_id("410225", "20100505", "456"))
    elsewhere = submission("赵六", resident_id("410225", "19700101", "999"), "13600002222", "N0009", namesake)
    await submit(db, cipher, {**elsewhere, "village_code": "410225102201"})
    draft = {"answers": {"members": [{"name": SON_RENAMED}]}}  # no village: someone else's draft
    async with db.session() as session:
        session.add(Conversation(key="tg:700", state=json.dumps(draft, ensure_ascii=False), updated_at=0.0))
        await session.commit()
        result = await erasure.erase_person(
            session=session, cipher=cipher, id_number=SON_ID, actor="cli:root", channel="cli"
        )
    assert result.counts["member"] == 1
    found = await leftovers(db, cipher, [SON_RENAMED])
    assert sorted(found) == [
        f"conversation.state: {SON_RENAMED}",
        f"member.name: {SON_RENAMED}",
        f"outbox.payload: {SON_RENAMED}",
    ]


async def test_an_unknown_person_is_reported_and_audited(db, cipher, url):
    assert await asyncio.to_thread(cli_access.erase, url, [SECRET], person=SON_ID, yes=True) == 1
    (entry,) = await audit_entries(db)
    assert entry.detail == "nothing_found" and SON_ID not in str(entry.model_dump())
    assert await asyncio.to_thread(cli_access.erase, url, [SECRET]) == 2


# ---------------------------------------------------------------- /forget in the bot

SELF, WORKER = 7001, 7002


@pytest.fixture
async def fake():
    async with FakeBotAPI() as server:
        yield server


async def submit_own(settings, who: int, answered_by: str) -> None:
    """A household entered by this chat (before the bot starts), with the bot's own cipher."""
    from storage.repositories.intake import submit_intake

    await migrate.upgrade_async(settings.db_url)
    database = Database.from_url(settings.db_url)
    try:
        async with database.session() as session:
            data = submission(HEAD, HEAD_ID, PHONE, NUMBER, member(SON, SON_ID), answered_by=answered_by)
            cipher = Cipher.from_secret(settings.cipher_secrets())
            await submit_intake(session=session, submission=data, cipher=cipher, submitted_by=f"tg:{who}")
    finally:
        await database.dispose()


async def households(settings) -> list[str]:
    database = Database.from_url(settings.db_url)
    try:
        async with database.session() as session:
            return list((await session.exec(select(Household.head_name))).scalars().all())
    finally:
        await database.dispose()


async def test_forget_asks_first_then_erases_what_the_household_entered_itself(fake, tmp_path, monkeypatch):
    settings = settings_for(fake, tmp_path)
    await submit_own(settings, SELF, "household")
    async with polling_bot(settings):
        await say(fake, SELF, "/start", expect=2)
        (question,) = await say(fake, SELF, "/forget")
        assert "删除" in question.text and question.buttons[:2] == [["确认删除"], ["不删除"]]
        (kept,) = await press(fake, SELF, "keep")
        assert "没有删除" in kept.text
        assert await households(settings) == [HEAD]
        await say(fake, SELF, "/forget")
        done, after = await press(fake, SELF, "confirm", expect=2)
        assert "已经删除" in done.text and "主菜单" in after.text
        assert await households(settings) == []
        await say(fake, SELF, "/forget")
        nothing, _ = await press(fake, SELF, "confirm", expect=2)
        assert "没有您自己填报" in nothing.text
    database = Database.from_url(settings.db_url)
    try:
        entries = await audit_entries(database)
        assert [(e.actor, e.action, e.target_kind) for e in entries] == [
            (f"tg:{SELF}", "erase", "channel")
        ] * 2
        assert (
            await leftovers(database, Cipher.from_secret(settings.cipher_secrets()), [HEAD, SON, HEAD_ID])
            == []
        )
    finally:
        await database.dispose()


async def test_forget_by_a_worker_only_clears_drafts_and_says_so(fake, tmp_path, monkeypatch):
    settings = settings_for(fake, tmp_path)
    await submit_own(settings, WORKER, "worker")
    await asyncio.to_thread(cli_access.admin_add, settings.db_url, WORKER)  # any staff role
    async with polling_bot(settings):
        await say(fake, WORKER, "/start", expect=2)
        await say(fake, WORKER, "/forget")
        staff, _ = await press(fake, WORKER, "confirm", expect=2)
        assert "没有填完的内容已经清除" in staff.text
    assert await households(settings) == [HEAD]


async def test_forget_of_an_entry_held_beside_a_work_teams_family_keeps_the_family(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    await submit_own(settings, WORKER, "worker")  # the work team's record of the family
    await submit_own(settings, SELF, "household")  # a chat that knows their numbers: held beside it
    async with polling_bot(settings):
        await say(fake, SELF, "/start", expect=2)
        await say(fake, SELF, "/forget")
        done, work_team, _ = await press(fake, SELF, "confirm", expect=3)
        assert "已经删除" in done.text and "县人社局" in work_team.text
    assert await households(settings) == [HEAD]  # the work team's record stays


async def test_forget_deletes_the_bots_messages_that_showed_the_intake(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    async with polling_bot(settings):
        welcome, _ = await say(fake, SELF, "/start", expect=2)
        (intake,) = await say(fake, SELF, "/intake")
        await say(fake, SELF, "/forget")
        await press(fake, SELF, "confirm", expect=2)
        await fake.wait_idle(settle=0.5)
    shown = {m.message_id: m.deleted for m in fake.messages_to(SELF)}
    assert shown[intake.message_id] is True  # the intake's message is gone from the chat
    assert shown[welcome.message_id] is False  # the welcome showed nothing of the person
