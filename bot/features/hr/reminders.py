"""Reminders to HR chats about 《技能脱贫千校行动进展情况表》, due to the province before the end of November.

On 1 November the first reminder is due, on 20 November the second (each through the rest of the
month, so a bot that was down that day catches up). Every HR chat (an active hr_destination) gets
each reminder once: a row in hr_reminder is claimed before sending, so a restart or a second worker
never sends it again; a send that fails for a reason that may pass (network, flood limit) gives the
claim back for the next run.

`run_reminders` is the job the scheduler starts. It first fills the masks of records stored before
migration 0006 (storage.repositories.masks), which needs DATA_KEY and so cannot be a migration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from bot.features.hr.tables import CHINA
from content.i18n import Translator
from dialogs.model import DEFAULT_LANGUAGE
from storage.crypto import Cipher
from storage.db import Database
from storage.repositories import masks
from storage.repositories.hr_destinations import list_destinations
from storage.repositories.reports import claim_reminder, release_reminder

log = logging.getLogger(__name__)
# (month, day, catalog key): the reminders of a year, in order.
SCHEDULE = ((11, 1, "hr.reminder.first"), (11, 20, "hr.reminder.final"))
CHECK_SECONDS = 900.0
PASSING = (TelegramNetworkError, TelegramRetryAfter, TelegramServerError)  # worth trying again later


@dataclass(frozen=True)
class Reminder:
    """One reminder of one year."""

    key: str  # stored per chat once sent, e.g. "progress-2026-11-01"
    message: str  # catalog key
    year: int


def due_reminders(today: date) -> list[Reminder]:
    """The reminder due on `today` (a date in China): the latest one of this month whose day has come."""
    due = [entry for entry in SCHEDULE if (today.month, today.day) >= entry[:2] and today.month == entry[0]]
    if not due:
        return []
    month, day, message = due[-1]
    return [Reminder(f"progress-{today.year}-{month:02d}-{day:02d}", message, today.year)]


def china_today(now: datetime | None = None) -> date:
    """Today's date in China."""
    return (now or datetime.now(UTC)).astimezone(CHINA).date()


async def send_reminders(database: Database, bot: Bot, *, today: date, now: datetime) -> int:
    """Send the due reminders to every HR chat that has not had them; the number sent."""
    sent = 0
    for reminder in due_reminders(today):
        async with database.session() as session:
            chats = sorted({row.destination.chat_id for row in await list_destinations(session=session)})
            for chat_id in chats:
                sent += await _send_one(session, bot, reminder, chat_id, now)
    return sent


async def _send_one(session: Any, bot: Bot, reminder: Reminder, chat_id: int, now: datetime) -> int:
    """Claim and send one reminder to one chat; 1 when it was sent now."""
    if not await claim_reminder(session=session, reminder=reminder.key, chat_id=chat_id, now=now):
        return 0
    text = Translator(DEFAULT_LANGUAGE).text(reminder.message, {"year": reminder.year})
    try:
        await bot.send_message(chat_id, text)
    except PASSING as error:
        log.warning("reminder %s to chat %s failed, will retry: %s", reminder.key, chat_id, error)
        await release_reminder(session=session, reminder=reminder.key, chat_id=chat_id)
        return 0
    except TelegramAPIError as error:  # the chat is gone or refuses the bot: retrying cannot help
        log.warning("reminder %s to chat %s refused: %s", reminder.key, chat_id, error)
        return 0
    return 1


async def run_reminders(settings: Any, bot: Bot, *, stop: asyncio.Event) -> None:
    """Fill missing masks once, then check for due reminders every CHECK_SECONDS until `stop` is set."""
    database = Database.from_url(settings.db_url)
    try:
        await _fill_masks(database, settings)
        while not stop.is_set():
            try:
                now = datetime.now(UTC)
                await send_reminders(database, bot, today=china_today(now), now=now)
            except Exception:  # one bad run must not end the job
                log.exception("HR reminders failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHECK_SECONDS)
    finally:
        await database.dispose()


async def _fill_masks(database: Database, settings: Any) -> None:
    """Masks for records stored before they were kept (logged, never fatal)."""
    try:
        async with database.session() as session:
            filled = await masks.fill_missing(
                session=session, cipher=Cipher.from_secret(settings.cipher_secrets())
            )
    except Exception:  # the reminders must still run
        log.exception("could not fill the masks of older records")
        return
    if filled:
        log.info("filled the masks of %s older rows", filled)
