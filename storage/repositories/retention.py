"""Retention (PIPL: keep personal data no longer than needed): purge old drafts and closed records.

- Drafts: a dialog state untouched for `draft_days` keeps only its language; its answers and
  data (a half-entered household) go. The row stays so the user keeps their language.
- Closed intent records (open_key NULL) whose last change is older than `closed_days` are
  deleted with their outbox entries and whatever refers to them; then households untouched
  for as long that have no record left go too, with their members and consents.

`purge` runs in one transaction, writes one audit entry (counts only), commits, and compacts
SQLite. `outreach purge` and the bot's scheduler call it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation, Household, IntentRecord, Outbox
from storage.repositories import audit
from storage.repositories.cascade import compact, counts, delete_rows

BATCH = 500
SYSTEM_ACTOR = "system:retention"


async def purge(
    *,
    session: AsyncSession,
    now: datetime,
    draft_days: int,
    closed_days: int,
    actor: str = SYSTEM_ACTOR,
    channel: str = "system",
) -> dict[str, int]:
    """Remove expired drafts and closed records; rows per table (and "drafts"). Commits."""
    if draft_days < 1 or closed_days < 1:
        raise ValueError("retention periods must be at least one day")
    drafts = await _clear_drafts(session, (now - timedelta(days=draft_days)).timestamp())
    deleted: dict[str, set] = {}
    cutoff = now - timedelta(days=closed_days)
    await _delete_closed_records(session, cutoff, deleted)
    await _delete_idle_households(session, cutoff, deleted)
    result = {"drafts": drafts, **counts(deleted)}
    detail = ",".join(f"{name}={n}" for name, n in sorted(result.items()))
    await audit.record(
        session=session,
        actor=actor,
        action="retention.purge",
        target_kind="retention",
        target_id=None,
        channel=channel,
        detail=detail,
        now=now,
        commit=False,
    )
    await session.commit()
    if drafts or deleted:
        await compact(session)
    return result


# ---------------------------------------------------------------- drafts


def _bare(state: str) -> str | None:
    """The state reduced to its language, or None when it holds nothing more already."""
    try:
        data = json.loads(state)
    except ValueError:
        return "{}"
    if not isinstance(data, dict):
        return "{}"
    kept = {"lang": data["lang"]} if "lang" in data else {}
    return None if data == kept else json.dumps(kept)


async def _clear_drafts(session: AsyncSession, idle_since: float) -> int:
    """Reduce states idle since before `idle_since` (epoch seconds) to their language; how many."""
    cleared, last = 0, ""
    while True:
        statement = select(Conversation.key, Conversation.state).where(
            Conversation.key > last, col(Conversation.updated_at) < idle_since
        )
        rows = (await session.exec(statement.order_by(col(Conversation.key)).limit(BATCH))).all()
        for key, state in rows:
            cleared += await _clear_one(session, key, state, idle_since)
        if len(rows) < BATCH:
            return cleared
        last = rows[-1][0]


async def _clear_one(session: AsyncSession, key: str, state: str, idle_since: float) -> int:
    """Rewrite one idle state, unless its user came back meanwhile (the WHERE checks again)."""
    bare = _bare(state)
    if bare is None:
        return 0
    statement = (
        update(Conversation)
        .where(col(Conversation.key) == key, col(Conversation.updated_at) < idle_since)
        .values(state=bare)
    )
    return (await session.exec(statement)).rowcount  # type: ignore[call-overload]


# ---------------------------------------------------------------- closed records and idle households


async def _delete_closed_records(session: AsyncSession, cutoff: datetime, deleted: dict[str, set]) -> None:
    """Closed intent records last changed before the cutoff, their outbox entries and dependents."""
    changed = func.coalesce(col(IntentRecord.status_changed_at), col(IntentRecord.updated_at))
    statement = select(IntentRecord.id).where(col(IntentRecord.open_key).is_(None), changed < cutoff)
    ids = list((await session.exec(statement)).all())
    records = IntentRecord.__table__  # type: ignore[attr-defined]
    await delete_rows(session, records, records.c.id, ids, deleted)
    outbox = Outbox.__table__  # type: ignore[attr-defined]
    for start in range(0, len(ids), BATCH):
        entries = select(Outbox.id).where(
            Outbox.kind == "intent_record", col(Outbox.record_id).in_(ids[start : start + BATCH])
        )
        await delete_rows(session, outbox, outbox.c.id, (await session.exec(entries)).all(), deleted)


async def _delete_idle_households(session: AsyncSession, cutoff: datetime, deleted: dict[str, set]) -> None:
    """Households untouched since before the cutoff with no intent record left, and their people."""
    has_record = select(IntentRecord.id).where(IntentRecord.household_id == Household.id).exists()
    statement = select(Household.id).where(col(Household.updated_at) < cutoff, ~has_record)
    ids = list((await session.exec(statement)).all())
    households = Household.__table__  # type: ignore[attr-defined]
    await delete_rows(session, households, households.c.id, ids, deleted)
