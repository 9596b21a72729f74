"""Alembic environment: runs storage/migrations/versions on the URL or connection storage.migrate gives."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import schema  # noqa: F401 - registers every table on SQLModel.metadata
from storage.urls import parse_url

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    """The URL to migrate: from the Config (set by storage.migrate) or the DATABASE_URL variable."""
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: pass one to storage.migrate or set DATABASE_URL")
    return url


def configure_and_run(**options: object) -> None:
    """Configure the context and run the pending migrations in one transaction."""
    context.configure(target_metadata=target_metadata, compare_type=True, **options)
    with context.begin_transaction():
        context.run_migrations()


def run_on_connection(connection: Connection) -> None:
    """Run the migrations on a synchronous connection (inside `AsyncConnection.run_sync`)."""
    if connection.dialect.name != "sqlite":
        configure_and_run(connection=connection)
        return
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead. Rebuilding a
    # table others refer to (DROP TABLE) fails while foreign keys are enforced, and the pragma can
    # only change outside a transaction: off before, checked and on again after.
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    connection.commit()  # end SQLAlchemy's autobegun transaction: Alembic then commits its own
    try:
        configure_and_run(connection=connection, render_as_batch=True)
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left {len(broken)} rows with broken foreign keys")
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()


def run_offline() -> None:
    """Emit the SQL instead of running it (`alembic upgrade --sql`)."""
    parsed = parse_url(database_url())
    configure_and_run(url=parsed.async_url, literal_binds=True, render_as_batch=parsed.is_sqlite)


def run_online() -> None:
    """Use the caller's connection, or open one (with the PostgreSQL migration lock) on our own loop."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on_connection(connection)
        return
    from storage.migrate import run_with_connection  # here: storage.migrate loads this file

    asyncio.run(run_with_connection(database_url(), run_on_connection, lock=True))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
