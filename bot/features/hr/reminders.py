"""Reminders to HR chats about 《技能脱贫千校行动进展情况表》, due to the province before the end of November.

On 1 November the first reminder is due, on 20 November the second (each through the rest of the
month, so a bot that was down that day catches up). Every HR chat (an active hr_destination) gets
each reminder once: a row in hr_reminder (per chat key) is claimed before sending, so a restart or
a second worker never sends it again; a send that fails for a reason that may pass (network, flood
limit: the channel's retries ran out) gives the claim back for the next run. Reminders go through
the chat's DigestChannel (bot.features.delivery.channel), whatever its channel; chats of channels
this process does not serve are left for a process that does.

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

from bot.features.delivery.channel import DeliveryError, DigestChannels, Unreachable
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


async def send_reminders(database: Database, channels: DigestChannels, *, today: date, now: datetime) -> int:
    """Send the due reminders to every HR chat served here that has not had them; the number sent."""
    sent = 0
    for reminder in due_reminders(today):
        async with database.session() as session:
            chats = sorted({row.destination.chat_key for row in await list_destinations(session=session)})
            for chat_key in chats:
                if channels.for_key(chat_key) is not None:
                    sent += await _send_one(session, channels, reminder, chat_key, now)
    return sent


async def _send_one(
    session: Any, channels: DigestChannels, reminder: Reminder, chat_key: str, now: datetime
) -> int:
    """Claim and send one reminder to one chat; 1 when it was sent now."""
    channel = channels.for_key(chat_key)
    if channel is None or not await claim_reminder(
        session=session, reminder=reminder.key, chat_key=chat_key, now=now
    ):
        return 0
    text = Translator(DEFAULT_LANGUAGE).text(reminder.message, {"year": reminder.year})
    try:
        await channel.send_text(chat_key, text)
    except Unreachable as error:
        log.warning("reminder %s to chat %s failed, will retry: %s", reminder.key, chat_key, error)
        await release_reminder(session=session, reminder=reminder.key, chat_key=chat_key)
        return 0
    except DeliveryError as error:  # the chat is gone or refuses the bot: retrying cannot help
        log.warning("reminder %s to chat %s refused: %s", reminder.key, chat_key, error)
        return 0
    return 1


async def run_reminders(settings: Any, channels: DigestChannels, *, stop: asyncio.Event) -> None:
    """Fill missing masks once, then check for due reminders every CHECK_SECONDS until `stop` is set."""
    database = Database.from_url(settings.db_url)
    try:
        await _fill_masks(database, settings)
        while not stop.is_set():
            try:
                now = datetime.now(UTC)
                await send_reminders(database, channels, today=china_today(now), now=now)
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
