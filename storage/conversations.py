"""The dialog-state hot path: load and save one conversation per update, in plain SQL without the ORM.

Usage, the same for both backends:

    async with store.open(key) as slot:
        state = slot.state            # stored JSON, or None for a new key
        slot.save(new_json, update_id)  # written on exit; without it nothing is written

Updates of one key run one at a time, in arrival order, within the process (per-key asyncio
locks). PostgreSQL also serializes them across processes with a row lock; SQLite does not,
as the bot runs as a single process on SQLite.

Writes to the same database that happen while a slot is open (the ORM's, in effects) go inside
`async with slot.side_writes():`. On SQLite that block and this store's own writes take turns
in arrival order, so neither starves the other; on PostgreSQL at most ORM_WRITERS such blocks
run at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self

import asyncpg

from storage.keyed_locks import KeyedLocks
from storage.urls import MEMORY, parse_url

BUSY_TIMEOUT_S = 5.0
# A row deleted between our SELECT and our INSERT (another process) sends us round again; more
# than a few rounds means something else is wrong.
CLAIM_ATTEMPTS = 5
# SQLAlchemy's default pool_size, which storage.db keeps: more ORM sessions at once make it open
# overflow connections (each a new PostgreSQL backend) and close them again on return.
ORM_WRITERS = 5
_MIGRATE_HINT = "run the migrations first (storage.migrate.upgrade)"

# "key" is a non-reserved word in SQLite and PostgreSQL; the same text runs on both apart from
# the placeholders. A save without an update id keeps the last one seen.
_SQLITE_SELECT = "SELECT state, last_update_id, updated_at FROM conversation WHERE key = ?"
_SQLITE_UPSERT = (
    "INSERT INTO conversation (key, state, updated_at, last_update_id) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, "
    "last_update_id = COALESCE(excluded.last_update_id, conversation.last_update_id)"
)
_SQLITE_DELETE = "DELETE FROM conversation WHERE key = ?"

# The placeholder row is only ever seen by its own transaction: it is overwritten before COMMIT
# or removed by ROLLBACK.
_PG_CLAIM = (
    "INSERT INTO conversation (key, state, updated_at) VALUES ($1, '', 0) "
    "ON CONFLICT (key) DO NOTHING RETURNING true"
)
_PG_LOCK = "SELECT state, last_update_id, updated_at FROM conversation WHERE key = $1 FOR UPDATE"
_PG_UPDATE = (
    "UPDATE conversation SET state = $2, updated_at = $3, "
    "last_update_id = COALESCE($4, last_update_id) WHERE key = $1"
)
_PG_DELETE = "DELETE FROM conversation WHERE key = $1"
_CHECK_TABLE = "SELECT key FROM conversation LIMIT 0"


@dataclass(eq=False)
class Slot:
    """One conversation while it is open: what was stored, and what to write on exit."""

    key: str
    state: str | None
    last_update_id: int | None
    updated_at: float | None = None  # epoch seconds of the last save
    pending: tuple[str, int | None] | None = field(default=None, repr=False)
    side_writes: Callable[[], AbstractAsyncContextManager[None]] = field(default=nullcontext, repr=False)

    def save(self, state_json: str, update_id: int | None = None) -> None:
        """Mark `state_json` to be written when the block exits without an exception."""
        if not isinstance(state_json, str):
            raise TypeError(f"state_json must be a str of JSON, not {type(state_json).__name__}")
        self.pending = (state_json, update_id)


class ConversationStore(Protocol):
    """What the bot needs from either backend."""

    locks: KeyedLocks

    async def start(self) -> None:
        """Connect."""

    async def close(self) -> None:
        """Disconnect."""

    def open(self, key: str) -> AbstractAsyncContextManager[Slot]:
        """Load `key` and hold it until the block exits."""
        ...

    async def delete(self, key: str) -> None:
        """Forget `key`."""


class _Lifecycle:
    """`async with store:` as a shortcut for start() and close()."""

    async def start(self) -> None:
        """Connect."""
        raise NotImplementedError

    async def close(self) -> None:
        """Disconnect."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        """Start the store."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the store."""
        await self.close()


# ---------------------------------------------------------------- SQLite


class SqliteConversations(_Lifecycle):
    """Conversations in a SQLite file, through one stdlib connection used on the event loop thread."""

    def __init__(self, path: str | Path) -> None:
        """Remember the path; `start()` connects."""
        if str(path) == MEMORY:
            raise ValueError("SqliteConversations needs a migrated file, not :memory:")
        self.path = Path(path)
        self.locks = KeyedLocks()
        # SQLite has one writer at a time. The ORM holds that lock from its INSERT to its COMMIT,
        # across turns of this loop; our writer, retrying with sleeps, would lose every race to
        # the ORM's threads and time out under a burst of first contacts. Taking turns here is
        # first come, first served.
        self._write_turn = asyncio.Lock()
        self._connection: sqlite3.Connection | None = None

    async def start(self) -> None:
        """Open the file (it must exist and be migrated) and set WAL."""
        if not self.path.exists():
            raise FileNotFoundError(f"no SQLite database at {self.path}: {_MIGRATE_HINT}")
        # Autocommit (isolation_level=None): each statement commits at once and no transaction
        # spans an await. timeout=0: a busy file is retried in _execute without blocking the loop.
        self._connection = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 0"):
            await self._execute(f"PRAGMA {pragma}")
        try:
            await self._execute(_CHECK_TABLE)
        except sqlite3.OperationalError as error:
            await self.close()
            raise RuntimeError(f"{self.path} has no conversation table: {_MIGRATE_HINT}") from error

    async def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @asynccontextmanager
    async def open(self, key: str) -> AsyncIterator[Slot]:
        """Load `key`, hold its lock during the block, and write the saved state on exit."""
        async with self.locks.hold(key):
            row = (await self._execute(_SQLITE_SELECT, (key,))).fetchone()
            slot = Slot(key, *(row or (None, None, None)), side_writes=self.side_writes)
            yield slot
            if slot.pending is not None:
                state, update_id = slot.pending
                async with self._write_turn:
                    await self._execute(_SQLITE_UPSERT, (key, state, time.time(), update_id))

    def side_writes(self) -> AbstractAsyncContextManager[None]:
        """Hold this process's write turn while writing to the same file through another connection."""
        return self._write_turn

    async def delete(self, key: str) -> None:
        """Forget `key` (waits for an open block on it to finish)."""
        async with self.locks.hold(key), self._write_turn:
            await self._execute(_SQLITE_DELETE, (key,))

    async def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one statement; while another connection writes, retry with asyncio.sleep for 5 s.

        SQLite's own busy_timeout would sleep inside the call and freeze the event loop, and the
        writer it waits for may be a coroutine on this very loop (the ORM session between its
        INSERT and COMMIT): then nothing moves until the timeout expires.
        """
        connection = self._require_connection()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_TIMEOUT_S
        delay = 0.0005
        while True:
            try:
                return connection.execute(sql, params)
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _require_connection(self) -> sqlite3.Connection:
        """The open connection, or a clear error before start()."""
        if self._connection is None:
            raise RuntimeError("SqliteConversations is not started: await store.start() first")
        return self._connection


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """True when SQLite says another connection holds the lock (SQLITE_BUSY or an extended code)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


# ---------------------------------------------------------------- PostgreSQL


class _NothingSaved(Exception):
    """Raised inside the transaction to leave it by ROLLBACK when the caller saved nothing."""


class PostgresConversations(_Lifecycle):
    """Conversations in PostgreSQL through an asyncpg pool; a row lock serializes each key."""

    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 10) -> None:
        """Remember the DSN and pool size; `start()` connects."""
        self.dsn = dsn
        self.min_size = min_size
        self.max_size = max_size
        # In-process locks in front of the row lock: without them, many updates of one key would
        # each take a pooled connection only to wait on the row, starving every other key.
        self.locks = KeyedLocks()
        self._orm_writers = asyncio.Semaphore(ORM_WRITERS)
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        """Create the pool and check that the table exists."""
        self._pool = await asyncpg.create_pool(self.dsn, min_size=self.min_size, max_size=self.max_size)
        try:
            await self._pool.execute(_CHECK_TABLE)
        except asyncpg.UndefinedTableError as error:
            await self.close()
            raise RuntimeError(f"the database has no conversation table: {_MIGRATE_HINT}") from error

    async def close(self) -> None:
        """Close the pool (waits for borrowed connections to come back)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @asynccontextmanager
    async def open(self, key: str) -> AsyncIterator[Slot]:
        """Lock the row of `key` in a transaction; commit the saved state, or roll back."""
        async with self.locks.hold(key), self._require_pool().acquire() as connection:
            try:
                async with connection.transaction():
                    slot = await _lock_row(connection, key, self.side_writes)
                    yield slot
                    if slot.pending is None:
                        raise _NothingSaved
                    state, update_id = slot.pending
                    await connection.execute(_PG_UPDATE, key, state, time.time(), update_id)
            except _NothingSaved:
                pass

    def side_writes(self) -> AbstractAsyncContextManager[None]:
        """Hold one of the ORM_WRITERS places while writing through the ORM."""
        return self._orm_writers

    async def delete(self, key: str) -> None:
        """Forget `key` (waits for an open block on it to finish)."""
        async with self.locks.hold(key):
            await self._require_pool().execute(_PG_DELETE, key)

    def _require_pool(self) -> asyncpg.Pool:
        """The pool, or a clear error before start()."""
        if self._pool is None:
            raise RuntimeError("PostgresConversations is not started: await store.start() first")
        return self._pool


async def _lock_row(
    connection: asyncpg.Connection, key: str, side_writes: Callable[[], AbstractAsyncContextManager[None]]
) -> Slot:
    """Lock the row of `key`; a new key gets an uncommitted placeholder row, locked as well."""
    # Lock first: the row exists for every update but a user's first, so that is one round trip.
    for _ in range(CLAIM_ATTEMPTS):
        row = await connection.fetchrow(_PG_LOCK, key)
        if row is not None:
            return Slot(key, row["state"], row["last_update_id"], row["updated_at"], side_writes=side_writes)
        # Another process may be inserting the same key: the INSERT waits for its transaction,
        # then claims the key (it rolled back) or does nothing (it committed: lock that row).
        if await connection.fetchval(_PG_CLAIM, key):
            return Slot(key, None, None, side_writes=side_writes)
    raise RuntimeError(f"could not lock conversation {key!r}: it kept being deleted")


# ---------------------------------------------------------------- choosing


def open_conversations(url: str) -> SqliteConversations | PostgresConversations:
    """The store for a plain database URL (not started: `await store.start()` or `async with`)."""
    parsed = parse_url(url)
    if parsed.sqlite_path is not None:
        return SqliteConversations(parsed.sqlite_path)
    assert parsed.asyncpg_dsn is not None
    return PostgresConversations(parsed.asyncpg_dsn)
