"""The delivery worker: county HR offices get their new records as digests, each record exactly once.

Records reach the outbox in the transaction that stores them. The worker routes each outbox entry
to every destination (HR chat) of its county as a `delivery` row with a unique idempotency key,
then sends each destination a digest when it is due: `digest_min_records` records wait, or one has
waited `digest_interval_minutes` (`drain` sends whatever waits). A digest carries as many records
as fit in one message (at most `max_records_per_digest`); a backlog becomes several digests.

Each destination is a channel key; the worker sends through that channel's `DigestChannel`
(bot/features/delivery/channel.py), taken from the registry the channels fill at start-up, and
claims only destinations of channels this process serves. A channel says whether it can edit a
sent text; the steps differ by that, and each step is recorded (committed) before the next starts.

With edit (Telegram: sendMessage has no idempotency key, but a message can be edited):

    1 plan          tx: digest row (text fixed) + its deliveries' digest_id     nothing visible
    2 placeholder   send_text(short text, catalog key delivery.placeholder)     no record in it
    3 save id       tx: digest.message_id = m   (only WHERE message_id IS NULL)
    4 edit          edit_text(m, digest text)                                   the records, once
    5 mark          tx: deliveries delivered (message m), digest edited
    6 attachments   send_file -> tx record id; send_image -> tx record id; digest done

    crash after:  1 ─► resend placeholder   2 ─► new placeholder (the first stays: a stray)
                  3 ─► edit m               4 ─► edit m again: "message is not modified" = done
                  5 ─► attachments          6 ─► the attachments not recorded yet

The records' content only ever goes into message m, the one whose id was saved first, so it
cannot reach the chat twice; at worst a stray placeholder without any record stays behind.

Without edit (WeCom: a sent text cannot be changed, but message/send drops a repeat of the same
content to the same receiver within duplicate_check_interval, up to 4 h): the channel must declare
`dedupe_seconds` > 0 (the registry refuses it otherwise), and the content is sent once:

    1 plan          tx: digest row (text fixed) + its deliveries' digest_id     nothing visible
    2 start         tx: digest.send_attempted_at = t0 (only WHERE it IS NULL)
    3 content       send_text(digest text, dedupe_key "digest-<id>")            the records
    4 mark          tx: digest.message_id, deliveries delivered, digest edited
    5 attachments   as above

    crash after:  2 or 3 ─► send the same text under the same key again: the channel drops the
                  repeat (the text was fixed at plan time, so it is byte for byte the same)
                  4 ─► attachments

The retry of step 3 comes after at most the lease (`lease_seconds`) plus the back-off
(`max_backoff_seconds`), well inside WeCom's window. Only a destination that broke and was repaired
later than the window (t0 + DEDUPE_MARGIN x dedupe_seconds) could see the content twice: then the
text is sent headed by delivery.maybe_repeat, so HR knows a repeat for what it is. A digest that
the channel took is never sent again once step 4 is recorded.

A crash at any boundary is simulated in tests/test_delivery.py (Telegram) and
tests/test_delivery_channels.py (a channel without edit) with the fault-injection hook
(`Steps.hook`, called with each name in `STEPS` / `STEPS_WITHOUT_EDIT`).

A record is marked delivered only after the channel accepted the edit (or the send) that carries
it. The same holds when two workers race: a destination is claimed with a lease
(`claimed_by`/`claimed_until`, taken with a conditional UPDATE; candidates are read with SELECT ...
FOR UPDATE SKIP LOCKED on PostgreSQL), every try of a call first renews the lease (the channel
awaits `before_try`; it raises when another worker has it now), and a worker that lost the race
anyway cannot save a second placeholder id (step 3 is a compare-and-set): it deletes its own
placeholder and adopts the saved one. A crashed worker's leases run out after `lease_seconds`; a
cancelled one (shutdown) hands its destinations back.

Attachments (the spreadsheet and the chart) are informational copies of what the digest says.
For them exactly-once means: sent after the content, recorded as soon as the channel accepted
them, and never sent again once recorded. A crash (or a timed-out request that did reach the
platform) between sending and recording can repeat that one attachment; the records in it were
delivered once anyway.

A destination that fails `delivery_max_failures` times in a row (after the retries of
the channel) is marked broken and every admin the process can reach is told once; its records wait
for `outreach hr add` (or /hr_add) to repair it. Each channel paces its own platform's limits
(Telegram: bot/channels/telegram/ratelimit.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.features.delivery import digest as fmt
from bot.features.delivery.channel import DeliveryError, DigestChannels
from bot.features.delivery.config import DeliveryConfig, load_delivery_config
from bot.features.delivery.steps import HR_LANGUAGE, Job, LeaseLost, Steps, get_digest
from content.i18n import Translator
from storage.db import Database
from storage.models import utc_now
from storage.models_delivery import HrDestination
from storage.repositories import delivery as work
from storage.repositories import hr_destinations as destinations

log = logging.getLogger(__name__)
FAR_FUTURE = timedelta(days=36500)


@dataclass
class Worker:
    """One copy of the worker: the schedule and the claims; steps.py sends."""

    steps: Steps
    config: DeliveryConfig = field(default_factory=DeliveryConfig)
    stop: asyncio.Event | None = None

    @classmethod
    def build(
        cls, database: Database, channels: DigestChannels, config: DeliveryConfig, **options: Any
    ) -> Worker:
        """A worker with its own id; options: hook, worker_id, stop."""
        steps = Steps(
            database, channels, options.get("worker_id") or uuid.uuid4().hex, config.lease_seconds,
            options.get("hook"),
        )  # fmt: skip
        return cls(steps, config, options.get("stop"))

    # ------------------------------------------------------------ loops

    async def run(self) -> None:
        """Send due digests until `stop` is set; a failed round is logged and tried again."""
        stop = self.stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.round(drain=False)
            except Exception:  # the database or the network is down: try again next time
                log.exception("delivery round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.poll_seconds)

    async def drain(self) -> None:
        """Send everything that waits, whatever the schedule, then return."""
        while True:
            await self.round(drain=True)
            now = time.time()
            at = await self.steps.db(work.next_work_at, now=now, channels=self.steps.channels.channels())
            if at is None:
                return
            await asyncio.sleep(min(max(at - now, 0.0), self.config.poll_seconds))

    async def round(self, *, drain: bool) -> int:
        """Route the outbox, then serve every destination that is due; the number served."""
        while await self.steps.db(work.route_pending, now=utc_now()):
            pass
        return await self._serve_due(drain)

    async def _serve_due(self, drain: bool) -> int:
        """Claim due destinations one by one; serve up to `concurrency` of them at once."""
        slots = asyncio.Semaphore(self.config.concurrency)
        served: list[int] = []
        async with asyncio.TaskGroup() as group:
            while not self._stopping():
                await slots.acquire()
                claimed = await self._claim(drain, served)
                if claimed is None:
                    slots.release()
                    break
                served.append(claimed.id or 0)
                group.create_task(self._serve_in_slot(claimed, drain, slots))
        return len(served)

    async def _claim(self, drain: bool, served: list[int]) -> HrDestination | None:
        """Lease one due destination not served in this round yet."""
        if drain:
            due = work.due_condition(min_records=1, cutoff=utc_now() + FAR_FUTURE)
        else:
            due = work.due_condition(min_records=self.config.digest_min_records, cutoff=self._cutoff())
        claimed = await self.steps.db(
            work.claim_destinations, worker=self.steps.worker_id, now=time.time(),
            lease=self.config.lease_seconds, limit=1, due=due, exclude=served,
            channels=self.steps.channels.channels(),
        )  # fmt: skip
        return claimed[0] if claimed else None

    async def _serve_in_slot(self, destination: HrDestination, drain: bool, slots: asyncio.Semaphore) -> None:
        """Serve one destination, then free the slot; one destination's error spares the others."""
        try:
            await self.serve(destination, drain=drain)
        except Exception:
            log.exception("delivery to destination %s stopped", destination.id)
        finally:
            slots.release()

    def _stopping(self) -> bool:
        """Whether a stop was asked for."""
        return self.stop is not None and self.stop.is_set()

    def _cutoff(self) -> datetime:
        """Records queued before this are due whatever their number."""
        return utc_now() - timedelta(minutes=self.config.digest_interval_minutes)

    # ------------------------------------------------------------ one destination

    async def serve(self, destination: HrDestination, *, drain: bool = False) -> None:
        """Finish its open digests, then send new ones while due; release it unless the worker died."""
        try:
            for row in await self.steps.db(work.open_digests, destination_id=destination.id):
                await self.steps.finish(destination, Job.of(row))
            while not self._stopping() and (job := await self._plan(destination, drain)) is not None:
                await self.steps.finish(destination, job)
        except DeliveryError as error:
            await self._failed(destination, error)
        except LeaseLost:
            log.warning("destination %s was taken over by another worker", destination.id)
            return
        except asyncio.CancelledError:  # a shutdown, not a crash: hand the destination back at once
            with contextlib.suppress(Exception):
                await self.steps.db(work.release, destination_id=destination.id, worker=self.steps.worker_id)
            raise
        else:
            await self.steps.db(destinations.record_success, destination_id=destination.id)
        # Not in `finally`: a crashed worker does not release either; its lease runs out instead.
        await self.steps.db(work.release, destination_id=destination.id, worker=self.steps.worker_id)

    async def _plan(self, destination: HrDestination, drain: bool) -> Job | None:
        """A new digest of the records that wait, if they are due; None when nothing is."""
        limit = max(self.config.max_records_per_digest, self.config.digest_min_records)
        rows = await self.steps.db(work.waiting, destination_id=destination.id, limit=limit)
        if not rows or not (drain or self._is_due(rows)):
            return None
        entries = [fmt.entry(payload) for _, payload, _ in rows[: self.config.max_records_per_digest]]
        names = await self.steps.names(destination.county_code, entries)
        heading = fmt.Heading(fmt.WIDEST_NUMBER, destination.county_code, utc_now())
        t = Translator(HR_LANGUAGE)
        count = fmt.fitting(
            entries, lambda part: fmt.render_text(t, heading, part, names), fits=self._fits(destination, t)
        )
        chosen = entries[:count]
        digest_id = await self.steps.db(
            work.plan_digest, destination_id=destination.id, delivery_ids=[row[0] for row in rows[:count]],
            text_for=lambda number: fmt.render_text(t, replace(heading, number=number), chosen, names),
            now=heading.when,
        )  # fmt: skip
        self.steps.step("planned")
        return None if digest_id is None else Job.of(await self.steps.db(get_digest, digest_id=digest_id))

    def _fits(self, destination: HrDestination, t: Translator) -> Any:
        """Whether a text fits one message of the destination's channel (with room for the repeat
        notice on a channel without edit)."""
        channel = self.steps.channel(destination)
        if channel.can_edit:
            return channel.fits
        notice = t.text("delivery.maybe_repeat", {"number": fmt.WIDEST_NUMBER})
        return lambda text: channel.fits(f"{notice}\n{text}")

    def _is_due(self, rows: list[tuple[int, str, datetime]]) -> bool:
        """Enough records wait, or one has waited a whole interval."""
        return len(rows) >= self.config.digest_min_records or min(row[2] for row in rows) <= self._cutoff()

    # ------------------------------------------------------------ failures

    async def _failed(self, destination: HrDestination, error: DeliveryError) -> None:
        """Count a failure, back off, and tell the admins when the destination breaks."""
        log.warning("delivery to destination %s failed: %s", destination.id, error)
        pause = min(
            self.config.backoff_seconds * 2 ** min(destination.failures, 16), self.config.max_backoff_seconds
        )
        broken = await self.steps.db(
            destinations.record_failure, destination_id=destination.id, error=str(error),
            retry_at=time.time() + pause, max_failures=self.config.delivery_max_failures, now=utc_now(),
        )  # fmt: skip
        if broken is not None:
            await self._tell_admins(broken)

    async def _tell_admins(self, broken: HrDestination) -> None:
        """Message every admin this process can reach once about a broken destination (best effort)."""
        log.error(
            "destination %s (county %s, chat %s) is broken", broken.id, broken.county_code, broken.chat_key
        )
        for key, language in await self.steps.db(destinations.admin_keys):
            alert = Translator(language).text("delivery.broken_alert", {
                "county": broken.county_code, "chat": broken.chat_key, "failures": broken.failures,
                "error": broken.last_error or "",
            })  # fmt: skip
            try:
                await self.steps.tell(key, alert)
            except DeliveryError as error:
                log.error("could not tell admin %s: %s", key, error)


async def run_delivery(settings: Any, channels: DigestChannels, *, stop: asyncio.Event) -> None:
    """Run the worker beside the bot (or alone) until `stop` is set."""
    database = Database.from_url(settings.db_url)
    try:
        await Worker.build(database, channels, load_delivery_config(settings), stop=stop).run()
    finally:
        await database.dispose()


async def drain_delivery(settings: Any, channels: DigestChannels) -> None:
    """Send everything that waits, then return (`outreach deliver --once`)."""
    database = Database.from_url(settings.db_url)
    try:
        await Worker.build(database, channels, load_delivery_config(settings)).drain()
    finally:
        await database.dispose()
