"""Key rotation: re-encrypt every stored personal number under the first DATA_KEY secret.

Procedure: put the new secret first in DATA_KEY and keep the old one after it ("new,old");
restart (lookups find rows under either secret meanwhile, see Cipher.lookup_hashes); call
`rotate_keys`; then remove the old secret. The keyed hashes cannot be converted from one key
to another, so each is re-computed from the plain value, which decrypting the token gives.
Dialog drafts (their sealed answers) and sealed birth dates are re-encrypted too.

`check_key` runs at start: the key_check row holds a keyed hash of a fixed label under the key
that sealed the data, so a wrong DATA_KEY is refused before anything is stored under it.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher, DecryptionError
from storage.models import Conversation, Household, Member, utc_now
from storage.models_trust import KeyCheck

BATCH = 500
ModelT = TypeVar("ModelT", Household, Member)
SEALED = re.compile(r'"(gAAAAA[A-Za-z0-9_=-]+)"')  # the answers and kept drafts, see bot.core.sealing


class KeyMismatch(ValueError):
    """DATA_KEY is not the key the stored data was sealed with."""


WRONG_KEY = (
    "DATA_KEY does not open the stored data: it is not the key it was sealed with "
    "(to change keys, set DATA_KEY=new,old and run `outreach keys rotate`)"
)


async def check_key(*, session: AsyncSession, cipher: Cipher) -> None:
    """Refuse a wrong DATA_KEY (KeyMismatch); on first use remember the key's check value. Commits."""
    row = await session.get(KeyCheck, 1)
    if row is not None:
        if row.value not in cipher.key_checks():
            raise KeyMismatch(WRONG_KEY)
        return
    sample = await _any_token(session)
    if sample is not None:
        try:
            cipher.decrypt(sample)
        except DecryptionError:
            raise KeyMismatch(WRONG_KEY) from None
    try:
        session.add(KeyCheck(value=cipher.key_check(), updated_at=utc_now()))
        await session.commit()
    except IntegrityError:  # another process stored it at the same moment: compare with that one
        await session.rollback()
        await check_key(session=session, cipher=cipher)


async def _any_token(session: AsyncSession) -> str | None:
    """One stored token, to try the key on (data stored before the check value existed)."""
    for column in (Member.id_number_enc, Household.phone_enc, Household.household_number_enc):
        found = (await session.exec(select(column).where(col(column).is_not(None)).limit(1))).first()
        if found:
            return found
    return None


async def rotate_keys(*, session: AsyncSession, cipher: Cipher) -> int:
    """Re-encrypt and re-hash every personal number in one transaction; returns the rows rewritten."""
    rewritten = 0
    try:
        async for household in _rows(session, Household):
            rewritten += _rotate_household(household, cipher)
        async for member in _rows(session, Member):
            rewritten += _rotate_member(member, cipher)
        rewritten += await _rotate_drafts(session, cipher)
        await _store_check(session, cipher)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return rewritten


async def _rows(session: AsyncSession, model: type[ModelT]) -> AsyncIterator[ModelT]:
    """Every row of a table, in id order, a batch at a time (keyset pagination)."""
    last = 0
    while True:
        statement = select(model).where(col(model.id) > last).order_by(col(model.id)).limit(BATCH)
        batch = list((await session.exec(statement)).all())
        for row in batch:
            yield row
        if len(batch) < BATCH:
            return
        last = batch[-1].id or last
        await session.flush()  # write this batch's changes before reading the next


def _rotate_household(household: Household, cipher: Cipher) -> int:
    """Re-encrypt the household number, the phone and the numbers kept in conflicts."""
    touched = False
    if household.household_number_enc:
        number = cipher.decrypt(household.household_number_enc)
        household.household_number_enc = cipher.encrypt(number)
        if household.held_hash:
            household.held_hash = cipher.lookup_hash("household_number", number)
        else:
            household.household_number_hash = cipher.lookup_hash("household_number", number)
        touched = True
    if household.phone_enc:
        household.phone_enc = cipher.rotate(household.phone_enc)
        touched = True
    conflicts = json.loads(household.conflicts or "[]")
    if any([_rotate_entry(entry, cipher) for entry in conflicts]):  # a list: rotate every entry
        household.conflicts = json.dumps(conflicts, ensure_ascii=False)
        touched = True
    return int(touched)


def _rotate_entry(entry: dict[str, Any], cipher: Cipher) -> bool:
    """Re-encrypt the old_enc/new_enc tokens of one conflict; True if there were any."""
    keys = [key for key in ("old_enc", "new_enc") if entry.get(key)]
    for key in keys:
        entry[key] = cipher.rotate(entry[key])
    return bool(keys)


def _rotate_member(member: Member, cipher: Cipher) -> int:
    """Re-encrypt and re-hash the resident ID number (the held hash of a held copy); the birth date."""
    touched = 0
    if member.birth_date_enc:
        member.birth_date_enc, touched = cipher.rotate(member.birth_date_enc), 1
    if not member.id_number_enc:
        return touched
    id_number = cipher.decrypt(member.id_number_enc)
    member.id_number_enc = cipher.encrypt(id_number)
    if member.held_hash:
        member.held_hash = cipher.lookup_hash("id_number", id_number)
    else:
        member.id_number_hash = cipher.lookup_hash("id_number", id_number)
    return 1


async def _rotate_drafts(session: AsyncSession, cipher: Cipher) -> int:
    """Re-seal the answers of stored dialogs (a user's draft must open after the old key is gone)."""
    rewritten, last = 0, ""
    while True:
        statement = select(Conversation).where(Conversation.key > last).order_by(col(Conversation.key))
        batch = list((await session.exec(statement.limit(BATCH))).all())
        for conversation in batch:
            tokens = set(SEALED.findall(conversation.state))
            for token in tokens:
                conversation.state = conversation.state.replace(token, cipher.rotate(token))
            rewritten += bool(tokens)
        if len(batch) < BATCH:
            return rewritten
        last = batch[-1].key
        await session.flush()


async def _store_check(session: AsyncSession, cipher: Cipher) -> None:
    """The check value of the first secret, which now seals everything."""
    row = await session.get(KeyCheck, 1)
    if row is None:
        session.add(KeyCheck(value=cipher.key_check(), updated_at=utc_now()))
    else:
        row.value, row.updated_at = cipher.key_check(), utc_now()
