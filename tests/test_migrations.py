"""Alembic migrations: empty -> head, down and up again revision by revision, models == schema."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.schema  # noqa: F401 - fills SQLModel.metadata with every table
from storage import migrate
from storage.migrate import alembic_config, run_with_connection
from tests.db_fixtures import EMPTY_BACKENDS as BACKENDS

APP_TABLES = {"user", "conversation"}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each backend."""
    return request.getfixturevalue(request.param)


def table_names(url: str) -> set[str]:
    """Tables in the database (in the URL's schema for PostgreSQL)."""
    return asyncio.run(
        run_with_connection(url, lambda conn: set(inspect(conn).get_table_names()), lock=False)
    )


def schema_differences(url: str) -> list:
    """What autogenerate would change to make the database match the models."""

    def compare(connection: Connection) -> list:
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    return asyncio.run(run_with_connection(url, compare, lock=False))


def revisions_oldest_first() -> list[str]:
    """Every revision id, base to head."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_head_is_the_last_revision() -> None:
    assert migrate.head() == revisions_oldest_first()[-1]


def test_empty_to_head(empty_url: str) -> None:
    assert migrate.current(empty_url) is None
    migrate.upgrade(empty_url)
    assert migrate.current(empty_url) == migrate.head()
    assert table_names(empty_url) >= APP_TABLES | {"alembic_version"}


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.upgrade(empty_url)
    assert migrate.current(empty_url) == migrate.head()


def test_down_to_base_and_up_through_every_revision(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    assert migrate.current(empty_url) is None
    assert not table_names(empty_url) & APP_TABLES
    assert schema_differences(empty_url), "the comparison must see missing tables"
    for revision in revisions_oldest_first():
        migrate.upgrade(empty_url, revision)
        assert migrate.current(empty_url) == revision
    assert schema_differences(empty_url) == []


def test_models_match_the_migrations(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    assert schema_differences(empty_url) == []


async def test_upgrade_async_inside_a_running_loop(empty_url: str) -> None:
    await migrate.upgrade_async(empty_url)
    assert await migrate.current_async(empty_url) == migrate.head()
    await migrate.downgrade_async(empty_url, "base")
    assert await migrate.current_async(empty_url) is None


@pytest.mark.postgres
async def test_workers_starting_together_do_not_race(postgres_schema_url: str) -> None:
    # Without the advisory lock, several would try CREATE TABLE and fail on "already exists".
    await asyncio.gather(*(migrate.upgrade_async(postgres_schema_url) for _ in range(5)))
    assert await migrate.current_async(postgres_schema_url) == migrate.head()


def test_env_reads_database_url_from_the_environment(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    command.upgrade(alembic_config(), "head")  # no URL, no connection: env.py opens its own
    assert migrate.current(sqlite_url) == migrate.head()


def test_offline_mode_emits_sql(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(alembic_config(sqlite_url), "head", sql=True)
    assert "CREATE TABLE conversation" in capsys.readouterr().out
