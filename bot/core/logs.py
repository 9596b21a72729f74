"""Logging set-up: no personal data in the logs at any level (SECURITY.md).

- Every record is scrubbed when it is made (a record factory, so every handler, tests' too, sees
  the scrubbed text): resident IDs, mobile numbers and pydantic's echo of the input are removed
  from the message and from the exception's text.
- The SQL engines hide bound parameters (storage.db: hide_parameters=True).
- Drivers and libraries stay at INFO or above even with LOG_LEVEL=DEBUG: at DEBUG they log
  result rows (names), query arguments and whole updates. SQLAlchemy stays at WARNING (set
  `sqlalchemy.engine` to INFO by hand to see statements; their parameters stay hidden).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from storage.redact import redact

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# At DEBUG these log rows, arguments or whole updates.
CHATTY = ("aiosqlite", "asyncpg", "aiogram", "aiohttp", "urllib3", "httpx", "asyncio")
# A line per migration, per update; SQLAlchemy's INFO is every statement and mapper (its own default).
QUIET = {"alembic": logging.WARNING, "aiogram.event": logging.WARNING, "sqlalchemy": logging.WARNING}


def configure(level: str, handler: logging.Handler | None = None) -> None:
    """The root handler (stderr, or the one given) at `level`, scrubbing on, libraries at INFO or above."""
    logging.basicConfig(level=level.upper(), format=FORMAT, handlers=[handler] if handler else None)
    install_scrubbing()
    floor = max(logging.INFO, logging.getLogger().getEffectiveLevel())
    for name in CHATTY:
        logging.getLogger(name).setLevel(floor)
    for name, floor in QUIET.items():
        logging.getLogger(name).setLevel(floor)


def install_scrubbing() -> None:
    """Make every new log record scrubbed (once per process)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "scrubs", False):
        return

    def scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(factory(*args, **kwargs))

    scrubbing_factory.scrubs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(scrubbing_factory)


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message and exception text redacted (the arguments merged in first)."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record
