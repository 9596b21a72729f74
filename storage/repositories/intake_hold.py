"""Held entries: a household's own submission that matches a family somebody else entered.

Nobody authenticates a household-role user: knowing one child's ID number or the household
number must not let a stranger rewrite a family's names and phone, become who HR's notices go
to, move its records to another county, or erase it with /forget. So such a submission is stored
as a separate household (a "held entry"): its numbers' keyed hashes go to `held_hash` (the
unique hash columns stay with the stored family), it is flagged for review, a household_link
row puts it beside the household it matched, and the attempt is audited (ids only). HR sees
both and decides (storage.repositories.reconcile, `outreach reconcile`).
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Household, Member
from storage.models_trust import OPEN, HouseholdLink
from storage.repositories import audit
from storage.repositories.intake_match import Writer, new_household, new_member
from storage.submission import MemberIn, Submission

HELD = "intake.held"  # the audit action


def may_merge(writer: Writer, household: Household) -> bool:
    """Whether this submission may update a stored household: a work team's, or the key's own entry."""
    if writer.force_hold:
        return False
    if writer.trusted:
        return True
    return household.created_by == writer.who and household.submitted_by == writer.who


def may_merge_member(writer: Writer, household: Household, row: Member) -> bool:
    """Whether this submission may update a stored person found by ID number."""
    if writer.force_hold or not writer.trusted:
        return row.household_id == household.id
    return True


async def own_held_entry(writer: Writer, stored: Household) -> Household | None:
    """This key's open held entry beside `stored`: a second try updates it instead of adding one."""
    statement = (
        select(Household)
        .join(HouseholdLink, col(HouseholdLink.held_household_id) == col(Household.id))
        .where(
            HouseholdLink.stored_household_id == stored.id,
            HouseholdLink.status == OPEN,
            Household.created_by == writer.who,
        )
        .order_by(col(Household.id))
    )
    return (await writer.session.exec(statement)).first()


async def matched_records_of(*, session: AsyncSession, channel_key: str) -> int:
    """How many stored households this key's held entries matched (for /forget's answer)."""
    statement = (
        select(func.count())
        .select_from(HouseholdLink)
        .join(Household, col(HouseholdLink.held_household_id) == col(Household.id))
        .where(Household.created_by == channel_key)
    )
    return int((await session.exec(statement)).one())


async def hold_household(writer: Writer, intake: Submission, stored: Household, matched_by: str) -> Household:
    """A new held entry beside `stored`, linked and audited; flushed so it has an id."""
    held = new_household(writer, intake)
    held.held_hash, held.household_number_hash = held.household_number_hash, None
    held.needs_review = True
    writer.session.add(held)
    await writer.session.flush()
    await link(writer, held, stored.id, matched_by)
    return held


def hold_member(writer: Writer, household: Household, member: MemberIn) -> Member:
    """A held copy of a person stored in another household (not yet added to the session)."""
    row = new_member(writer, household, member)
    row.held_hash = writer.cipher.lookup_hash("id_number", member.id_number) if member.id_number else None
    row.id_number_hash = None
    household.needs_review = True
    return row


async def link(writer: Writer, held: Household, stored_id: int | None, matched_by: str) -> None:
    """Link a held entry to the household it matched (once) and audit the attempt."""
    if held.id is None or stored_id is None or held.id == stored_id:
        return
    existing = select(HouseholdLink).where(
        HouseholdLink.held_household_id == held.id, HouseholdLink.stored_household_id == stored_id
    )
    if (await writer.session.exec(existing)).first() is not None:
        return
    writer.session.add(
        HouseholdLink(
            held_household_id=held.id,
            stored_household_id=stored_id,
            matched_by=matched_by,
            created_at=writer.now,
        )
    )
    held.needs_review = True
    if held.id not in writer.held:
        writer.held.append(held.id)
    await audit.record(
        session=writer.session,
        actor=writer.who,
        action=HELD,
        target_kind="household",
        target_id=stored_id,
        channel=audit.channel_of(writer.who),
        detail=f"held={held.id},matched_by={matched_by},answered_by={writer.answered_by}",
        now=writer.now,
        commit=False,
    )
