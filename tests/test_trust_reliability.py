"""Issue 10, point 10: replies after the commit in long polling; a refused setMyCommands only warns.

(Two intakes of the same new person at once on PostgreSQL: tests/test_trust_takeover.py.)
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.fakebot import FakeBotAPI
from tests.telegram_harness import polling_bot, say, settings_for

USER = 8181


@pytest.fixture
async def fake():
    async with FakeBotAPI() as server:
        yield server


def committed_update_id(database: Path, key: str) -> int | None:
    """The last update id of a conversation as another connection sees it: committed only."""
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT last_update_id FROM conversation WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


async def test_long_polling_answers_only_after_the_update_is_committed(fake, tmp_path: Path) -> None:
    settings = settings_for(fake, tmp_path)
    database = Path(settings.db_url.removeprefix("sqlite:///"))
    seen: list[tuple[int | None, int]] = []  # (committed update id, update id being answered)
    serve = fake._serve

    async def watching(request: Any, name: str, handler: Any) -> Any:
        if name == "sendMessage":
            seen.append((committed_update_id(database, f"tg:{USER}"), fake.updates[-1]["update_id"]))
        return await serve(request, name, handler)

    fake._serve = watching
    async with polling_bot(settings):
        await say(fake, USER, "/start", expect=2)
        await say(fake, USER, "/help", expect=2)
    assert len(seen) == 4
    assert all(committed == answering for committed, answering in seen), seen


async def test_a_server_refusing_set_my_commands_only_costs_the_menu(
    fake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("setMyCommands", status=404, description="Not Found", times=2)
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        async with polling_bot(settings_for(fake, tmp_path)):
            welcome, _ = await say(fake, USER, "/start", expect=2)
    assert welcome.text
    assert any("setMyCommands" in record.getMessage() for record in caplog.records)


async def test_a_flood_of_messages_gets_a_few_replies_and_one_slow_down(fake, tmp_path: Path) -> None:
    async with polling_bot(settings_for(fake, tmp_path)):
        await say(fake, USER, "/start", expect=2)
        before = len(fake.messages_to(USER))
        for _ in range(300):
            fake.user_sends(USER, "/help")
        await fake.wait_idle(timeout=60, settle=1.0)
    replies = fake.messages_to(USER)[before:]
    slow_down = [m for m in replies if "太快" in m.text]
    assert len(slow_down) == 1
    answered = (len(replies) - 1) // 2  # each /help is answered with 2 messages
    assert answered < 80, answered  # the burst and a few a second, not 300


def test_the_flood_gate_refills() -> None:
    from bot.core.flood import FloodGate, Verdict

    gate = FloodGate(burst=3, rate=1.0)
    verdicts = [gate.admit("tg:1", 0.0) for _ in range(5)]
    assert verdicts == [Verdict.PASS] * 3 + [Verdict.WARN, Verdict.DROP]
    assert gate.admit("tg:2", 0.0) is Verdict.PASS  # others are not held back
    assert gate.admit("tg:1", 1.5) is Verdict.PASS  # a second later: one more
    queued = FloodGate(burst=100, rate=1.0, max_waiting=2)
    with queued.waiting("tg:3"), queued.waiting("tg:3"):
        assert queued.admit("tg:3", 0.0) is Verdict.PASS  # two waiting: a third may queue
        with queued.waiting("tg:3"):
            assert queued.admit("tg:3", 0.0) is Verdict.WARN  # a batch piling up: a flood
    assert queued.admit("tg:3", 0.0) is Verdict.PASS  # the queue has drained
