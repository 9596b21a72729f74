"""Database fixtures: migrated SQLite files and throwaway PostgreSQL schemas.

Import the fixtures into tests/conftest.py (`from tests.db_fixtures import *`) or a test module.
PostgreSQL is the server named by TEST_POSTGRES_URL; each test gets its own schema (reached
through `?search_path=`) that is dropped afterwards, because the database is shared.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from storage import migrate
from storage.urls import asyncpg_dsn, default_sqlite_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
T = TypeVar("T")

# Parametrisations over both databases: by migrated URL, or by empty URL (for migration tests).
MIGRATED_BACKENDS = [
    pytest.param("migrated_sqlite_url", id="sqlite"),
    pytest.param("migrated_postgres_url", id="postgresql", marks=pytest.mark.postgres),
]
EMPTY_BACKENDS = [
    pytest.param("sqlite_url", id="sqlite"),
    pytest.param("postgres_schema_url", id="postgresql", marks=pytest.mark.postgres),
]

__all__ = [
    "bot_database_url",
    "migrated_postgres_url",
    "migrated_sqlite_url",
    "postgres_schema_url",
    "postgres_server_url",
    "sqlite_url",
]


def run_in_own_loop(make_coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a fresh loop in a worker thread.

    The fixtures are synchronous but may be set up while pytest-asyncio's loop runs (through
    request.getfixturevalue in an async fixture), where asyncio.run would refuse to start.
    """
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(lambda: asyncio.run(make_coroutine())).result()


def postgres_url() -> str:
    """The PostgreSQL server the tests may use."""
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@cache
def postgres_unreachable_reason() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers (asked once per run)."""

    async def probe() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(postgres_url()), timeout=3)
        await connection.close()

    try:
        run_in_own_loop(probe)
    except (TimeoutError, OSError, asyncpg.PostgresError, ValueError) as error:
        return f"PostgreSQL at {postgres_url()} is unreachable: {type(error).__name__}: {error}"
    return None


def with_search_path(url: str, schema: str) -> str:
    """`url` with its query replaced by `search_path=<schema>` (asyncpg sends it as a setting)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, f"search_path={schema}", ""))


async def _run_admin(sql: str) -> None:
    """Run one statement on the server URL (schema creation and removal)."""
    connection = await asyncpg.connect(asyncpg_dsn(postgres_url()))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def postgres_server_url() -> str:
    """The server URL, or skip the test when PostgreSQL is unreachable."""
    reason = postgres_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    return postgres_url()


@pytest.fixture
def postgres_schema_url(postgres_server_url: str) -> Iterator[str]:
    """A URL whose search_path is a new, empty schema; the schema is dropped afterwards."""
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    run_in_own_loop(lambda: _run_admin(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(postgres_server_url, schema)
    finally:
        run_in_own_loop(lambda: _run_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def migrated_postgres_url(postgres_schema_url: str) -> str:
    """A PostgreSQL URL (own schema) migrated to head."""
    run_in_own_loop(lambda: migrate.upgrade_async(postgres_schema_url))
    return postgres_schema_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a SQLite file that does not exist yet."""
    return default_sqlite_url(tmp_path)


@pytest.fixture
def migrated_sqlite_url(sqlite_url: str) -> str:
    """A SQLite file migrated to head."""
    run_in_own_loop(lambda: migrate.upgrade_async(sqlite_url))
    return sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def bot_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The DATABASE_URL of a whole bot in a test: None (embedded SQLite) or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_schema_url")
