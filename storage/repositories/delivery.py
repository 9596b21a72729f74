"""Delivery work: route the outbox to destinations, claim destinations, move digests through their steps.

Every function takes the session as a keyword argument; the writers commit before they return.
Each write that could race is a conditional UPDATE (compare-and-set on a NULL column, a status or
the claim), so two workers can never both win it. That holds on PostgreSQL, where claims also skip
rows another worker has locked (SELECT ... FOR UPDATE SKIP LOCKED), and on SQLite, which serialises
writers but does not isolate a transaction's earlier reads from its writes here (the driver begins
a transaction only at the first write). The worker (bot/delivery/worker.py) explains the steps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, false, func, or_, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Outbox
from storage.models_delivery import (
    DELIVERED,
    DONE,
    EDITED,
    OPEN_DIGEST_STATUSES,
    PENDING,
    PLACED,
    PLANNED,
    ROUTED,
    Delivery,
    DeliveryDigest,
    HrDestination,
    delivery_key,
)

OUTBOX_KIND = "intent_record"  # the only kind HR digests carry; other kinds are left alone
ATTACHMENT_COLUMNS = ("document_message_id", "chart_message_id")


def skip_locked(session: AsyncSession, query: Any) -> Any:
    """FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has no row locks and serialises writers anyway."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


# ---------------------------------------------------------------- routing


async def route_pending(*, session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Create a delivery per pending outbox entry and active destination of its county; commits."""
    # Returns how many entries were routed: 0 also when another worker routed them first. Entries
    # of a county without destinations stay pending (and out of the way) until one is added.
    entries = (await session.exec(skip_locked(session, _routable(limit)))).all()
    targets = await _active_destinations(session, {county for _, _, county in entries})
    known = await _existing_keys(session, [outbox_id for outbox_id, _, _ in entries])
    session.add_all(
        Delivery(outbox_id=outbox_id, record_id=record_id, destination_id=target, created_at=now,
                 idempotency_key=delivery_key(outbox_id, target))
        for outbox_id, record_id, county in entries
        for target in targets[county]
        if delivery_key(outbox_id, target) not in known
    )  # fmt: skip
    routed = [outbox_id for outbox_id, _, county in entries if targets[county]]
    return len(routed) if routed and await _commit_routing(session, routed) else 0


def _routable(limit: int) -> Any:
    """The oldest pending outbox entries whose county has somewhere to send them."""
    return (
        select(Outbox.id, Outbox.record_id, Outbox.county_code)
        .where(Outbox.status == PENDING, Outbox.kind == OUTBOX_KIND, _reachable())
        .order_by(col(Outbox.id))
        .limit(limit)
    )


async def _commit_routing(session: AsyncSession, routed: list[int]) -> bool:
    """Mark the entries routed and commit with their deliveries; False when another router won."""
    try:
        await session.flush()
        await session.exec(
            update(Outbox).where(col(Outbox.id).in_(routed), Outbox.status == PENDING).values(status=ROUTED)
        )
        await session.commit()
    except IntegrityError:  # a concurrent router inserted the same keys first: its rows stand
        await session.rollback()
        return False
    return True


def _reachable() -> Any:
    """The outbox entry's county has an active destination."""
    return exists().where(
        HrDestination.county_code == Outbox.county_code, col(HrDestination.removed_at).is_(None)
    )


async def _active_destinations(session: AsyncSession, counties: set[str]) -> dict[str, list[int]]:
    """Ids of the destinations (broken ones too: they wait for repair) of each county."""
    found: dict[str, list[int]] = defaultdict(list)
    if counties:
        query = select(HrDestination.county_code, HrDestination.id).where(
            col(HrDestination.county_code).in_(counties), col(HrDestination.removed_at).is_(None)
        )
        for county, destination_id in (await session.exec(query)).all():
            found[county].append(destination_id)
    return found


async def _existing_keys(session: AsyncSession, outbox_ids: list[int]) -> set[str]:
    """Idempotency keys of the deliveries that already exist for these outbox entries."""
    if not outbox_ids:
        return set()
    query = select(Delivery.idempotency_key).where(col(Delivery.outbox_id).in_(outbox_ids))
    return set((await session.exec(query)).all())


# ---------------------------------------------------------------- claims


async def claim_destinations(
    *,
    session: AsyncSession,
    worker: str,
    now: float,
    lease: float,
    limit: int,
    due: Any,
    exclude: Collection[int] = (),
    channels: Collection[str] | None = None,
) -> list[HrDestination]:
    """Lease up to `limit` destinations with work `due` (see `due_condition`) to `worker`; commits.

    `channels`: only destinations whose key belongs to one of these (the channels this process
    serves); None for all."""
    # A lease is a claim column with an expiry: a crashed worker's destinations come free when
    # its lease runs out. The UPDATE re-checks the lease, so two claimers cannot both win a row.
    query = (
        select(HrDestination.id)
        .where(_claimable(now), due, col(HrDestination.id).not_in(exclude), on_channels(channels))
        .order_by(col(HrDestination.id))
        .limit(limit)
    )
    ids = list((await session.exec(skip_locked(session, query))).all())
    if not ids:
        await session.rollback()
        return []
    await session.exec(
        update(HrDestination)
        .where(col(HrDestination.id).in_(ids), _lease_free(now))
        .values(claimed_by=worker, claimed_until=now + lease)
    )
    await session.commit()
    mine = select(HrDestination).where(col(HrDestination.id).in_(ids), HrDestination.claimed_by == worker)
    return list((await session.exec(mine.order_by(col(HrDestination.id)))).all())


def on_channels(channels: Collection[str] | None) -> Any:
    """Destinations whose chat key belongs to one of `channels` ("tg" -> "tg:..."); None: all."""
    if channels is None:
        return true()
    return or_(false(), *(col(HrDestination.chat_key).startswith(f"{channel}:") for channel in channels))


def due_condition(*, min_records: int, cutoff: datetime) -> Any:
    """Destinations with an unfinished digest, or enough waiting records, or one waiting since `cutoff`."""
    waiting = (
        select(Delivery.destination_id)
        .where(Delivery.status == PENDING, col(Delivery.digest_id).is_(None))
        .group_by(col(Delivery.destination_id))
        .having(or_(func.count() >= min_records, func.min(Delivery.created_at) <= cutoff))
    )
    return or_(_has_open_digest(), col(HrDestination.id).in_(waiting))


def _has_open_digest() -> Any:
    """The destination has a digest that is not done yet."""
    return exists().where(
        DeliveryDigest.destination_id == HrDestination.id,
        col(DeliveryDigest.status).in_(OPEN_DIGEST_STATUSES),
    )


def _claimable(now: float) -> Any:
    """Active, not broken, out of its backoff, not leased by anyone."""
    return (
        col(HrDestination.removed_at).is_(None)
        & col(HrDestination.broken_at).is_(None)
        & (HrDestination.next_attempt_at <= now)
        & _lease_free(now)
    )


def _lease_free(now: float) -> Any:
    """Nobody holds the destination, or their lease ran out."""
    return or_(col(HrDestination.claimed_until).is_(None), col(HrDestination.claimed_until) < now)


async def renew(*, session: AsyncSession, destination_id: int, worker: str, until: float) -> bool:
    """Extend `worker`'s lease; False when another worker took the destination over. Commits."""
    result = await session.exec(
        update(HrDestination)
        .where(HrDestination.id == destination_id, HrDestination.claimed_by == worker)
        .values(claimed_until=until)
    )
    await session.commit()
    return result.rowcount == 1


async def release(*, session: AsyncSession, destination_id: int, worker: str) -> None:
    """Give the destination back (if `worker` still holds it). Commits."""
    await session.exec(
        update(HrDestination)
        .where(HrDestination.id == destination_id, HrDestination.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None)
    )
    await session.commit()


# ---------------------------------------------------------------- digests


async def waiting(
    *, session: AsyncSession, destination_id: int, limit: int
) -> list[tuple[int, str, datetime]]:
    """(delivery id, outbox payload, queued at) of the destination's records in no digest, oldest first."""
    query = (
        select(Delivery.id, Outbox.payload, Delivery.created_at)
        .join(Outbox, col(Outbox.id) == col(Delivery.outbox_id))
        .where(
            Delivery.destination_id == destination_id,
            Delivery.status == PENDING,
            col(Delivery.digest_id).is_(None),
        )
        .order_by(col(Delivery.id))
        .limit(limit)
    )
    return [
        (delivery_id, payload, queued) for delivery_id, payload, queued in (await session.exec(query)).all()
    ]


async def plan_digest(
    *,
    session: AsyncSession,
    destination_id: int,
    delivery_ids: Sequence[int],
    text_for: Callable[[int], str],
    now: datetime,
) -> int | None:
    """A digest of exactly these deliveries, text `text_for(its number)`; None if one was taken. Commits."""
    number = await _next_number(session, destination_id)
    digest = DeliveryDigest(
        destination_id=destination_id, number=number, text="", records=len(delivery_ids), created_at=now
    )
    session.add(digest)
    await session.flush()
    assert digest.id is not None
    taken = await session.exec(
        update(Delivery)
        .where(col(Delivery.id).in_(delivery_ids), col(Delivery.digest_id).is_(None))
        .where(Delivery.status == PENDING)
        .values(digest_id=digest.id)
    )
    if taken.rowcount != len(delivery_ids):
        await session.rollback()
        return None
    digest.text = text_for(number)
    await session.commit()
    return digest.id


async def _next_number(session: AsyncSession, destination_id: int) -> int:
    """The number of the destination's next digest (the caller holds its lease: nobody numbers beside it)."""
    query = (
        select(func.count())
        .select_from(DeliveryDigest)
        .where(DeliveryDigest.destination_id == destination_id)
    )
    return (await session.exec(query)).one() + 1


async def open_digests(*, session: AsyncSession, destination_id: int) -> list[DeliveryDigest]:
    """The destination's digests that are not done, oldest first."""
    query = select(DeliveryDigest).where(
        DeliveryDigest.destination_id == destination_id, col(DeliveryDigest.status).in_(OPEN_DIGEST_STATUSES)
    )
    return list((await session.exec(query.order_by(col(DeliveryDigest.id)))).all())


async def digest_payloads(*, session: AsyncSession, digest_id: int) -> list[str]:
    """The outbox payloads a digest carries, in delivery order."""
    query = (
        select(Outbox.payload)
        .join(Delivery, col(Outbox.id) == col(Delivery.outbox_id))
        .where(Delivery.digest_id == digest_id)
        .order_by(col(Delivery.id))
    )
    return list((await session.exec(query)).all())


async def save_placeholder(*, session: AsyncSession, digest_id: int, message_id: str) -> bool:
    """Record the placeholder's message id unless one is recorded already (then False). Commits."""
    result = await session.exec(
        update(DeliveryDigest)
        .where(DeliveryDigest.id == digest_id, col(DeliveryDigest.message_id).is_(None))
        .values(message_id=message_id, status=PLACED)
    )
    await session.commit()
    return result.rowcount == 1


async def forget_placeholder(*, session: AsyncSession, digest_id: int, message_id: str) -> None:
    """The placeholder is gone from the chat (deleted by someone): plan a new one. Commits."""
    await session.exec(
        update(DeliveryDigest)
        .where(DeliveryDigest.id == digest_id, DeliveryDigest.message_id == message_id)
        .where(DeliveryDigest.status == PLACED)
        .values(message_id=None, status=PLANNED)
    )
    await session.commit()


async def start_send(*, session: AsyncSession, digest_id: int, now: float) -> float:
    """When the digest's content was first sent, on a channel without edit: `now` if this is the
    first time (recorded before sending), else the earlier moment. Commits."""
    await session.exec(
        update(DeliveryDigest)
        .where(DeliveryDigest.id == digest_id, col(DeliveryDigest.send_attempted_at).is_(None))
        .values(send_attempted_at=now)
    )
    await session.commit()
    query = select(DeliveryDigest.send_attempted_at).where(DeliveryDigest.id == digest_id)
    return (await session.exec(query)).one() or now


async def mark_sent(*, session: AsyncSession, digest_id: int, message_id: str, now: datetime) -> int:
    """The channel (without edit) accepted the digest's content as message `message_id`: record it
    and mark its deliveries delivered. Commits; returns how many."""
    await session.exec(
        update(DeliveryDigest)
        .where(DeliveryDigest.id == digest_id, col(DeliveryDigest.message_id).is_(None))
        .where(DeliveryDigest.status == PLANNED)
        .values(message_id=message_id, status=PLACED)
    )
    await session.commit()
    return await mark_delivered(session=session, digest_id=digest_id, message_id=message_id, now=now)


async def count_attempt(*, session: AsyncSession, digest_id: int) -> None:
    """The digest's content is about to be sent (again): one more attempt for each of its records. Commits."""
    await session.exec(
        update(Delivery)
        .where(Delivery.digest_id == digest_id, Delivery.status == PENDING)
        .values(attempts=Delivery.attempts + 1)
    )
    await session.commit()


async def mark_delivered(*, session: AsyncSession, digest_id: int, message_id: str, now: datetime) -> int:
    """The channel accepted the digest's content: its deliveries are delivered. Commits; returns how many."""
    result = await session.exec(
        update(Delivery)
        .where(Delivery.digest_id == digest_id, Delivery.status == PENDING)
        .values(status=DELIVERED, message_id=message_id, sent_at=now)
    )
    await session.exec(
        update(DeliveryDigest)
        .where(DeliveryDigest.id == digest_id, DeliveryDigest.status == PLACED)
        .values(status=EDITED, edited_at=now)
    )
    await session.commit()
    return result.rowcount


async def save_attachment(*, session: AsyncSession, digest_id: int, column: str, message_id: str) -> None:
    """Record that an attachment was sent (first record wins); it is never sent again. Commits."""
    if column not in ATTACHMENT_COLUMNS:
        raise ValueError(f"not an attachment column: {column}")
    field = getattr(DeliveryDigest, column)
    await session.exec(
        update(DeliveryDigest)
        .where(DeliveryDigest.id == digest_id, col(field).is_(None))
        .values({column: message_id})
    )
    await session.commit()


async def finish_digest(*, session: AsyncSession, digest_id: int, now: datetime) -> None:
    """The digest and its attachments are all sent. Commits."""
    await session.exec(
        update(DeliveryDigest)
        .where(DeliveryDigest.id == digest_id, DeliveryDigest.status == EDITED)
        .values(status=DONE, done_at=now)
    )
    await session.commit()


async def next_work_at(
    *, session: AsyncSession, now: float, channels: Collection[str] | None = None
) -> float | None:
    """When work could next be claimed: `now`, later (a backoff, another's lease) or None (none left).

    `channels`: only work for destinations of these channels counts (None: all)."""
    unrouted = select(Outbox.id).where(Outbox.status == PENDING, Outbox.kind == OUTBOX_KIND, _reachable())
    if (await session.exec(unrouted.limit(1))).first() is not None:
        return now
    waiting = exists().where(Delivery.destination_id == HrDestination.id, Delivery.status == PENDING)
    query = select(HrDestination.next_attempt_at, HrDestination.claimed_until).where(
        col(HrDestination.removed_at).is_(None),
        col(HrDestination.broken_at).is_(None),
        or_(_has_open_digest(), waiting),
        on_channels(channels),
    )
    times = [max(retry_at, until or 0.0, now) for retry_at, until in (await session.exec(query)).all()]
    return min(times, default=None)
