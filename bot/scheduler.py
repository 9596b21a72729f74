"""Background jobs of the bot process: periodic tasks that stop cleanly with the bot.

    start_background ──► every hour: draft reminders
                    (──► the delivery worker, HR reminders and retention join here)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.drafts import remind_drafts, telegram_sender
from bot.services import Services

log = logging.getLogger(__name__)
HOUR = 3600.0


async def every(seconds: float, job: Callable[[], Awaitable[Any]], stop: asyncio.Event, name: str) -> None:
    """Run `job` now and then every `seconds` until `stop` is set; a failing run is logged, not fatal."""
    while not stop.is_set():
        try:
            await job()
        except Exception:  # one bad run must not end the schedule
            log.exception("background job %s failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


def start_background(services: Services, bot: Any, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Start the periodic jobs; they end when `stop` is set."""
    send = telegram_sender(bot)

    async def drafts() -> None:
        await remind_drafts(services, send, now=dt.datetime.now(dt.UTC))

    return [asyncio.create_task(every(HOUR, drafts, stop, "draft reminders"), name="draft reminders")]


async def stop_background(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """Ask the jobs to stop and wait for them."""
    stop.set()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
