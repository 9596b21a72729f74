"""HR's follow-up of intent records: status changes with their history, notes, household notices, lists.

Every function takes the session as a keyword argument; writers commit before they return, readers
never commit. A status change is a compare-and-set on the record's status, so two people pressing
buttons on the same record at once cannot both win; closing statuses clear `open_key` (see
storage.repositories.intake_records), reopening sets it again unless a newer open record of the
same member and kind holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import mask_id, mask_phone
from storage.models import Household, IntentRecord, Member
from storage.models_followup import HouseholdMask, MemberMask, NoteWait, StatusChange
from storage.repositories.audit import MOBILE, RESIDENT_ID
from storage.repositories.export_rows import in_scope
from storage.repositories.intake_records import OPEN_STATUSES, open_key
from storage.repositories.notices import household_told

FOLLOW_UP_STATUSES = ("contacted", "enrolled", "referred", "declined", "unreachable")
CLOSED_STATUSES = frozenset(FOLLOW_UP_STATUSES) - OPEN_STATUSES
PENDING_ORDER = ("new", "unreachable", "contacted")  # open statuses, as listed to HR
CHANGED, UNCHANGED, MISSING, BUSY, NEWER_OPEN = "changed", "unchanged", "missing", "busy", "newer_open"
HOUSEHOLD = "household"  # household.answered_by when the family used the bot itself
MAX_NOTE = 500  # characters kept of a note


@dataclass(frozen=True)
class Change:
    """What pressing a status did."""

    outcome: str  # CHANGED, UNCHANGED, MISSING, BUSY (changed by someone meanwhile), NEWER_OPEN
    record_id: int
    change_id: int | None = None
    old_status: str | None = None
    new_status: str | None = None


@dataclass(frozen=True)
class RecordView:
    """A record in short form for HR: names, codes, masked numbers only."""

    record_id: int
    county_code: str
    village_code: str
    status: str
    kind: str
    training_type: str | None
    trade: str | None
    outside_county_ok: bool | None
    contact_time: str | None
    status_note: str | None
    name: str
    sex: str | None
    age: int | None
    relation: str
    head_name: str
    id_number: str | None  # masked
    phone: str | None  # masked
    created_at: datetime
    status_changed_at: datetime | None
    household_told: bool | None = None  # None: nobody to tell; False: a notice waits (not told yet)


# ---------------------------------------------------------------- status changes


async def county_of(*, session: AsyncSession, record_id: int) -> str | None:
    """The county code of a record, or None when there is no such record."""
    return (await session.exec(select(IntentRecord.county_code).where(IntentRecord.id == record_id))).first()


async def set_status(
    *, session: AsyncSession, record_id: int, status: str, actor: str, chat_key: str | None, now: datetime
) -> Change:
    """Give a record a follow-up status and write its history row. Commits when it changed."""
    if status not in FOLLOW_UP_STATUSES:
        raise ValueError(f"unknown follow-up status {status!r}")
    query = select(IntentRecord.status, IntentRecord.member_id, IntentRecord.kind).where(
        IntentRecord.id == record_id
    )
    found = (await session.exec(query)).first()
    if found is None:
        return Change(MISSING, record_id)
    old, member_id, kind = found
    if old == status:
        return Change(UNCHANGED, record_id, old_status=old, new_status=status)
    try:
        change = await _write_change(session, record_id, old, status, actor, chat_key, now, member_id, kind)
    except IntegrityError:  # another open record of this member and kind holds open_key
        await session.rollback()
        return Change(NEWER_OPEN, record_id, old_status=old, new_status=status)
    if change is None:
        await session.rollback()
        return Change(BUSY, record_id, old_status=old, new_status=status)
    await session.commit()
    return Change(CHANGED, record_id, change.id, old, status)


async def _write_change(
    session: AsyncSession,
    record_id: int,
    old: str,
    status: str,
    actor: str,
    chat_key: str | None,
    now: datetime,
    member_id: int,
    kind: str,
) -> StatusChange | None:
    """The conditional update and the history row, flushed; None when the status moved meanwhile."""
    values: dict[str, Any] = {
        "status": status,
        "status_note": None,  # a note belongs to the status it was written for
        "open_key": None if status in CLOSED_STATUSES else open_key(member_id, kind),
        "status_changed_by": actor,
        "status_changed_at": now,
        "updated_at": now,
    }
    statement = update(IntentRecord).where(col(IntentRecord.id) == record_id, col(IntentRecord.status) == old)
    result = await session.exec(statement.values(**values))
    if result.rowcount != 1:
        return None
    change = StatusChange(
        record_id=record_id,
        old_status=old,
        new_status=status,
        changed_by=actor,
        changed_at=now,
        chat_key=chat_key,
    )
    session.add(change)
    await session.flush()
    return change


async def change_record(*, session: AsyncSession, change_id: int) -> tuple[int, str] | None:
    """The record id and author of a change, or None."""
    query = select(StatusChange.record_id, StatusChange.changed_by).where(StatusChange.id == change_id)
    found = (await session.exec(query)).first()
    return (found[0], found[1]) if found is not None else None


def masked_note(text: str) -> str:
    """A note as stored: resident IDs and mobile numbers in it masked, at most MAX_NOTE characters."""
    text = RESIDENT_ID.sub(lambda match: mask_id(match.group()), text.strip())
    return MOBILE.sub(lambda match: mask_phone(match.group()), text)[:MAX_NOTE]


async def attach_note(*, session: AsyncSession, change_id: int, note: str) -> bool:
    """Keep a note with a change, and on the record while it still has that status. Commits."""
    change = await session.get(StatusChange, change_id)
    if change is None:
        return False
    change.note = note
    await session.exec(
        update(IntentRecord)
        .where(col(IntentRecord.id) == change.record_id, col(IntentRecord.status) == change.new_status)
        .values(status_note=note)
    )
    await session.commit()
    return True


# ---------------------------------------------------------------- waiting for a note


async def expect_note(
    *,
    session: AsyncSession,
    chat_key: str,
    actor: str,
    change_id: int,
    message_id: str | None,
    expires_at: float,
) -> NoteWait | None:
    """Take this person's next text in this chat as the change's note. Commits; the wait it replaced."""
    query = select(NoteWait).where(NoteWait.chat_key == chat_key, NoteWait.actor == actor)
    replaced = (await session.exec(query)).first()
    for _ in range(2):  # a lost race with the same person's other press: delete theirs and retry
        await session.exec(
            delete(NoteWait).where(col(NoteWait.chat_key) == chat_key, col(NoteWait.actor) == actor)
        )
        wait = NoteWait(
            chat_key=chat_key, actor=actor, change_id=change_id, message_id=message_id, expires_at=expires_at
        )
        session.add(wait)
        try:
            await session.commit()
            return replaced
        except IntegrityError:
            await session.rollback()
    return replaced


async def take_note_wait(*, session: AsyncSession, chat_key: str, actor: str, now: float) -> NoteWait | None:
    """The wait of this person in this chat, removed; None when there is none or it has expired."""
    query = select(NoteWait).where(NoteWait.chat_key == chat_key, NoteWait.actor == actor)
    wait = (await session.exec(query)).first()
    if wait is None:
        return None
    taken = await session.exec(delete(NoteWait).where(col(NoteWait.id) == wait.id))
    await session.commit()
    return wait if taken.rowcount == 1 and wait.expires_at > now else None


async def drop_note_wait(
    *, session: AsyncSession, chat_key: str, actor: str, change_id: int
) -> NoteWait | None:
    """Stop waiting for the note of this change ("no note"); the wait, or None when there was none."""
    query = select(NoteWait).where(
        NoteWait.chat_key == chat_key, NoteWait.actor == actor, NoteWait.change_id == change_id
    )
    wait = (await session.exec(query)).first()
    if wait is None:
        return None
    taken = await session.exec(delete(NoteWait).where(col(NoteWait.id) == wait.id))
    await session.commit()
    return wait if taken.rowcount == 1 else None


# ---------------------------------------------------------------- lists


def _view_query() -> Any:
    """Records with their member, household and masks, in short form."""
    record = IntentRecord
    return (
        select(
            record.id,
            record.county_code,
            record.village_code,
            record.status,
            record.kind,
            record.training_type,
            record.trade,
            record.outside_county_ok,
            record.contact_time,
            record.status_note,
            Member.name,
            Member.sex,
            Member.age,
            Member.relation,
            Household.head_name,
            MemberMask.id_number,
            HouseholdMask.phone,
            record.created_at,
            record.status_changed_at,
            household_told(record.id),
        )
        .join(Member, col(Member.id) == record.member_id)
        .join(Household, col(Household.id) == record.household_id)
        .outerjoin(MemberMask, col(MemberMask.member_id) == record.member_id)
        .outerjoin(HouseholdMask, col(HouseholdMask.household_id) == record.household_id)
    )


def _pending(prefixes: Sequence[str]) -> Any:
    """Open records under the prefixes."""
    return (col(IntentRecord.status).in_(PENDING_ORDER)) & in_scope(IntentRecord.county_code, prefixes)


async def pending_page(
    *, session: AsyncSession, prefixes: Sequence[str], offset: int, limit: int
) -> tuple[list[RecordView], int]:
    """One page of open records under the prefixes, oldest first, and how many there are."""
    where = _pending(prefixes)
    total = (await session.exec(select(func.count()).select_from(IntentRecord).where(where))).one()
    query = _view_query().where(where).order_by(col(IntentRecord.id)).offset(offset).limit(limit)
    rows = (await session.exec(query)).all()
    return [RecordView(*row) for row in rows], int(total)


async def record_view(*, session: AsyncSession, record_id: int) -> RecordView | None:
    """One record in short form, or None."""
    row = (await session.exec(_view_query().where(IntentRecord.id == record_id))).first()
    return RecordView(*row) if row is not None else None


async def history(*, session: AsyncSession, record_id: int) -> list[StatusChange]:
    """The status changes of a record, oldest first."""
    query = select(StatusChange).where(StatusChange.record_id == record_id).order_by(col(StatusChange.id))
    return list((await session.exec(query)).all())
