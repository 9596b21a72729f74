"""Background jobs of the bot process: periodic tasks that stop cleanly with the bot.

start_background ──► every hour: draft reminders, HR news held for households (notices)
                 ├─► every day: retention (expired drafts, closed records)
                 ├─► the delivery worker (digests to county HR, through services.digests)
                 └─► the 1/20 November progress-table reminders to HR chats (likewise)

Channel-neutral: the channels a process serves register their senders on `services` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.drafts import remind_drafts
from bot.core.services import Services
from bot.core.settings import Settings
from storage.repositories.retention import purge

log = logging.getLogger(__name__)
HOUR = 3600.0
DAY = 24 * HOUR


async def every(seconds: float, job: Callable[[], Awaitable[Any]], stop: asyncio.Event, name: str) -> None:
    """Run `job` every `seconds` until `stop` is set; a failing run is logged, not fatal.

    The first run comes after one interval, not at start-up: a bot restarted in a loop must not
    turn into a loop of reminders and purges.
    """
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        if stop.is_set():
            return
        try:
            await job()
        except Exception:  # one bad run must not end the schedule
            log.exception("background job %s failed", name)


def start_background(services: Services, settings: Settings, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Start the periodic jobs and the delivery worker; they end when `stop` is set."""
    from bot.features.delivery.worker import run_delivery
    from bot.features.hr.notices import retry_waiting
    from bot.features.hr.reminders import run_reminders

    async def drafts() -> None:
        await remind_drafts(services, now=dt.datetime.now(dt.UTC))

    async def held_notices() -> None:
        async with services.database.session() as session:
            await retry_waiting(services.outbound, session)

    async def retention() -> None:
        async with services.database.session() as session:
            await purge(
                session=session,
                now=dt.datetime.now(dt.UTC),
                draft_days=settings.draft_expiry_days,
                closed_days=settings.closed_retention_days,
            )

    return [
        asyncio.create_task(every(HOUR, drafts, stop, "draft reminders"), name="draft reminders"),
        asyncio.create_task(every(HOUR, held_notices, stop, "household notices"), name="household notices"),
        asyncio.create_task(every(DAY, retention, stop, "retention"), name="retention"),
        asyncio.create_task(run_delivery(settings, services.digests, stop=stop), name="delivery"),
        asyncio.create_task(
            run_reminders(settings, services.digests, stop=stop), name="progress table reminders"
        ),
    ]


async def stop_background(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """Ask the jobs to stop and wait for them."""
    stop.set()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
