"""The WeCom channel's storage: inputs seen, the send outbox, the 客服 cursor, per-user peers.

(Group-chat sends claimed once: storage.repositories.wecom_groups.)

Nothing here commits unless it says so: the channel writes a turn's rows in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import utc_now
from storage.models_wecom import (
    FAILED,
    HELD,
    KF_ENDED,
    KF_NEW,
    PENDING,
    RETURNED,
    SENT,
    WecomKfCursor,
    WecomOutbox,
    WecomPeer,
    WecomSeen,
)


def _insert(session: AsyncSession, table: Any) -> Any:
    """INSERT as the session's backend spells ON CONFLICT (both SQLite and PostgreSQL have it)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(table)


# ---------------------------------------------------------------- inputs seen


async def was_seen(*, session: AsyncSession, digest: str) -> bool:
    """True when an input with this digest was applied already."""
    found = await session.exec(select(WecomSeen.id).where(WecomSeen.digest == digest))
    return found.first() is not None


async def mark_seen(*, session: AsyncSession, digest: str, now: float) -> bool:
    """Record an input as applied; False when it was recorded before."""
    statement = _insert(session, WecomSeen.__table__).values(digest=digest, seen_at=now)
    result = await session.exec(statement.on_conflict_do_nothing(index_elements=["digest"]))  # type: ignore[call-overload]
    return bool(result.rowcount)


async def purge_seen(*, session: AsyncSession, before: float) -> int:
    """Forget inputs seen before `before` (WeCom retries within seconds). Commits."""
    result = await session.exec(delete(WecomSeen).where(col(WecomSeen.seen_at) < before))  # type: ignore[call-overload]
    await session.commit()
    return int(result.rowcount or 0)


# ---------------------------------------------------------------- outbox


async def add_messages(
    *, session: AsyncSession, key: str, kind: str, payloads: Sequence[str], ref: str | None = None
) -> None:
    """Queue encrypted payloads for `key`, in order (one INSERT; ids grow in list order).

    `ref`: what a message sent on a feature's behalf is about ("notice:12"), None for replies.
    """
    if not payloads:
        return
    rows = [
        {"key": key, "kind": kind, "payload": payload, "status": PENDING, "attempts": 0,
         "next_attempt_at": 0.0, "created_at": utc_now(), "ref": ref}
        for payload in payloads
    ]  # fmt: skip
    await session.exec(insert(WecomOutbox).values(rows))  # type: ignore[call-overload]


async def release_held(*, session: AsyncSession, key: str) -> int:
    """Make the user's held messages due again (they keep their place before newer ones)."""
    result = await session.exec(
        update(WecomOutbox)  # type: ignore[call-overload]
        .where(col(WecomOutbox.key) == key, col(WecomOutbox.status) == HELD)
        .values(status=PENDING, next_attempt_at=0.0)
    )
    return int(result.rowcount or 0)


async def pending_for(*, session: AsyncSession, key: str, limit: int | None = None) -> list[WecomOutbox]:
    """The user's pending entries, oldest first (whatever their retry time)."""
    query = select(WecomOutbox).where(WecomOutbox.key == key, WecomOutbox.status == PENDING)
    return list((await session.exec(query.order_by(col(WecomOutbox.id)).limit(limit))).all())


async def count_pending(*, session: AsyncSession, key: str) -> int:
    """How many entries of the user wait to be sent."""
    query = select(func.count()).where(WecomOutbox.key == key, WecomOutbox.status == PENDING)
    return int((await session.exec(query)).one())


async def due_keys(*, session: AsyncSession, now: float, limit: int = 500) -> list[str]:
    """The users with pending entries whose time has come, the one waiting longest first."""
    first = func.min(WecomOutbox.id)
    query = (
        select(WecomOutbox.key)
        .where(col(WecomOutbox.status) == PENDING, col(WecomOutbox.next_attempt_at) <= now)
        .group_by(col(WecomOutbox.key))
        .order_by(first)
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def finish(
    *,
    session: AsyncSession,
    entry_id: int,
    status: str,
    error: str | None = None,
    retry_at: float = 0.0,
    counts_for: str | None = None,
    msgid: str | None = None,
) -> None:
    """Record the outcome of an attempt (sent, held, failed, returned, or pending again at `retry_at`).
    Commits.

    `counts_for`: the 客服 user whose window quota a sent message uses up; `msgid`: WeCom's id
    of the sent message (a later msg_send_fail names it).
    """
    values: dict[str, Any] = {"status": status, "last_error": error, "next_attempt_at": retry_at}
    if status == SENT:
        values["sent_at"], values["msgid"] = utc_now(), msgid
    if status in (PENDING, FAILED):
        values["attempts"] = WecomOutbox.attempts + 1
    await session.exec(update(WecomOutbox).where(col(WecomOutbox.id) == entry_id).values(**values))  # type: ignore[call-overload]
    if status == SENT and counts_for is not None:  # in the same transaction: the window never looks wider
        await session.exec(
            update(WecomPeer)
            .where(col(WecomPeer.key) == counts_for)
            .values(sent_since=WecomPeer.sent_since + 1)  # type: ignore[call-overload]
        )
    await session.commit()


async def purge_finished(*, session: AsyncSession, before: float) -> int:
    """Delete sent and failed entries created before `before` (they hold replies). Commits."""
    cutoff = datetime.fromtimestamp(before, UTC)
    result = await session.exec(
        delete(WecomOutbox).where(  # type: ignore[call-overload]
            col(WecomOutbox.status).in_((SENT, FAILED, RETURNED)), col(WecomOutbox.created_at) < cutoff
        )
    )
    await session.commit()
    return int(result.rowcount or 0)


async def find_sent(*, session: AsyncSession, key: str, msgid: str) -> WecomOutbox | None:
    """The user's sent entry WeCom knows by `msgid` (None once purged, or not ours)."""
    query = select(WecomOutbox).where(col(WecomOutbox.msgid) == msgid, col(WecomOutbox.key) == key)
    return (await session.exec(query)).first()


async def mark_undelivered(*, session: AsyncSession, entry_id: int, status: str, error: str) -> None:
    """A sent entry WeCom later reported undelivered: failed (a reply) or returned (a feature's)."""
    await session.exec(
        update(WecomOutbox)  # type: ignore[call-overload]
        .where(col(WecomOutbox.id) == entry_id)
        .values(status=status, last_error=error)
    )


async def silence(*, session: AsyncSession, key: str, error: str) -> list[str]:
    """A person serves the user now: the bot's waiting messages go. Replies fail; the refs of the
    features' messages are returned (RETURNED) for their features to take back."""
    waiting = (col(WecomOutbox.key) == key) & col(WecomOutbox.status).in_((PENDING, HELD))
    query = select(WecomOutbox.ref).where(waiting, col(WecomOutbox.ref).is_not(None))
    refs = (await session.exec(query)).all()
    await session.exec(
        update(WecomOutbox)  # type: ignore[call-overload]
        .where(waiting)
        .values(
            status=case((col(WecomOutbox.ref).is_(None), FAILED), else_=RETURNED),
            last_error=error,
        )
    )
    return list(dict.fromkeys(ref for ref in refs if ref))


async def count_status(*, session: AsyncSession, key: str | None = None) -> dict[str, int]:
    """How many entries are in each status (for one user, or all)."""
    query = select(WecomOutbox.status)
    if key is not None:
        query = query.where(WecomOutbox.key == key)
    counts: dict[str, int] = {}
    for status in (await session.exec(query)).all():
        counts[status] = counts.get(status, 0) + 1
    return counts


# ---------------------------------------------------------------- per-user peer


async def load_peer(*, session: AsyncSession, key: str) -> WecomPeer | None:
    """What the channel remembers of a user."""
    return await session.get(WecomPeer, key)


async def _peer(session: AsyncSession, key: str) -> WecomPeer:
    """The user's row, created on first use."""
    peer = await session.get(WecomPeer, key)
    if peer is None:
        peer = WecomPeer(key=key)
        session.add(peer)
    return peer


async def note_inbound(*, session: AsyncSession, key: str, now: float) -> None:
    """The user wrote: their 客服 window opens again with a fresh quota (an ended session is new)."""
    peer = await _peer(session, key)
    peer.last_inbound_at, peer.sent_since = now, 0
    if peer.service_state == KF_ENDED:  # WeCom: a customer writing after the end starts a session
        peer.service_state = KF_NEW


async def close_window(*, session: AsyncSession, key: str, quota: int) -> None:
    """WeCom refused a message for the window: none until the user writes again."""
    await session.exec(
        update(WecomPeer).where(col(WecomPeer.key) == key).values(sent_since=quota)  # type: ignore[call-overload]
    )


async def set_service_state(*, session: AsyncSession, key: str, state: int) -> None:
    """Remember the 客服 session state learnt from an event or from kf/service_state/get."""
    peer = await _peer(session, key)
    peer.service_state = state


# ---------------------------------------------------------------- 客服 cursor


async def load_cursor(*, session: AsyncSession, open_kfid: str) -> str | None:
    """Where the 客服 stream was applied up to, or None before the first message."""
    row = await session.get(WecomKfCursor, open_kfid)
    return row.cursor if row is not None else None


async def save_cursor(*, session: AsyncSession, open_kfid: str, cursor: str) -> None:
    """Remember the next cursor. Commits."""
    row = await session.get(WecomKfCursor, open_kfid)
    if row is None:
        session.add(WecomKfCursor(open_kfid=open_kfid, cursor=cursor))
    else:
        row.cursor, row.updated_at = cursor, utc_now()
    await session.commit()
