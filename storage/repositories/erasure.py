"""Erasure (PIPL): remove a person's or a household's data everywhere, leaving an audit entry only.

Where a person's data lives: their member row and its intent records and guardian consents
(and any row of another feature that refers to those, see storage.repositories.cascade); the
outbox entries of those records; other outbox payloads, notes and households' `conflicts`
that mention them; dialog drafts in the `conversation` table (JSON, searched for the plain or
hashed numbers, see storage.repositories.erasure_scrub). A household's head also stands in the
household row (head name, phone): erasing the head of a household that has other members
blanks those fields and flags the household for review; erasing its last member erases it.

Each function runs in one transaction and commits once, with its audit entry (ids and counts
only); on SQLite it then compacts the file (storage.repositories.cascade.compact). With
`preview=True` it does all the work, reports what it would erase, and rolls back instead.

Numbers are matched as whole identifiers only (never as a part of longer text), and a number that
finds no person or household in the records erases nothing anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher
from storage.models import Household, utc_now
from storage.models import Member as Person
from storage.repositories import audit
from storage.repositories.cascade import compact, counts, delete_rows
from storage.repositories.erasure_scrub import Eraser, clean_up

ERASE = "erase"


@dataclass(frozen=True)
class Erased:
    """What an erasure removed: rows per table, ids of households and members, rows scrubbed."""

    found: bool
    counts: dict[str, int]
    household_ids: tuple[int, ...] = ()
    member_ids: tuple[int, ...] = ()
    scrubbed: int = 0
    preview: bool = False


# ---------------------------------------------------------------- entry points


async def erase_person(
    *,
    session: AsyncSession,
    cipher: Cipher,
    id_number: str,
    actor: str,
    channel: str,
    keep_key: str | None = None,
    preview: bool = False,
) -> Erased:
    """Erase the person with this resident ID number (and held copies of them). Commits."""
    eraser = Eraser(session, cipher, actor, channel, keep_key)
    hashes = cipher.lookup_hashes("id_number", id_number)
    found = (col(Person.id_number_hash).in_(hashes)) | (col(Person.held_hash).in_(hashes))
    people = list((await session.exec(select(Person).where(found).order_by(col(Person.id)))).all())
    if people:
        eraser.needles.add_number(cipher, "id_number", id_number)
    for person in people:
        await _erase_person(eraser, person)
    await clean_up(eraser)
    return await _finish(eraser, "person", people[0].id if people else None, preview)


async def erase_household(
    *,
    session: AsyncSession,
    cipher: Cipher,
    household_number: str,
    actor: str,
    channel: str,
    keep_key: str | None = None,
    preview: bool = False,
) -> Erased:
    """Erase the household with this household number (and held entries of it), all its members. Commits."""
    eraser = Eraser(session, cipher, actor, channel, keep_key)
    hashes = cipher.lookup_hashes("household_number", household_number)
    found = (col(Household.household_number_hash).in_(hashes)) | (col(Household.held_hash).in_(hashes))
    households = list((await session.exec(select(Household).where(found).order_by(col(Household.id)))).all())
    if households:
        eraser.needles.add_number(cipher, "household_number", household_number)
    await _erase_households(eraser, households)
    await clean_up(eraser)
    return await _finish(eraser, "household", households[0].id if households else None, preview)


async def erase_submitted_by(
    *, session: AsyncSession, cipher: Cipher, channel_key: str, actor: str, channel: str
) -> Erased:
    """Erase the households a channel key entered itself (/forget), whoever touched them later. Commits.

    Entries a work team made stay (the county HR office erases those); so do the stored families
    a held entry of this key matched: only the held entry goes.
    """
    eraser = Eraser(session, cipher, actor, channel, keep_key=channel_key)
    statement = select(Household).where(Household.created_by == channel_key)
    households = list((await session.exec(statement.order_by(col(Household.id)))).all())
    await _erase_households(eraser, households)
    await clean_up(eraser)
    return await _finish(eraser, "channel", None)


# ---------------------------------------------------------------- households and people


async def _erase_households(eraser: Eraser, households: list[Household]) -> None:
    """Delete whole households, with everything that refers to them."""
    for household in households:
        await _collect_household(eraser, household)
    table = Household.__table__  # type: ignore[attr-defined]
    await delete_rows(eraser.session, table, table.c.id, [h.id for h in households], eraser.deleted)


async def _collect_household(eraser: Eraser, household: Household) -> None:
    """Add the household's and its members' names and numbers to the needles."""
    needles, cipher = eraser.needles, eraser.cipher
    needles.add_name(household.head_name)
    needles.add_number(cipher, "phone", _plain(cipher, household.phone_enc))
    needles.add_number(cipher, "household_number", _plain(cipher, household.household_number_enc))
    needles.villages.add(household.village_code)
    if household.id is not None:
        needles.household_ids.add(household.id)
    members = await eraser.session.exec(select(Person).where(Person.household_id == household.id))
    for member in members.all():
        _collect_person(eraser, member)


def _collect_person(eraser: Eraser, person: Person) -> None:
    """Add one person's name, ID number and row ids to the needles."""
    eraser.needles.add_name(person.name)
    eraser.needles.add_number(eraser.cipher, "id_number", _plain(eraser.cipher, person.id_number_enc))
    eraser.needles.household_ids.add(person.household_id)
    if person.id is not None:
        eraser.needles.member_ids.add(person.id)


async def _erase_person(eraser: Eraser, person: Person) -> None:
    """Delete one member; blank the household's head fields if it was the head; drop an empty household."""
    household = await eraser.session.get(Household, person.household_id)
    _collect_person(eraser, person)
    others = (
        select(func.count())
        .select_from(Person)
        .where(Person.household_id == person.household_id, Person.id != person.id)
    )
    if household is not None and not (await eraser.session.exec(others)).one():
        await _erase_households(eraser, [household])
        return
    if household is not None:
        eraser.needles.villages.add(household.village_code)
        _blank_head(eraser, household, person)
    table = Person.__table__  # type: ignore[attr-defined]
    await delete_rows(eraser.session, table, table.c.id, [person.id], eraser.deleted)


def _blank_head(eraser: Eraser, household: Household, person: Person) -> None:
    """The head's name and the household's phone go with the head; HR is asked to review."""
    if person.relation != "head" and household.head_name != person.name:
        return
    eraser.needles.add_number(eraser.cipher, "phone", _plain(eraser.cipher, household.phone_enc))
    household.head_name, household.phone_enc, household.needs_review = "", None, True
    eraser.scrubbed += 1


def _plain(cipher: Cipher, token: str | None) -> str | None:
    """A stored number in plain text."""
    return cipher.decrypt(token) if token else None


# ---------------------------------------------------------------- finishing


async def _finish(eraser: Eraser, kind: str, target: int | None, preview: bool = False) -> Erased:
    """Write the audit entry, commit, compact; what was erased (a preview rolls back instead)."""
    found = bool(eraser.deleted.get("household") or eraser.deleted.get("member"))
    tally = counts(eraser.deleted)
    detail = ",".join(f"{name}={n}" for name, n in sorted(tally.items())) or "nothing_found"
    await audit.record(
        session=eraser.session,
        actor=eraser.actor,
        action=ERASE,
        target_kind=kind,
        target_id=target,
        channel=eraser.channel,
        detail=detail[:255],
        now=utc_now(),
        commit=False,
    )
    if preview:
        await eraser.session.rollback()
    else:
        await eraser.session.commit()
        await compact(eraser.session)
    return Erased(
        preview=preview,
        found=found,
        counts=tally,
        household_ids=tuple(sorted(eraser.deleted.get("household", set()))),
        member_ids=tuple(sorted(eraser.deleted.get("member", set()))),
        scrubbed=eraser.scrubbed,
    )
