"""The async SQLAlchemy engine and sessions for the ORM side of storage (users, later HR data)."""

from __future__ import annotations

from functools import partial
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.urls import DatabaseUrl, parse_url

SQLITE_BUSY_TIMEOUT_MS = 5000


def build_engine(url: str, **engine_kwargs: Any) -> AsyncEngine:
    """An async engine for a plain URL; SQLite connections get WAL and the other pragmas.

    Bound parameters (names, numbers) never reach logs or exception text: hide_parameters.
    """
    parsed = parse_url(url)
    engine_kwargs.setdefault("hide_parameters", True)
    if parsed.is_sqlite:
        engine = create_async_engine(parsed.async_url, **engine_kwargs)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_async_engine(parsed.async_url, async_creator=_asyncpg_creator(parsed), **engine_kwargs)


def _asyncpg_creator(parsed: DatabaseUrl) -> Any:
    """Connect with the full DSN so query parameters (sslmode, search_path, ...) reach asyncpg."""
    return partial(asyncpg.connect, parsed.asyncpg_dsn)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; NORMAL sync is safe with WAL and much faster."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


class Database:
    """An async engine plus a session factory; nothing connects until a session is used."""

    def __init__(self, async_engine: AsyncEngine) -> None:
        """Wrap an engine; prefer `Database.from_url`."""
        self.async_engine = async_engine
        self.sessionmaker = async_sessionmaker(async_engine, class_=AsyncSession, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, **engine_kwargs: Any) -> Database:
        """A Database for a plain `sqlite:///` or `postgresql://` URL."""
        return cls(build_engine(url, **engine_kwargs))

    @property
    def is_sqlite(self) -> bool:
        """An embedded SQLite file: one process serves it (several need PostgreSQL)."""
        return self.async_engine.dialect.name == "sqlite"

    def session(self) -> AsyncSession:
        """A new session (use as `async with db.session() as session:`)."""
        return self.sessionmaker()

    async def dispose(self) -> None:
        """Close the pooled connections."""
        await self.async_engine.dispose()
