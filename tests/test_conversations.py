"""The dialog-state stores, SQLite and PostgreSQL, through the same API."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from storage import migrate
from storage.conversations import (
    PostgresConversations,
    SqliteConversations,
    open_conversations,
)
from storage.db import Database
from storage.migrate import run_with_connection
from storage.models import User
from storage.urls import sqlite_path
from tests.db_fixtures import MIGRATED_BACKENDS as BACKENDS

Store = SqliteConversations | PostgresConversations


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return request.getfixturevalue(request.param)


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    """A started store on the migrated database."""
    async with open_conversations(url) as started:
        yield started


async def row_count(url: str) -> int:
    """Rows in the conversation table, read outside the store."""
    query = text("SELECT count(*) FROM conversation")
    return await run_with_connection(url, lambda conn: conn.execute(query).scalar_one(), lock=False)


async def load(store: Store, key: str) -> str | None:
    """The stored state of `key`."""
    async with store.open(key) as slot:
        return slot.state


async def put(store: Store, key: str, state: str, update_id: int | None = None) -> None:
    """Store `state` for `key`."""
    async with store.open(key) as slot:
        slot.save(state, update_id)


async def increment(store: Store, key: str) -> None:
    """Read a counter, yield to other tasks, write it back plus one."""
    async with store.open(key) as slot:
        count = json.loads(slot.state)["n"] if slot.state else 0
        await asyncio.sleep(0)  # invite interleaving: a lost update would show here
        slot.save(json.dumps({"n": count + 1}))


async def test_new_key_has_no_state(store: Store) -> None:
    async with store.open("tg:1") as slot:
        assert slot.state is None
        assert slot.last_update_id is None


async def test_save_then_load(store: Store, url: str) -> None:
    state = json.dumps({"flow": "intro", "answers": {"name": "王芳"}}, ensure_ascii=False)
    await put(store, "tg:1", state)
    assert await load(store, "tg:1") == state
    await put(store, "tg:1", "{}")
    assert await load(store, "tg:1") == "{}"
    assert await row_count(url) == 1


async def test_no_save_writes_nothing(store: Store, url: str) -> None:
    assert await load(store, "tg:1") is None
    assert await row_count(url) == 0
    await put(store, "tg:1", '{"step": 1}')
    async with store.open("tg:1"):
        pass
    assert await load(store, "tg:1") == '{"step": 1}'


async def test_exception_rolls_back(store: Store, url: str) -> None:
    with pytest.raises(RuntimeError):
        async with store.open("tg:new") as slot:
            slot.save('{"step": 1}')
            raise RuntimeError("handler failed")
    assert await row_count(url) == 0
    await put(store, "tg:old", '{"step": 1}')
    with pytest.raises(RuntimeError):
        async with store.open("tg:old") as slot:
            slot.save('{"step": 2}')
            raise RuntimeError("handler failed")
    assert await load(store, "tg:old") == '{"step": 1}'


async def test_updates_of_one_key_are_serialized(store: Store) -> None:
    await asyncio.gather(*(increment(store, "tg:1") for _ in range(50)))
    assert json.loads(await load(store, "tg:1") or "{}") == {"n": 50}


async def test_updates_of_one_key_keep_their_order(store: Store) -> None:
    async def append(item: int) -> None:
        async with store.open("tg:1") as slot:
            items = json.loads(slot.state) if slot.state else []
            await asyncio.sleep(0)
            slot.save(json.dumps([*items, item]))

    await asyncio.gather(*(append(item) for item in range(20)))
    assert json.loads(await load(store, "tg:1") or "[]") == list(range(20))


@pytest.mark.postgres
async def test_postgres_serializes_across_processes(migrated_postgres_url: str) -> None:
    # Two stores have separate in-process locks and pools: only the row lock keeps them in line.
    async with (
        open_conversations(migrated_postgres_url) as one,
        open_conversations(migrated_postgres_url) as two,
    ):
        await asyncio.gather(*(increment(store, "tg:1") for _ in range(25) for store in (one, two)))
        assert json.loads(await load(one, "tg:1") or "{}") == {"n": 50}


async def test_different_keys_do_not_block_each_other(store: Store) -> None:
    async with store.open("tg:1") as slot:
        await asyncio.wait_for(put(store, "tg:2", '{"other": true}'), timeout=5)
        slot.save('{"first": true}')
    assert await load(store, "tg:2") == '{"other": true}'


async def test_many_waiters_on_one_key_do_not_starve_others(store: Store) -> None:
    async with store.open("tg:busy"):
        waiters = [asyncio.create_task(increment(store, "tg:busy")) for _ in range(30)]
        await asyncio.sleep(0.05)
        await asyncio.wait_for(put(store, "tg:other", "{}"), timeout=5)
    await asyncio.gather(*waiters)


async def test_locks_are_cleaned_up(store: Store) -> None:
    await asyncio.gather(*(increment(store, f"tg:{i % 7}") for i in range(70)))
    assert len(store.locks) == 0

    async with store.open("tg:held"):
        waiter = asyncio.create_task(load(store, "tg:held"))
        await asyncio.sleep(0.01)
        assert len(store.locks) == 1
        waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert len(store.locks) == 0


async def test_cancelled_handler_rolls_back(store: Store, url: str) -> None:
    entered = asyncio.Event()

    async def slow_handler() -> None:
        async with store.open("tg:1") as slot:
            slot.save("{}")
            entered.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(slow_handler())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await row_count(url) == 0
    assert len(store.locks) == 0


async def test_last_update_id_is_stored(store: Store) -> None:
    big = 2**40  # Telegram update ids need BIGINT
    await put(store, "tg:1", "{}", update_id=big)
    async with store.open("tg:1") as slot:
        assert slot.last_update_id == big
        slot.save('{"console": true}')  # no update id: keep the last one seen
    async with store.open("tg:1") as slot:
        assert slot.last_update_id == big
        slot.save("{}", big + 1)
    async with store.open("tg:1") as slot:
        assert slot.last_update_id == big + 1


async def test_delete(store: Store, url: str) -> None:
    await put(store, "tg:1", "{}")
    await store.delete("tg:1")
    await store.delete("tg:never")
    assert await load(store, "tg:1") is None
    assert await row_count(url) == 0


async def test_save_wants_a_string(store: Store) -> None:
    async with store.open("tg:1") as slot:
        with pytest.raises(TypeError):
            slot.save({"step": 1})  # type: ignore[arg-type]


async def test_open_before_start_is_an_error(url: str) -> None:
    store = open_conversations(url)
    with pytest.raises(RuntimeError, match="start"):
        async with store.open("tg:1"):
            pass


async def test_unmigrated_sqlite_is_refused(sqlite_url: str) -> None:
    with pytest.raises(FileNotFoundError):
        await open_conversations(sqlite_url).start()
    sqlite3.connect(sqlite_path(sqlite_url)).close()  # an empty file
    with pytest.raises(RuntimeError, match="migrations"):
        await open_conversations(sqlite_url).start()


@pytest.mark.postgres
async def test_unmigrated_postgres_is_refused(postgres_schema_url: str) -> None:
    with pytest.raises(RuntimeError, match="migrations"):
        await open_conversations(postgres_schema_url).start()


def test_open_conversations_picks_the_backend() -> None:
    assert isinstance(open_conversations("sqlite:///x.sqlite3"), SqliteConversations)
    assert isinstance(open_conversations("postgres://u@h:5432/db"), PostgresConversations)
    with pytest.raises(ValueError):
        open_conversations("sqlite:///:memory:")


async def test_sqlite_waits_for_an_orm_writer_without_freezing_the_loop(migrated_sqlite_url: str) -> None:
    # The ORM session holds the write lock between its flush and its commit, and it needs this
    # loop to commit: a busy wait inside sqlite3 would stall both for the whole busy timeout.
    db = Database.from_url(migrated_sqlite_url)
    try:
        async with open_conversations(migrated_sqlite_url) as store, db.session() as session:
            session.add(User(channel_key="tg:1", telegram_id=1))
            await session.flush()
            saving = asyncio.create_task(put(store, "tg:1", "{}"))
            await asyncio.sleep(0.05)
            assert not saving.done()
            await session.commit()
            await asyncio.wait_for(saving, timeout=1)
            assert await load(store, "tg:1") == "{}"
    finally:
        await db.dispose()


def test_fixture_database_is_at_head(migrated_sqlite_url: str) -> None:
    assert migrate.current(migrated_sqlite_url) == migrate.head()
