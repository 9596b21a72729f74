"""HR's decision on a held entry (see storage.repositories.intake_hold): both sides, then keep or drop.

    open_links  every open link with both households side by side (numbers masked)
    decide      keep_stored: the held entry is deleted (the stored family stays as it was);
                keep_both:   they are different families, or HR will merge by hand: the link closes
Each decision is audited (ids and the decision only) and commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher, mask_household_number, mask_id, mask_phone
from storage.models import Household, IntentRecord, Member, Outbox, utc_now
from storage.models_trust import OPEN, HouseholdLink
from storage.repositories import audit
from storage.repositories.cascade import delete_rows

KEEP_STORED, KEEP_BOTH = "keep_stored", "keep_both"
DECISIONS = (KEEP_STORED, KEEP_BOTH)


@dataclass(frozen=True)
class Side:
    """One household as HR compares it: who entered it, where, the people; numbers masked."""

    id: int
    village_code: str
    head_name: str
    phone: str | None
    household_number: str | None
    created_by: str | None
    answered_by: str
    created_at: datetime
    members: tuple[tuple[str, str, str | None], ...]  # name, relation, masked ID number


@dataclass(frozen=True)
class Pair:
    """An open link: the held entry and the stored household it matched."""

    link_id: int
    matched_by: str
    held: Side
    stored: Side


async def open_links(*, session: AsyncSession, cipher: Cipher, county: str | None = None) -> list[Pair]:
    """Open links, oldest first; with `county`, those where either side lies in it. Does not commit."""
    statement = select(HouseholdLink).where(HouseholdLink.status == OPEN).order_by(col(HouseholdLink.id))
    pairs = []
    for link in (await session.exec(statement)).all():
        held = await _side(session, cipher, link.held_household_id)
        stored = await _side(session, cipher, link.stored_household_id)
        if held is None or stored is None:
            continue
        if county is None or county in (held.village_code[:6], stored.village_code[:6]):
            pairs.append(Pair(link.id or 0, link.matched_by, held, stored))
    return pairs


async def _side(session: AsyncSession, cipher: Cipher, household_id: int) -> Side | None:
    """One household with its members, numbers masked."""
    household = await session.get(Household, household_id)
    if household is None:
        return None
    rows = (
        await session.exec(select(Member).where(Member.household_id == household_id).order_by(col(Member.id)))
    ).all()
    return Side(
        id=household_id,
        village_code=household.village_code,
        head_name=household.head_name,
        phone=_masked(cipher, household.phone_enc, mask_phone),
        household_number=_masked(cipher, household.household_number_enc, mask_household_number),
        created_by=household.created_by,
        answered_by=household.answered_by,
        created_at=household.created_at,
        members=tuple((row.name, row.relation, _masked(cipher, row.id_number_enc, mask_id)) for row in rows),
    )


def _masked(cipher: Cipher, token: str | None, mask: object) -> str | None:
    """A stored number, masked."""
    return mask(cipher.decrypt(token)) if token else None  # type: ignore[operator]


async def decide(
    *,
    session: AsyncSession,
    link_id: int,
    decision: str,
    actor: str,
    channel: str,
    now: datetime | None = None,
) -> bool:
    """Apply HR's decision on an open link; False when there is no such open link. Commits."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
    link = await session.get(HouseholdLink, link_id)
    if link is None or link.status != OPEN:
        return False
    moment = now or utc_now()
    held_id = link.held_household_id
    if decision == KEEP_STORED:
        await _drop_held(session, held_id)
    else:
        link.status, link.decided_by, link.decided_at = decision, actor, moment
        held = await session.get(Household, held_id)
        if held is not None:
            held.needs_review = False
    detail = f"decision={decision},held={held_id},stored={link.stored_household_id}"
    await audit.record(
        session=session, actor=actor, action="reconcile.decide", target_kind="household_link",
        target_id=link_id, channel=channel, detail=detail, now=moment, commit=False,
    )  # fmt: skip
    await session.commit()
    return True


async def _drop_held(session: AsyncSession, household_id: int) -> None:
    """Delete a held entry with everything that refers to it, and the outbox entries of its records."""
    records = select(IntentRecord.id).where(IntentRecord.household_id == household_id)
    record_ids = list((await session.exec(records)).all())
    deleted: dict[str, set] = {}
    outbox = Outbox.__table__  # type: ignore[attr-defined]
    if record_ids:
        entries = select(Outbox.id).where(
            Outbox.kind == "intent_record", col(Outbox.record_id).in_(record_ids)
        )
        await delete_rows(session, outbox, outbox.c.id, list((await session.exec(entries)).all()), deleted)
    table = Household.__table__  # type: ignore[attr-defined]
    await delete_rows(session, table, table.c.id, [household_id], deleted)
