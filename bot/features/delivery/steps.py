"""The steps of one digest, each recorded before the next, through the destination's DigestChannel.

With edit (Telegram): placeholder, edit, mark, attachments. Without edit (WeCom): the content once
with its dedupe key, mark, attachments. bot/features/delivery/worker.py's docstring explains why
either order makes every record arrive exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from bot.features.delivery import digest as fmt
from bot.features.delivery.channel import (
    DeliveryError,
    DigestChannel,
    DigestChannels,
    Moved,
    Rejected,
    Unreachable,
)
from content.i18n import Translator
from storage.db import Database
from storage.models import utc_now
from storage.models_delivery import DONE, EDITED, PLACED, PLANNED, DeliveryDigest, HrDestination
from storage.repositories import delivery as work
from storage.repositories import hr_destinations as destinations

log = logging.getLogger(__name__)
T = TypeVar("T")
# A call of the protocol: (channel, address, before_try) -> result.
Call = Callable[[DigestChannel, str, Callable[[], Awaitable[None]]], Awaitable[T]]
HR_LANGUAGE = "zh_Hans"  # county HR offices read Chinese
# Step boundaries, in order; the fault-injection hook is called with each name.
STEPS = (
    "planned", "placeholder_sent", "placeholder_saved", "edited", "marked",
    "document_sent", "document_saved", "chart_sent", "chart_saved",
)  # fmt: skip
# The same for a channel without edit: the content is sent once, under its dedupe key.
STEPS_WITHOUT_EDIT = (
    "planned", "send_started", "content_sent", "marked", "document_sent", "document_saved", "chart_sent",
    "chart_saved",
)  # fmt: skip
# A retry this close to the end of the channel's dedupe window might come after it: the text then
# says it may be a repeat (see worker.py).
DEDUPE_MARGIN = 0.8
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
    message_id: str | None
    document_message_id: str | None
    chart_message_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: DeliveryDigest) -> Job:
        """The job of a stored digest."""
        assert row.id is not None
        return cls(row.id, row.number, row.status, row.text, row.message_id, row.document_message_id,
                   row.chart_message_id, row.created_at)  # fmt: skip


@dataclass
class Steps:
    """What the steps need: the database, the channels, the worker's identity."""

    database: Database
    channels: DigestChannels
    worker_id: str
    lease_seconds: float
    hook: Callable[[str], None] | None = None  # fault injection: may raise at a step boundary

    async def finish(self, destination: HrDestination, job: Job) -> None:
        """Take a digest from wherever it stopped to done."""
        channel = self.channel(destination)
        for _ in range(MAX_TRANSITIONS):
            if job.status == PLANNED and not channel.can_edit:
                job = await self._send_once(destination, channel, job)
            elif job.status == PLANNED:
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
        sent = await self.send(destination, lambda channel, address, guard: channel.send_text(
            address, placeholder, before_try=guard))  # fmt: skip
        self.step("placeholder_sent")
        if not await self.db(work.save_placeholder, digest_id=job.id, message_id=sent):
            await self._delete_quietly(destination, sent)
            return Job.of(await self.db(get_digest, digest_id=job.id))
        self.step("placeholder_saved")
        return replace(job, status=PLACED, message_id=sent)

    async def _edit(self, destination: HrDestination, job: Job) -> Job:
        """Put the content into the placeholder, then mark its records delivered."""
        message_id = job.message_id or ""
        await self.db(work.count_attempt, digest_id=job.id)
        try:
            await self.send(destination, lambda channel, address, guard: channel.edit_text(
                address, message_id, job.text, before_try=guard))  # fmt: skip
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

    async def _send_once(self, destination: HrDestination, channel: DigestChannel, job: Job) -> Job:
        """No edit: send the content itself under the digest's dedupe key, then mark its records."""
        first = await self.db(work.start_send, digest_id=job.id, now=time.time())
        self.step("send_started")
        text = job.text
        if time.time() - first > channel.dedupe_seconds * DEDUPE_MARGIN:  # the channel may have forgotten
            text = f"{Translator(HR_LANGUAGE).text('delivery.maybe_repeat', {'number': job.number})}\n{text}"
        await self.db(work.count_attempt, digest_id=job.id)
        sent = await self.send(destination, lambda channel, address, guard: channel.send_text(
            address, text, dedupe_key=f"digest-{job.id}", before_try=guard))  # fmt: skip
        self.step("content_sent")
        await self.db(work.mark_sent, digest_id=job.id, message_id=sent, now=utc_now())
        self.step("marked")
        return replace(job, status=EDITED, message_id=sent)

    async def _attach(self, destination: HrDestination, job: Job) -> Job:
        """Send the spreadsheet and the chart not recorded yet, then close the digest."""
        entries = [fmt.entry(payload) for payload in await self.db(work.digest_payloads, digest_id=job.id)]
        names = await self.names(destination.county_code, entries)
        t = Translator(HR_LANGUAGE)
        heading = fmt.Heading(job.number, destination.county_code, job.created_at)
        if job.document_message_id is None:
            data, name = fmt.xlsx_bytes(t, entries, names), fmt.file_name(t, heading)
            caption = t.text("delivery.xlsx_caption", {"number": job.number})
            await self._attachment(destination, job, "document", lambda ch, to, guard: ch.send_file(
                to, name, data, caption, before_try=guard))  # fmt: skip
        if job.chart_message_id is None:
            png = fmt.chart_png(t, heading, entries, names)
            caption = t.text("delivery.chart_caption", {"number": job.number})
            await self._attachment(destination, job, "chart", lambda ch, to, guard: ch.send_image(
                to, "chart.png", png, caption, before_try=guard))  # fmt: skip
        await self.db(work.finish_digest, digest_id=job.id, now=utc_now())
        return replace(job, status=DONE)

    async def _attachment(self, destination: HrDestination, job: Job, name: str, make: Call[str]) -> None:
        """Send one attachment and record it at once; once recorded it is never sent again."""
        sent = await self.send(destination, make)
        self.step(f"{name}_sent")
        column = f"{name}_message_id"
        await self.db(work.save_attachment, digest_id=job.id, column=column, message_id=sent)
        self.step(f"{name}_saved")

    # ------------------------------------------------------------ the channel

    def channel(self, destination: HrDestination) -> DigestChannel:
        """The destination's channel; Unreachable when this process does not serve it."""
        channel = self.channels.for_key(destination.chat_key)
        if channel is None:
            raise Unreachable(f"no channel for destination {destination.id} in this process")
        return channel

    async def send(self, destination: HrDestination, make: Call[T]) -> T:
        """One call to the destination's chat (the channel paces and retries); follows a chat that moved."""

        async def guard() -> None:
            """Before each try: only while this worker still holds the destination."""
            await self._renew(destination)

        try:
            return await make(self.channel(destination), destination.chat_key, guard)
        except Moved as moved:
            await self.db(destinations.move_chat, destination_id=destination.id, chat_key=moved.address)
            destination.chat_key = moved.address
            return await make(self.channel(destination), destination.chat_key, guard)

    async def tell(self, key: str, message: str) -> bool:
        """A plain message to a person or chat (an admin); False when no channel here reaches it."""
        channel = self.channels.for_key(key)
        if channel is None:
            return False
        await channel.send_text(key, message)
        return True

    async def _renew(self, destination: HrDestination) -> None:
        """Extend the lease before each call; stop if another worker has the destination now."""
        until = time.time() + self.lease_seconds
        if not await self.db(work.renew, destination_id=destination.id, worker=self.worker_id, until=until):
            raise LeaseLost(str(destination.id))

    async def _delete_quietly(self, destination: HrDestination, message_id: str) -> None:
        """Remove our own stray placeholder; leaving it is harmless, so errors are only logged."""
        try:
            await self.channel(destination).delete(destination.chat_key, message_id)
        except DeliveryError as error:
            log.info("stray placeholder %s of destination %s stays: %s", message_id, destination.id, error)

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
