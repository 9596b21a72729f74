"""Migration 0009: Telegram chat ids become "tg:<chat id>" keys, message ids text; and back."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage import migrate
from storage.migrate import run_with_connection
from tests.db_fixtures import EMPTY_BACKENDS as BACKENDS

NOW = "2026-11-27 09:00:00+00:00"
DESTINATION = (
    "INSERT INTO hr_destination (id, county_code, {chat}, added_by, created_at, failures, next_attempt_at)"
)
DIGEST = (
    "INSERT INTO delivery_digest (id, destination_id, number, status, records, text, message_id, created_at)"
)
REMINDER = "INSERT INTO hr_reminder (id, reminder, chat_id, sent_at)"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each backend."""
    return request.getfixturevalue(request.param)


def run_sql(url: str, *statements: str) -> list[tuple]:
    """Run statements in one transaction; the rows of the last one when it returns any."""

    def go(connection) -> list[tuple]:
        result = None
        for statement in statements:
            result = connection.execute(text(statement))
        rows = [tuple(row) for row in result] if result is not None and result.returns_rows else []
        connection.commit()
        return rows

    return asyncio.run(run_with_connection(url, go, lock=False))


def test_existing_telegram_rows_get_tg_keys_and_come_back(empty_url: str) -> None:
    migrate.upgrade(empty_url, "0008")
    run_sql(
        empty_url,
        DESTINATION.format(chat="chat_id")
        + f" VALUES (1, '410225', -1001000000001, 'cli:test', '{NOW}', 0, 0)",
        DIGEST + f" VALUES (1, 1, 1, 'done', 0, 'x', 4242, '{NOW}')",
        REMINDER + f" VALUES (1, 'progress-2026-11-01', -5, '{NOW}')",
    )
    migrate.upgrade(empty_url, "0009")
    assert run_sql(empty_url, "SELECT chat_key FROM hr_destination") == [("tg:-1001000000001",)]
    assert run_sql(empty_url, "SELECT chat_key FROM hr_reminder") == [("tg:-5",)]
    assert run_sql(empty_url, "SELECT message_id FROM delivery_digest") == [("4242",)]
    run_sql(
        empty_url,
        DESTINATION.format(chat="chat_key")
        + f" VALUES (2, '410225', 'wecom:group:wrkAbc', 'cli:test', '{NOW}', 0, 0)",
    )
    migrate.downgrade(empty_url, "0008")
    assert run_sql(empty_url, "SELECT id, chat_id FROM hr_destination") == [(1, -1001000000001)]
    assert run_sql(empty_url, "SELECT message_id FROM delivery_digest") == [(4242,)]
    assert run_sql(empty_url, "SELECT chat_id FROM hr_reminder") == [(-5,)]
