"""Retention (PIPL: keep personal data no longer than needed): purge old drafts and closed records.

- Drafts: a dialog state untouched for `draft_days` keeps only its language; its answers and
  data (a half-entered household) go. The row stays so the user keeps their language.
- Closed intent records (open_key NULL) whose last change is older than `closed_days` are
  deleted with their outbox entries and whatever refers to them; then households untouched
  for as long that have no record left go too, with their members and consents.
- Open records (never followed up, or left open) go once their last change is older than the
  consent promises ("最长保存3年": `CONSENT_MAX_DAYS`), whatever `closed_days` says.

`purge` runs in one transaction, writes one audit entry (counts only), commits, and compacts
SQLite. `outreach purge` and the bot's scheduler call it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation, Household, IntentRecord, Outbox
from storage.repositories import audit
from storage.repositories.cascade import compact, counts, delete_rows

BATCH = 500
SYSTEM_ACTOR = "system:retention"
CONSENT_MAX_DAYS = 3 * 365 + 1  # the consent text (intake.consent.text): kept for 3 years at most


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
    await _delete_records(session, _expired_open_records(now - timedelta(days=CONSENT_MAX_DAYS)), deleted)
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


def _last_change() -> Any:
    """When a record last changed: its status, or else the submission that wrote it."""
    return func.coalesce(col(IntentRecord.status_changed_at), col(IntentRecord.updated_at))


def _expired_open_records(cutoff: datetime) -> Any:
    """Open records (never followed up, or left open) last changed before the consent's limit."""
    return select(IntentRecord.id).where(col(IntentRecord.open_key).is_not(None), _last_change() < cutoff)


async def _delete_closed_records(session: AsyncSession, cutoff: datetime, deleted: dict[str, set]) -> None:
    """Closed intent records last changed before the cutoff, their outbox entries and dependents."""
    statement = select(IntentRecord.id).where(col(IntentRecord.open_key).is_(None), _last_change() < cutoff)
    await _delete_records(session, statement, deleted)


async def _delete_records(session: AsyncSession, statement: Any, deleted: dict[str, set]) -> None:
    """The intent records a query selects, their outbox entries and dependents."""
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
