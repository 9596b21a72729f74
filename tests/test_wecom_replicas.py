"""Two processes serving one county (replicas behind one address, on PostgreSQL: SQLite is served by one
process): each message goes once and in order, and one of them at a time reads the 客服 stream. Leases
hold no user id in clear."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.channels.wecom.render import text_message
from bot.core.identity import WECOM, make_key
from storage.models_wecom import APP, WecomLease
from storage.repositories import wecom as repo
from storage.repositories import wecom_leases as leases
from tests.fakewecom import FakeWeCom
from tests.wecom_harness import Customer, settle, wecom_bot, wecom_settings

USER = "zhaoliu"


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


async def test_two_processes_send_a_users_messages_once_and_in_order(fake, tmp_path, postgres_schema_url):
    settings = wecom_settings(fake, tmp_path, postgres_schema_url)
    fake.send_delay = 0.02  # both senders are at work at the same time
    async with wecom_bot(fake, settings) as first, wecom_bot(fake, settings) as second:
        wanted = [f"第{n}条通知" for n in range(1, 25)]
        payloads = [first.outbox.seal(first.dialogs.to_member(USER, text_message(t))) for t in wanted]
        async with first.dialogs.services.database.session() as session:
            await repo.add_messages(session=session, key=make_key(WECOM, USER), kind=APP, payloads=payloads)
            await session.commit()
        for channel in (first, second):
            channel.outbox.wake()  # both look for due rows, as their poll loops would
        await asyncio.gather(settle(first), settle(second))
        assert [m.text for m in fake.messages_to(USER)] == wanted
        async with first.dialogs.services.database.session() as session:
            assert (await session.exec(select(WecomLease))).all() == []  # given back when done


async def test_a_lease_is_one_holders_until_it_runs_out(tmp_path, bot_database_url):
    from bot.core.services import open_services

    services = await open_services(wecom_settings(FakeWeCom(), tmp_path, bot_database_url))
    name = leases.lease_name("send", make_key(WECOM, USER))
    try:
        async with services.database.session() as session:
            assert await leases.take(session=session, name=name, holder="a", now=100.0, seconds=10)
            # extended by its holder
            assert await leases.take(session=session, name=name, holder="a", now=105.0, seconds=10)
            assert not await leases.take(session=session, name=name, holder="b", now=114.0, seconds=10)
            assert await leases.take(session=session, name=name, holder="b", now=116.0, seconds=10)  # ran out
            await leases.give_back(session=session, name=name, holder="a")  # not a's any more: kept
            assert not await leases.take(session=session, name=name, holder="a", now=117.0, seconds=10)
            names = (await session.exec(select(WecomLease.name))).all()
        assert names == [name] and USER not in name and name.startswith("send:")
    finally:
        await services.close()


async def test_two_processes_notified_at_once_read_the_kf_stream_one_after_the_other(
    fake, tmp_path, postgres_schema_url
):
    settings = wecom_settings(fake, tmp_path, postgres_schema_url)
    async with wecom_bot(fake, settings) as first, wecom_bot(fake, settings) as second:
        family = Customer(fake, second, "wmReplica01")
        await family.enters()
        before = len(fake.messages_to("wmReplica01"))
        fake.customer_message("wmReplica01", {"content": "/help"})  # in the stream; both are told
        notice = fake.kf_notice()
        assert first.kf_reader is not None and second.kf_reader is not None
        read_from = len(fake.sync_cursors)
        await asyncio.gather(first.kf_reader.notify(notice), second.kf_reader.notify(notice))
        await asyncio.gather(settle(first), settle(second))
        helped = fake.messages_to("wmReplica01")[before:]
        assert len([m for m in helped if "帮助" in m.text]) == 1  # applied once
        cursors = fake.sync_cursors[read_from:]
        assert len(cursors) == 2  # each process read once: the second after the first, from its cursor
        assert len(cursors) == len(set(cursors))  # no page was read twice
