"""Finding a submitted household and its members again, and merging what the new entry says.

A household is the same when (in this order) its household number matches (keyed hash); or
members' ID numbers match members of one stored household that has no other household number;
or the same channel entered the same head name in the same village before, with no number.
A member is the same when the ID number matches (wherever the row lives), or, inside the same
household, when the name matches and at most one side has an ID number.

Who may merge: a work team (answered_by "worker", a role the bot checked), or a household into the
entry it made itself and nobody else touched since; anything else that matches is held beside the
stored family instead (storage.repositories.intake_hold).

Merging: the newer value is written; an unknown (None, or status "unknown") never overwrites a
known one. Where two known values of an identifying field disagree, the old one is kept in the
household's `conflicts` (masked and encrypted for numbers) and the household is flagged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher, mask_phone
from storage.models import Household, Member
from storage.submission import HouseholdIn, MemberIn, Submission

# Fields whose disagreement HR must look at; other facts (education, situation, ...) change
# over time, so the newer value simply replaces the older.
HOUSEHOLD_CHECKED = ("village_code", "head_name", "status")
MEMBER_CHECKED = ("name", "sex", "relation")
MEMBER_FIELDS = (
    "name",
    "relation",
    "sex",
    "age",
    "education",
    "two_after",
    "labour_capacity",
    "situation",
)
UNKNOWN_VALUES = (None, "unknown")


@dataclass
class Writer:
    """One submission's write context: who, when, and the conflicts found so far."""

    session: AsyncSession
    cipher: Cipher
    who: str
    answered_by: str
    now: datetime
    flagged: dict[int, Household] = field(default_factory=dict)
    conflict_fields: list[str] = field(default_factory=list)
    claimed: set[int] = field(default_factory=set)  # member rows already used by this submission
    previous_submitter: dict[int, str] = field(default_factory=dict)  # before this submission wrote
    trusted: bool = False  # a work team's entry (the bot checked the role): may update stored rows
    force_hold: bool = False  # a retry after a concurrent insert: whatever matches is held
    held: list[int] = field(default_factory=list)  # ids of held entries this submission made

    def conflict(self, households: list[Household], name: str, old: Any, new: Any, **extra: Any) -> None:
        """Keep both values on each household and flag it for review."""
        for household in households:
            entry = {
                "field": name,
                "old": old,
                "new": new,
                "who": self.who,
                "answered_by": self.answered_by,
                "old_who": self.previous_submitter.get(household.id or 0, household.submitted_by),
                "when": self.now.isoformat(),
                **extra,
            }
            household.conflicts = json.dumps(
                [*json.loads(household.conflicts or "[]"), entry], ensure_ascii=False, default=str
            )
            household.needs_review = True
            if household.id is not None:
                self.flagged[household.id] = household
        if name not in self.conflict_fields:
            self.conflict_fields.append(name)


# ---------------------------------------------------------------- households


async def find_household(
    writer: Writer, intake: Submission, members: list[MemberIn]
) -> tuple[Household | None, str]:
    """The stored household this submission describes (None for a new one), and what matched."""
    number = intake.household.household_number
    if number is not None:
        hashes = writer.cipher.lookup_hashes("household_number", number)
        found = await _first(
            writer, select(Household).where(col(Household.household_number_hash).in_(hashes))
        )
        if found is not None:
            return found, "household_number"
    found = await _household_of_members(writer, members, has_number=number is not None)
    if found is not None:
        return found, "id_number"
    same_entry = select(Household).where(
        col(Household.household_number_hash).is_(None),
        col(Household.held_hash).is_(None),
        Household.submitted_by == writer.who,
        Household.village_code == intake.village_code,
        Household.head_name == intake.household.head_name,
    )
    return await _first(writer, same_entry.order_by(col(Household.id))), "same_entry"


async def _household_of_members(
    writer: Writer, members: list[MemberIn], *, has_number: bool
) -> Household | None:
    """The household holding most of these ID numbers, unless it has a different household number."""
    hashes = [
        h for m in members if m.id_number for h in writer.cipher.lookup_hashes("id_number", m.id_number)
    ]
    if not hashes:
        return None
    count = func.count(col(Member.id))
    statement = (
        select(Member.household_id, count)
        .where(col(Member.id_number_hash).in_(hashes))
        .group_by(col(Member.household_id))
        .order_by(count.desc(), col(Member.household_id))
    )
    for household_id, _ in (await writer.session.exec(statement)).all():
        household = await writer.session.get(Household, household_id)
        if household is not None and (not has_number or household.household_number_hash is None):
            return household
    return None


def new_household(writer: Writer, intake: Submission) -> Household:
    """A household row for a first submission (not yet added to the session)."""
    facts = intake.household
    household = Household(
        village_code=intake.village_code,
        head_name=facts.head_name,
        status=facts.status,
        answered_by=writer.answered_by,
        submitted_by=writer.who,
        created_by=writer.who,
        created_at=writer.now,
        updated_at=writer.now,
    )
    _set_numbers(writer, household, facts)
    return household


def merge_household(writer: Writer, household: Household, intake: Submission) -> None:
    """Write the newer facts into a stored household, keeping disagreements as conflicts."""
    facts = intake.household
    writer.previous_submitter[household.id or 0] = household.submitted_by
    newer = {"village_code": intake.village_code, "head_name": facts.head_name, "status": facts.status}
    for name in HOUSEHOLD_CHECKED:
        old, new = getattr(household, name), newer[name]
        if new in UNKNOWN_VALUES:
            continue
        if old not in UNKNOWN_VALUES and old != new:
            writer.conflict([household], name, old, new)
        setattr(household, name, new)
    _merge_phone(writer, household, facts.phone)
    _set_numbers(writer, household, facts)
    household.answered_by, household.submitted_by = writer.answered_by, writer.who
    household.updated_at = writer.now


def _merge_phone(writer: Writer, household: Household, phone: str | None) -> None:
    """A new phone replaces the old one; a different old one is kept, encrypted, in the conflicts."""
    if phone is None or household.phone_enc is None:
        return
    old = writer.cipher.decrypt(household.phone_enc)
    if old == phone:
        return
    token = writer.cipher.encrypt(phone)
    writer.conflict(
        [household], "phone", mask_phone(old), mask_phone(phone), old_enc=household.phone_enc, new_enc=token
    )
    household.phone_enc = token


def _set_numbers(writer: Writer, household: Household, facts: HouseholdIn) -> None:
    """Fill in the household number and the phone where none is stored yet."""
    cipher = writer.cipher
    if (
        facts.household_number is not None
        and household.household_number_hash is None
        and not household.held_hash
    ):
        household.household_number_enc = cipher.encrypt(facts.household_number)
        household.household_number_hash = cipher.lookup_hash("household_number", facts.household_number)
    if facts.phone is not None and household.phone_enc is None:
        household.phone_enc = cipher.encrypt(facts.phone)


# ---------------------------------------------------------------- members


async def find_member(
    writer: Writer, household: Household, member: MemberIn, *, is_new: bool
) -> Member | None:
    """The stored row of this person, or None for a new one (this household's own rows first)."""
    if member.id_number is not None:
        hashes = writer.cipher.lookup_hashes("id_number", member.id_number)
        here = (col(Member.id_number_hash).in_(hashes)) | (col(Member.held_hash).in_(hashes))
        if not is_new:
            found = await _first(writer, select(Member).where(Member.household_id == household.id, here))
            if found is not None:
                return found
        found = await _first(writer, select(Member).where(col(Member.id_number_hash).in_(hashes)))
        if found is not None:
            return found
    if is_new:
        return None
    same_name = select(Member).where(Member.household_id == household.id, Member.name == member.name)
    for row in (await writer.session.exec(same_name.order_by(col(Member.id)))).all():
        if row.id not in writer.claimed and (
            member.id_number is None or not (row.id_number_hash or row.held_hash)
        ):
            return row
    return None


def new_member(writer: Writer, household: Household, member: MemberIn) -> Member:
    """A member row for a person seen for the first time (not yet added to the session)."""
    row = Member(
        household_id=household.id,
        created_at=writer.now,
        updated_at=writer.now,
        **{name: getattr(member, name) for name in MEMBER_FIELDS},
    )
    row.birth_date_enc = writer.cipher.seal_date(member.birth_date)
    _set_id_number(writer, row, member)
    return row


async def merge_member(writer: Writer, household: Household, row: Member, member: MemberIn) -> None:
    """Write the newer facts into a stored member; a member of another household flags both."""
    households = [household]
    if row.household_id != household.id:
        home = await writer.session.get(Household, row.household_id)
        households = [home, household] if home is not None else households
        writer.conflict(households, "member.household", row.household_id, household.id, member_id=row.id)
    for name in MEMBER_FIELDS:
        old, new = getattr(row, name), getattr(member, name)
        if new is None or (name == "relation" and len(households) > 1):
            continue  # unknown, or a relation to another household's head
        if name in MEMBER_CHECKED and old is not None and old != new:
            writer.conflict(households, f"member.{name}", old, new, member_id=row.id)
        setattr(row, name, new)
    _merge_birth_date(writer, households, row, member)
    _set_id_number(writer, row, member)
    row.updated_at = writer.now


def _merge_birth_date(writer: Writer, households: list[Household], row: Member, member: MemberIn) -> None:
    """A new birth date replaces the old one; a different old one is kept, sealed, in the conflicts."""
    if member.birth_date is None:
        return
    token = writer.cipher.seal_date(member.birth_date)
    old = writer.cipher.open_date(row.birth_date_enc)
    if old is not None and old != member.birth_date:
        extra = {"member_id": row.id, "old_enc": row.birth_date_enc, "new_enc": token}
        writer.conflict(households, "member.birth_date", "****", "****", **extra)
    row.birth_date_enc = token


def _set_id_number(writer: Writer, row: Member, member: MemberIn) -> None:
    """Store the ID number (encrypted, hashed) where none is stored yet."""
    if member.id_number is not None and row.id_number_hash is None and not row.held_hash:
        row.id_number_enc = writer.cipher.encrypt(member.id_number)
        row.id_number_hash = writer.cipher.lookup_hash("id_number", member.id_number)


async def _first(writer: Writer, statement: Any) -> Any:
    """The first row of a select, or None."""
    return (await writer.session.exec(statement)).first()
