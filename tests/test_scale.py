"""Several workers on one PostgreSQL database: a user's updates are applied once each, in order.

Two independent stacks (each its own Services, Bot and Dispatcher, as two worker processes
have) share one PostgreSQL schema and are fed the same users' updates; the bot's outgoing calls
go to the fake Bot API. The dialog records every typed answer under its own key, so a lost,
repeated or reordered update shows in the stored state. The last test runs the real
`serve_webhook_workers` with two processes and posts to it over HTTP. The first two need no
PostgreSQL: SQLite refuses several workers, and one SQLite process survives a burst of new users.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.channels.telegram.app import build_dispatcher
from bot.channels.telegram.workers import check_workers, serve_webhook_workers
from bot.core.effects import Effects
from bot.core.sealing import unseal
from bot.core.services import Services, open_services
from bot.core.settings import SettingsError, load_settings
from dialogs.model import Book, Flow, State, Step
from storage import conversations
from storage.conversations import PostgresConversations
from storage.crypto import Cipher
from storage.db import Database
from storage.urls import asyncpg_dsn
from tests.fakebot import FakeBotAPI
from tests.test_webhook import free_port

ANSWERS = 8
SECRET = "scale-test-secret-0123456789-abcdef"
ROOT = Path(__file__).resolve().parents[1]
# The parent process of `outreach run --webhook --workers 2`, serving the recording dialog.
WORKERS_MAIN = """
import logging, sys
import bot.core.services
from bot.core.settings import load_settings
from bot.channels.telegram.workers import serve_webhook_workers
from tests.test_scale import recording_book
bot.core.services.load_book = recording_book
logging.basicConfig(level="WARNING")
sys.exit(serve_webhook_workers(load_settings(), 2))
"""


DATA_KEY = "scale-test-data-key-" + "k" * 20  # the workers and the test read the same answers


def recording_book(answers: int = ANSWERS) -> Book:
    """A menu flow of typed answers: step i stores its answer under "aNN" and leads to step i+1."""
    steps = {
        f"s{i}": Step(id=f"s{i}", text="menu.main", input="text", save_as=f"a{i:02d}", next=f"s{i + 1}")
        for i in range(answers)
    }
    steps[f"s{answers}"] = Step(id=f"s{answers}", text="menu.main", input="text", next=f"s{answers}")
    return Book(flows={"menu": Flow(id="menu", start="s0", steps=steps)}, clauses={})


def answer(user: int, i: int) -> str:
    """The text user `user` types at step i."""
    return f"answer {i} of {user}"


def recorded(state: State) -> list[str]:
    """The stored answers in step order."""
    return [state.answers[key] for key in sorted(state.answers)]


@dataclass
class Worker:
    """One stack, as one worker process holds it."""

    services: Services
    bot: Bot
    dispatcher: Dispatcher

    async def deliver(self, update: dict[str, Any]) -> None:
        """Feed an update the way the webhook does (parsed, then handed to the dispatcher)."""
        parsed = Update.model_validate(update, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, parsed)

    async def stored(self, user: int) -> tuple[State, int | None]:
        """The user's stored state and last applied update id (read, nothing written)."""
        async with self.services.conversations.open(f"tg:{user}") as slot:
            return unseal(slot.state, self.services.cipher, "zh_Hans"), slot.last_update_id


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def workers(
    fake: FakeBotAPI, migrated_postgres_url: str, tmp_path: Path
) -> AsyncIterator[list[Worker]]:
    """Two stacks on the same PostgreSQL schema, running the recording dialog."""
    settings = load_settings(
        bot_token=fake.token, telegram_api_url=fake.base_url, data_dir=tmp_path,
        database_url=migrated_postgres_url,
    )  # fmt: skip
    stacks: list[Worker] = []
    try:
        for _ in range(2):
            services = await open_services(settings)
            services.book = recording_book()
            stacks.append(Worker(services, fake.make_bot(), build_dispatcher(services)))
        yield stacks
    finally:
        for stack in stacks:
            await stack.services.close()


# ---------------------------------------------------------------- SQLite: one process


def test_more_than_one_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    settings = load_settings(
        bot_token="5000000001:AAFakeTokenUsedOnlyInTests", data_dir=tmp_path,
        webhook_url="https://bot.example.org", webhook_secret=SECRET,
    )  # fmt: skip
    check_workers(settings, 1)
    with pytest.raises(SettingsError) as refused:
        serve_webhook_workers(settings, 2)
    message = str(refused.value)
    assert "\n" not in message and "DATABASE_URL" in message and "PostgreSQL" in message
    with pytest.raises(SettingsError, match="--workers must be 1 or more"):
        check_workers(settings, 0)


async def test_a_burst_of_first_contacts_on_sqlite_times_nothing_out(
    migrated_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 new users at once, as take_turn runs them: the ORM's inserts and the saves take turns."""
    monkeypatch.setattr(conversations, "BUSY_TIMEOUT_S", 0.3)  # a starved writer fails in 0.3 s, not 5
    database, effects = Database.from_url(migrated_sqlite_url), Effects()

    async def first_turn(key: str) -> None:
        async with store.open(key) as slot, database.session() as session:
            async with slot.side_writes():
                await effects.first_contact(key=key, lang="zh_Hans", session=session)
            slot.save("{}", 1)

    try:
        async with conversations.open_conversations(migrated_sqlite_url) as store:
            keys = [f"tg:{user}" for user in range(8001, 8301)]
            await asyncio.gather(*(first_turn(key) for key in keys))
            for key in keys:
                async with store.open(key) as slot:
                    assert slot.state == "{}"
    finally:
        await database.dispose()


# ---------------------------------------------------------------- two stacks, one database


async def test_interleaved_updates_keep_every_answer_in_order(
    fake: FakeBotAPI, workers: list[Worker]
) -> None:
    """40 users at once, each update of a user going to the other worker than the one before."""
    users = range(7001, 7041)

    async def dialog(user: int) -> int:
        # As Telegram does: a chat's next update is sent once the previous one was answered.
        await workers[user % 2].deliver(fake.user_sends(user, "/start"))
        last = 0
        for i in range(ANSWERS):
            update = fake.user_sends(user, answer(user, i))
            await workers[(user + i + 1) % 2].deliver(update)
            last = update["update_id"]
        return last

    last_ids = await asyncio.gather(*(dialog(user) for user in users))
    for user, last_id in zip(users, last_ids, strict=True):
        state, stored_id = await workers[0].stored(user)
        assert recorded(state) == [answer(user, i) for i in range(ANSWERS)]
        assert (state.step, stored_id) == (f"s{ANSWERS}", last_id)
        assert len(fake.messages_to(user)) == 2 + ANSWERS  # welcome and question, then one per answer


async def test_same_update_delivered_twice_is_applied_once(fake: FakeBotAPI, workers: list[Worker]) -> None:
    user = 7101
    await workers[0].deliver(fake.user_sends(user, "/start"))
    both_at_once = fake.user_sends(user, answer(user, 0))
    await asyncio.gather(workers[0].deliver(both_at_once), workers[1].deliver(both_at_once))
    twice_on_one = fake.user_sends(user, answer(user, 1))
    await asyncio.gather(workers[1].deliver(twice_on_one), workers[1].deliver(twice_on_one))
    late_again = fake.user_sends(user, answer(user, 2))
    await workers[0].deliver(late_again)
    await workers[1].deliver(late_again)  # Telegram resends when our answer got lost
    await workers[0].deliver(late_again)
    state, stored_id = await workers[1].stored(user)
    assert recorded(state) == [answer(user, i) for i in range(3)]
    assert stored_id == late_again["update_id"]
    assert len(fake.messages_to(user)) == 2 + 3


async def test_simultaneous_updates_of_one_user_lose_no_write(
    fake: FakeBotAPI, workers: list[Worker]
) -> None:
    """Two different updates of one user at both workers at once: the row lock serializes them."""
    # Telegram never does this (it sends a chat's next update once the previous one was answered,
    # and the workers answer after the commit), so which one goes first is a race. What must hold:
    # every update that got a reply is stored, none twice, no write lost.
    user = 7201
    await workers[0].deliver(fake.user_sends(user, "/start"))
    later_ones = []
    for i in range(0, ANSWERS, 2):
        first, second = fake.user_sends(user, answer(user, i)), fake.user_sends(user, answer(user, i + 1))
        await asyncio.gather(workers[0].deliver(first), workers[1].deliver(second))
        later_ones.append(second["message"]["text"])
    state, _ = await workers[0].stored(user)
    kept = recorded(state)
    assert len(kept) == len(set(kept)) == len(fake.messages_to(user)) - 2
    assert set(later_ones) <= set(kept)  # the higher update id of each pair is never dropped


# ---------------------------------------------------------------- two real webhook processes


def _worker_env(fake: FakeBotAPI, database_url: str, port: int, data_dir: Path) -> dict[str, str]:
    """The environment `outreach run --webhook --workers 2` would see."""
    return {
        **os.environ, "BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "WEBHOOK_URL": "https://bot.example.org",
        "WEBHOOK_SECRET": SECRET, "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
        "PYTHONPATH": str(ROOT), "DATA_KEY": DATA_KEY,
    }  # fmt: skip


def _children(pid: int) -> set[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
    return found


@contextlib.asynccontextmanager
async def webhook_workers(env: dict[str, str], cwd: Path) -> AsyncIterator[subprocess.Popen]:
    """`serve_webhook_workers(settings, 2)` in its own process; SIGTERM and a wait on exit."""
    process = subprocess.Popen([sys.executable, "-c", WORKERS_MAIN], env=env, cwd=cwd)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 30)
        finally:
            if process.poll() is None:
                process.kill()


async def _post_dialog(http: aiohttp.ClientSession, url: str, fake: FakeBotAPI, user: int) -> None:
    """A user's updates posted one after the other, each once the previous was answered."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for text in ["/start", *(answer(user, i) for i in range(3))]:
        async with http.post(url, json=fake.user_sends(user, text), headers=headers) as response:
            assert response.status == 200


async def test_two_webhook_processes_apply_each_update_in_order(
    fake: FakeBotAPI, migrated_postgres_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = _worker_env(fake, migrated_postgres_url, port, tmp_path)
    users = range(7301, 7331)
    async with webhook_workers(env, tmp_path) as parent:
        started = lambda: fake.webhook["url"] or parent.poll() is not None  # noqa: E731
        await fake.wait_for(started, timeout=90, what="the webhook to be set")
        assert parent.poll() is None and fake.webhook["secret_token"] == SECRET
        assert len(_children(parent.pid)) == 2
        workers_before = _children(parent.pid)
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        # A fresh connection per request, so the kernel hands requests to both workers.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            await asyncio.gather(*(_post_dialog(http, url, fake, user) for user in users))
    assert parent.returncode == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers_before)
    async with PostgresConversations(asyncpg_dsn(migrated_postgres_url)) as store:
        for user in users:
            async with store.open(f"tg:{user}") as slot:
                state = unseal(slot.state, Cipher.from_secret(DATA_KEY), "zh_Hans")
                assert recorded(state)[:3] == [answer(user, i) for i in range(3)]


def test_redelivered_updates_are_recognised_within_telegrams_window():
    from bot.channels.telegram.middlewares import REDELIVERY_WINDOW_S, already_applied

    now = 1_800_000_000.0
    assert already_applied(10, 10, now - 5, now)  # the same update again
    assert already_applied(9, 10, now - 5, now)  # an earlier one of a re-fetched batch
    assert not already_applied(11, 10, now - 5, now)  # the next one
    assert not already_applied(9, 10, now - REDELIVERY_WINDOW_S - 1, now)  # ids restarted after a long pause
    assert not already_applied(9, None, None, now) and not already_applied(None, 10, now, now)
