"""Key rotation: re-encrypt every stored personal number under the first DATA_KEY secret.

Procedure: put the new secret first in DATA_KEY and keep the old one after it ("new,old");
restart (lookups find rows under either secret meanwhile, see Cipher.lookup_hashes); call
`rotate_keys`; then remove the old secret. The keyed hashes cannot be converted from one key
to another, so each is re-computed from the plain value, which decrypting the token gives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher
from storage.models import Household, Member

BATCH = 500
ModelT = TypeVar("ModelT", Household, Member)


async def rotate_keys(*, session: AsyncSession, cipher: Cipher) -> int:
    """Re-encrypt and re-hash every personal number in one transaction; returns the rows rewritten."""
    rewritten = 0
    try:
        async for household in _rows(session, Household):
            rewritten += _rotate_household(household, cipher)
        async for member in _rows(session, Member):
            rewritten += _rotate_member(member, cipher)
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
    """Re-encrypt and re-hash the resident ID number."""
    if not member.id_number_enc:
        return 0
    id_number = cipher.decrypt(member.id_number_enc)
    member.id_number_enc = cipher.encrypt(id_number)
    member.id_number_hash = cipher.lookup_hash("id_number", id_number)
    return 1
