"""Storing a household's intake (schooling and training wishes) for the county HR offices.

`submit_intake` writes the household, its members, the consents, the intent records and one
outbox entry per new or changed intent record in one transaction: it commits once at the end,
and on any error rolls back, so nothing of the submission is written.

Rules (see storage.repositories.intake_match for how the same household or person is found):
- Without the household's consent nothing at all is stored; the result says "no_consent".
- A child under 14 (by stated age, birth date or the birth date inside the ID number) without a
  guardian's separate consent is not stored at all, not even the name: data minimisation. So is
  a child or grandchild whose age is unknown, as they may be under 14.
- A member whose wish is "none" is stored without an intent record.
- The same person or household entered again by a work team, or by the household that made the
  entry, updates the stored rows; where two entries disagree both values are kept in
  `household.conflicts` and the household is flagged. Entered by anyone else, it is held beside
  the stored family for HR to reconcile (storage.repositories.intake_hold).
- Two submissions naming the same new person at once: the one that loses the race on the unique
  hash is written again, held beside the winner (never lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher
from storage.models import Consent, Household, IntentRecord, Member, Outbox, utc_now
from storage.repositories import intake_hold as hold
from storage.repositories import intake_match as match
from storage.repositories import masks
from storage.repositories.intake_records import queue, upsert_intent
from storage.repositories.keys import rotate_keys
from storage.submission import (
    ConsentIn,
    MemberIn,
    Submission,
    child_without_consent,
    consent_given,
    parse_submission,
)

NO_CONSENT = "no_consent"
DUPLICATE = "duplicate_in_submission"
NO_WISH = "no_wish"  # stored, but nothing to forward to HR
# Unique hashes two concurrent submissions of the same new person or household can race for.
RACED_COLUMNS = ("id_number_hash", "household_number_hash")

__all__ = ["LeftOut", "SubmitResult", "rotate_keys", "submit_intake"]


@dataclass(frozen=True)
class LeftOut:
    """A member (by position in the submission) that was not stored or not forwarded, and why."""

    index: int
    code: str  # under_14_without_guardian_consent, age_unknown_without_guardian_consent,
    # duplicate_in_submission (these three: nothing stored), no_wish (stored, not forwarded)


@dataclass(frozen=True)
class SubmitResult:
    """What a submission changed; `stored` is False (with `reason`) when nothing was written."""

    stored: bool
    reason: str | None = None
    household_id: int | None = None
    member_ids: tuple[int | None, ...] = ()  # by position in the submission; None: not stored
    new_intent_ids: tuple[int, ...] = ()
    updated_intent_ids: tuple[int, ...] = ()
    outbox_ids: tuple[int, ...] = ()
    flagged_household_ids: tuple[int, ...] = ()  # households this submission flagged for review
    held_household_ids: tuple[int, ...] = ()  # held entries: matched a family someone else entered
    conflict_fields: tuple[str, ...] = ()  # names only, safe to log
    left_out: tuple[LeftOut, ...] = ()


async def submit_intake(
    *,
    session: AsyncSession,
    submission: dict,
    cipher: Cipher,
    submitted_by: str,
    eligibility_by_member: list[dict | None] | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store one intake in one transaction (commits once); raises ValueError on a broken contract."""
    if not consent_given(submission):
        return SubmitResult(stored=False, reason=NO_CONSENT)
    intake = parse_submission(submission)
    eligibility = list(eligibility_by_member or [])
    if len(eligibility) not in (0, len(intake.members)):
        raise ValueError("eligibility_by_member must have one entry per member")
    moment = now or utc_now()
    try:
        return await _write_and_commit(
            match.Writer(
                session,
                cipher,
                submitted_by,
                intake.answered_by,
                moment,
                trusted=intake.answered_by == "worker",
            ),
            intake,
            eligibility,
        )
    except IntegrityError as error:
        if not any(column in str(error.orig) for column in RACED_COLUMNS):
            raise
        # Another transaction stored the same new person or number first: hold this one beside it.
        writer = match.Writer(session, cipher, submitted_by, intake.answered_by, moment, force_hold=True)
        return await _write_and_commit(writer, intake, eligibility)


async def _write_and_commit(
    writer: match.Writer, intake: Submission, eligibility: list[dict | None]
) -> SubmitResult:
    """Write, refresh the masks and commit; roll back on any error."""
    session = writer.session
    try:
        result = await _write(writer, intake, eligibility)
        # Masked numbers for HR's lists and exports, kept in step within the same transaction.
        await masks.refresh(session=session, cipher=writer.cipher, household_ids=[result.household_id],
                            member_ids=result.member_ids)  # fmt: skip
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return result


async def _write(writer: match.Writer, intake: Submission, eligibility: list[dict | None]) -> SubmitResult:
    """Every row of the submission, flushed but not committed."""
    day = writer.now.date()
    left_out = {i: code for i, m in enumerate(intake.members) if (code := child_without_consent(m, day))}
    allowed = [m for i, m in enumerate(intake.members) if i not in left_out]
    household, is_new = await _household(writer, intake, allowed)
    writer.session.add(_consent(writer, intake.consent, household.id))
    member_ids: list[int | None] = []
    changed: list[tuple[IntentRecord, str, Member]] = []
    for index, member in enumerate(intake.members):
        row = None if index in left_out else await _member(writer, household, member, intake, is_new=is_new)
        member_ids.append(row.id if row is not None else None)
        if row is None:
            left_out.setdefault(index, DUPLICATE)
        elif member.wish.kind == "none":
            left_out[index] = NO_WISH
        else:
            wish_eligibility = eligibility[index] if eligibility else None
            change = await _intent(writer, household, row, member, wish_eligibility)
            changed += [change] if change is not None else []
    outbox = await _queue_all(writer, changed)
    return SubmitResult(
        stored=True,
        household_id=household.id,
        member_ids=tuple(member_ids),
        new_intent_ids=tuple(record.id for record, change, _ in changed if change == "new"),
        updated_intent_ids=tuple(record.id for record, change, _ in changed if change == "updated"),
        outbox_ids=tuple(entry.id for entry in outbox),
        flagged_household_ids=tuple(sorted(writer.flagged)),
        held_household_ids=tuple(writer.held),
        conflict_fields=tuple(writer.conflict_fields),
        left_out=tuple(LeftOut(index, code) for index, code in sorted(left_out.items())),
    )


async def _intent(
    writer: match.Writer, household: Household, row: Member, member: MemberIn, eligibility: dict | None
) -> tuple[IntentRecord, str, Member] | None:
    """The member's intent record, created or updated, with what changed; None when unchanged."""
    home = household if row.household_id == household.id else await _home(writer, row)
    record, change = await upsert_intent(
        writer, member=row, household=home, wish=member.wish, eligibility=eligibility
    )
    return (record, change, row) if change is not None else None


async def _household(
    writer: match.Writer, intake: Submission, members: list[MemberIn]
) -> tuple[Household, bool]:
    """The stored household, merged, or a new one (held beside the match); flushed so it has an id."""
    household, matched_by = await match.find_household(writer, intake, members)
    if household is not None and not hold.may_merge(writer, household):
        own = await hold.own_held_entry(writer, household)
        if own is None:
            return await hold.hold_household(writer, intake, household, matched_by), True
        household = own
    is_new = household is None
    if household is None:
        household = match.new_household(writer, intake)
        writer.session.add(household)
    else:
        match.merge_household(writer, household, intake)
    await writer.session.flush()
    return household, is_new


async def _member(
    writer: match.Writer, household: Household, member: MemberIn, intake: Submission, *, is_new: bool
) -> Member | None:
    """The member's row, merged or new and flushed; None when this submission already used that row."""
    row = await match.find_member(writer, household, member, is_new=is_new)
    if row is not None and row.id in writer.claimed:
        return None
    if row is not None and not hold.may_merge_member(writer, household, row):
        await hold.link(writer, household, row.household_id, "id_number")
        row = hold.hold_member(writer, household, member)
        writer.session.add(row)
    elif row is None:
        row = match.new_member(writer, household, member)
        writer.session.add(row)
    else:
        await match.merge_member(writer, household, row, member)
    await writer.session.flush()
    writer.claimed.add(row.id)
    if member.guardian_consent is True:
        writer.session.add(_consent(writer, intake.consent, household.id, member_id=row.id))
    return row


async def _home(writer: match.Writer, row: Member) -> Household:
    """The household a member row belongs to (another one when the person was entered elsewhere first)."""
    household = await writer.session.get(Household, row.household_id)
    if household is None:
        raise LookupError(f"member {row.id} has no household")
    return household


def _consent(
    writer: match.Writer, consent: ConsentIn, household_id: int, member_id: int | None = None
) -> Consent:
    """A consent row: the household's, or (with a member) a guardian's for that member."""
    # Contract version 1 carries one consent text; the guardian's answer is recorded against it.
    return Consent(
        household_id=household_id,
        member_id=member_id,
        kind="household" if member_id is None else "guardian",
        given=consent.given if member_id is None else True,
        text_version=consent.text_version,
        text=consent.text,
        language=consent.language,
        given_at=writer.now,
    )


async def _queue_all(writer: match.Writer, changed: list[tuple[IntentRecord, str, Member]]) -> list[Outbox]:
    """One outbox entry per new or changed record, built last so the payload sees every flag."""
    entries = []
    for record, _, member in changed:
        entries.append(queue(writer, record, member, await _home(writer, member)))
    await writer.session.flush()
    return entries
