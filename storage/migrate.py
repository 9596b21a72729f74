"""Schema migrations from code: upgrade, downgrade, current and head, with no alembic.ini."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import build_engine

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# Any fixed bigint works; it only has to be the same in every worker of this application.
MIGRATION_LOCK_KEY = 0x6F75_7472_6561_6368  # "outreach"

T = TypeVar("T")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing at storage/migrations; `url` reaches env.py via attributes."""
    config = Config()
    # ConfigParser interpolates "%", so a path that contains one must be escaped.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.attributes["url"] = url
    return config


def head() -> str:
    """The newest revision shipped with the code."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return revision


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database to `revision` (runs its own event loop: not for use inside one)."""
    asyncio.run(upgrade_async(url, revision))


def downgrade(url: str, revision: str) -> None:
    """Downgrade the database to `revision` ("base" drops everything)."""
    asyncio.run(downgrade_async(url, revision))


def current(url: str) -> str | None:
    """The revision the database is at, or None for an empty database."""
    return asyncio.run(current_async(url))


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Upgrade from inside a running event loop."""
    config = alembic_config(url)
    await run_with_connection(url, lambda conn: _run_command(conn, config, command.upgrade, revision))


async def downgrade_async(url: str, revision: str) -> None:
    """Downgrade from inside a running event loop."""
    config = alembic_config(url)
    await run_with_connection(url, lambda conn: _run_command(conn, config, command.downgrade, revision))


async def current_async(url: str) -> str | None:
    """The current revision, from inside a running event loop."""
    return await run_with_connection(url, _current_revision, lock=False)


async def run_with_connection(url: str, fn: Callable[[Connection], T], *, lock: bool = True) -> T:
    """Open one connection and call `fn` on its sync face, holding the migration lock if asked."""
    engine = build_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            if not lock:
                return await connection.run_sync(fn)
            async with _migration_lock(connection):
                return await connection.run_sync(fn)
    finally:
        await engine.dispose()


@asynccontextmanager
async def _migration_lock(connection: AsyncConnection) -> AsyncIterator[None]:
    """On PostgreSQL, let one worker migrate at a time; the others wait, then find nothing to do."""
    if connection.dialect.name != "postgresql":
        yield  # SQLite: the bot is one process, and SQLite locks the file for each write anyway
        return
    await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    # A session-level lock outlives this commit, which leaves Alembic free to run its own transaction.
    await connection.commit()
    try:
        yield
    finally:
        await connection.rollback()  # a failed migration has already rolled back; this is a no-op then
        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.commit()


def _run_command(connection: Connection, config: Config, action: Callable[..., None], revision: str) -> None:
    """Run an Alembic command on the given connection (env.py picks it up from the attributes)."""
    config.attributes["connection"] = connection
    action(config, revision)


def _current_revision(connection: Connection) -> str | None:
    """Read alembic_version through a MigrationContext."""
    return MigrationContext.configure(connection).get_current_revision()
