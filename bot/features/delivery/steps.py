"""The steps of one digest (placeholder, edit, mark, attachments), each recorded before the next.

bot/delivery/worker.py's docstring explains why this order makes every record arrive exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.types import BufferedInputFile

from bot.features.delivery import digest as fmt
from bot.features.delivery.ratelimit import RateLimiter
from bot.features.delivery.sender import DeliveryError, Moved, Rejected, RetryPolicy, call
from content.i18n import Translator
from storage.db import Database
from storage.models import utc_now
from storage.models_delivery import DONE, EDITED, PLACED, PLANNED, DeliveryDigest, HrDestination
from storage.repositories import delivery as work
from storage.repositories import hr_destinations as destinations

log = logging.getLogger(__name__)
T = TypeVar("T")
HR_LANGUAGE = "zh_Hans"  # county HR offices read Chinese
# Step boundaries, in order; the fault-injection hook is called with each name.
STEPS = (
    "planned", "placeholder_sent", "placeholder_saved", "edited", "marked",
    "document_sent", "document_saved", "chart_sent", "chart_saved",
)  # fmt: skip
MAX_TRANSITIONS = 6  # a digest needs at most 4; more means its placeholder keeps disappearing


class LeaseLost(Exception):
    """Another worker took the destination over (our lease ran out)."""


@dataclass(frozen=True)
class Job:
    """Where one digest stands, as this worker knows it."""

    id: int
    number: int
    status: str
    text: str
    message_id: int | None
    document_message_id: int | None
    chart_message_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, row: DeliveryDigest) -> Job:
        """The job of a stored digest."""
        assert row.id is not None
        return cls(row.id, row.number, row.status, row.text, row.message_id, row.document_message_id,
                   row.chart_message_id, row.created_at)  # fmt: skip


@dataclass
class Steps:
    """What the steps need: the database, the bot, the pacing, the worker's identity."""

    database: Database
    bot: Bot
    limiter: RateLimiter
    policy: RetryPolicy
    worker_id: str
    lease_seconds: float
    hook: Callable[[str], None] | None = None  # fault injection: may raise at a step boundary

    async def finish(self, destination: HrDestination, job: Job) -> None:
        """Take a digest from wherever it stopped to done."""
        for _ in range(MAX_TRANSITIONS):
            if job.status == PLANNED:
                job = await self._place(destination, job)
            elif job.status == PLACED:
                job = await self._edit(destination, job)
            elif job.status == EDITED:
                job = await self._attach(destination, job)
            else:
                return

    async def _place(self, destination: HrDestination, job: Job) -> Job:
        """Send the placeholder and save its id (or adopt the id another worker saved first)."""
        placeholder = fmt.placeholder_text(Translator(HR_LANGUAGE), job.number)
        sent = await self.send(destination, lambda chat, timeout: self.bot.send_message(
            chat_id=chat, text=placeholder, request_timeout=timeout))  # fmt: skip
        self.step("placeholder_sent")
        if not await self.db(work.save_placeholder, digest_id=job.id, message_id=sent.message_id):
            await self._delete_quietly(destination.chat_id, sent.message_id)
            return Job.of(await self.db(get_digest, digest_id=job.id))
        self.step("placeholder_saved")
        return replace(job, status=PLACED, message_id=sent.message_id)

    async def _edit(self, destination: HrDestination, job: Job) -> Job:
        """Put the content into the placeholder, then mark its records delivered."""
        message_id = job.message_id or 0
        await self.db(work.count_attempt, digest_id=job.id)
        try:
            await self.send(destination, lambda chat, timeout: self.bot.edit_message_text(
                text=job.text, chat_id=chat, message_id=message_id, request_timeout=timeout))  # fmt: skip
        except Rejected as error:
            if error.message_gone:  # someone deleted the placeholder before it held anything we know of
                await self.db(work.forget_placeholder, digest_id=job.id, message_id=message_id)
                return replace(job, status=PLANNED, message_id=None)
            if not error.not_modified:  # "not modified": an earlier edit went through
                raise
        self.step("edited")
        await self.db(work.mark_delivered, digest_id=job.id, message_id=message_id, now=utc_now())
        self.step("marked")
        return replace(job, status=EDITED)

    async def _attach(self, destination: HrDestination, job: Job) -> Job:
        """Send the spreadsheet and the chart not recorded yet, then close the digest."""
        entries = [fmt.entry(payload) for payload in await self.db(work.digest_payloads, digest_id=job.id)]
        names = await self.names(destination.county_code, entries)
        t = Translator(HR_LANGUAGE)
        heading = fmt.Heading(job.number, destination.county_code, job.created_at)
        if job.document_message_id is None:
            document = BufferedInputFile(fmt.xlsx_bytes(t, entries, names), fmt.file_name(t, heading))
            caption = t.text("delivery.xlsx_caption", {"number": job.number})
            await self._attachment(destination, job, "document", self.bot.send_document, document, caption)
        if job.chart_message_id is None:
            photo = BufferedInputFile(fmt.chart_png(t, heading, entries, names), "chart.png")
            caption = t.text("delivery.chart_caption", {"number": job.number})
            await self._attachment(destination, job, "chart", self.bot.send_photo, photo, caption)
        await self.db(work.finish_digest, digest_id=job.id, now=utc_now())
        return replace(job, status=DONE)

    async def _attachment(
        self, destination: HrDestination, job: Job, name: str, method: Any, file: Any, caption: str
    ) -> None:
        """Send one attachment and record it at once; once recorded it is never sent again."""
        sent = await self.send(destination, lambda chat, timeout: method(
            chat, file, caption=caption, request_timeout=timeout))  # fmt: skip
        self.step(f"{name}_sent")
        column = f"{name}_message_id"
        await self.db(work.save_attachment, digest_id=job.id, column=column, message_id=sent.message_id)
        self.step(f"{name}_saved")

    # ------------------------------------------------------------ Telegram

    async def send(self, destination: HrDestination, make: Callable[[int, int], Awaitable[T]]) -> T:
        """One call to the destination's chat, paced and retried; follows a group that moved."""

        async def attempt(timeout: float) -> T:
            """One try, made only while this worker still holds the destination."""
            await self._renew(destination)
            return await make(destination.chat_id, max(1, round(timeout)))

        try:
            return await call(attempt, chat_id=destination.chat_id, limiter=self.limiter, policy=self.policy)
        except Moved as moved:
            await self.db(destinations.move_chat, destination_id=destination.id, chat_id=moved.chat_id)
            destination.chat_id = moved.chat_id
            return await call(attempt, chat_id=destination.chat_id, limiter=self.limiter, policy=self.policy)

    async def tell(self, chat_id: int, message: str) -> None:
        """A plain message to a chat (an admin's), paced and retried."""
        await call(lambda timeout: self.bot.send_message(chat_id=chat_id, text=message,
                   request_timeout=max(1, round(timeout))),
                   chat_id=chat_id, limiter=self.limiter, policy=self.policy)  # fmt: skip

    async def _renew(self, destination: HrDestination) -> None:
        """Extend the lease before each call; stop if another worker has the destination now."""
        until = time.time() + self.lease_seconds
        if not await self.db(work.renew, destination_id=destination.id, worker=self.worker_id, until=until):
            raise LeaseLost(str(destination.id))

    async def _delete_quietly(self, chat_id: int, message_id: int) -> None:
        """Remove our own stray placeholder; leaving it is harmless, so errors are only logged."""
        try:
            await call(lambda timeout: self.bot.delete_message(chat_id, message_id,
                       request_timeout=max(1, round(timeout))),
                       chat_id=chat_id, limiter=self.limiter, policy=self.policy)  # fmt: skip
        except DeliveryError as error:
            log.info("stray placeholder %s in chat %s stays: %s", message_id, chat_id, error)

    # ------------------------------------------------------------ plumbing

    async def names(self, county: str, entries: list[fmt.Entry]) -> dict[str, str]:
        """Names of the county, townships and villages a digest mentions."""
        codes = {county} | {e.township for e in entries} | {e.village for e in entries}
        return await self.db(destinations.area_names, codes=codes)

    async def db(self, query: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        """Run one repository function in its own session."""
        async with self.database.session() as session:
            return await query(session=session, **kwargs)

    def step(self, name: str) -> None:
        """A step boundary: where the fault-injection hook may simulate a crash."""
        if self.hook is not None:
            self.hook(name)


async def get_digest(*, session: Any, digest_id: int) -> DeliveryDigest:
    """A digest row by id."""
    found = await session.get(DeliveryDigest, digest_id)
    if found is None:
        raise LookupError(f"no digest {digest_id}")
    return found
