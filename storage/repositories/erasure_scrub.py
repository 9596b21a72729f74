"""What still mentions erased people after their rows are gone: outbox payloads, notes, conflicts, drafts.

Numbers (resident IDs, phones, household numbers, in plain, as lookup hashes or inside Fernet
tokens) identify a person anywhere. Names do not: another family may have a member of the same
name. So a name only counts inside the erased people's own households (their outbox entries,
notes and conflicts), and in a dialog draft only together with their village's code.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher, DecryptionError, normalise
from storage.models import Conversation, Household, IntentRecord, Outbox
from storage.repositories.cascade import delete_rows, sweep_text

TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts so
BATCH = 500
# Tables the clean-up below handles row by row; the last, generic pass sweeps the others.
HANDLED_TABLES = frozenset({"household", "member", "consent", "intent_record", "outbox"})


@dataclass
class Needles:
    """What identifies the people being erased, and where their names may be matched."""

    names: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    member_ids: set[int] = field(default_factory=set)
    household_ids: set[int] = field(default_factory=set)
    villages: set[str] = field(default_factory=set)

    def add_number(self, cipher: Cipher, kind: str, value: str | None) -> None:
        """A plain number and its keyed hashes under every secret."""
        if value:
            self.numbers.add(normalise(value))
            self.numbers.update(cipher.lookup_hashes(kind, value))

    def add_name(self, name: str | None) -> None:
        """A name (a single character would match unrelated text)."""
        if name and len(name.strip()) >= 2:
            self.names.add(name.strip())

    def hit(self, text: str, *, by_name: bool) -> bool:
        """Whether a string holds one of the numbers as a whole identifier (or, when asked, a name)."""
        if self.numbers and _whole(self.numbers).search(text.upper()):
            return True
        return by_name and any(n in text for n in self.names)


@lru_cache(maxsize=64)
def _numbers_pattern(numbers: frozenset[str]) -> re.Pattern[str]:
    """One regex finding any of the numbers, not preceded or followed by a letter or digit."""
    alternatives = "|".join(sorted((re.escape(n.upper()) for n in numbers), key=len, reverse=True))
    return re.compile(rf"(?<![0-9A-Z])(?:{alternatives})(?![0-9A-Z])")


def _whole(numbers: set[str]) -> re.Pattern[str]:
    """The pattern of a set of numbers (cached: the set is fixed once an erasure has begun)."""
    return _numbers_pattern(frozenset(numbers))


@dataclass
class Eraser:
    """One erasure's context: where to write, how to decrypt, who asks, what to look for."""

    session: AsyncSession
    cipher: Cipher
    actor: str
    channel: str
    keep_key: str | None = None  # a conversation held by the caller's own turn: not touched here
    needles: Needles = field(default_factory=Needles)
    deleted: dict[str, set] = field(default_factory=dict)
    scrubbed: int = 0

    def mentions(self, value: Any, *, by_name: bool) -> bool:
        """Whether a JSON value (or a Fernet token inside it) identifies one of the people."""
        if isinstance(value, dict):
            if value.get("member_id") in self.needles.member_ids:
                return True
            return any(self.mentions(v, by_name=by_name) for v in value.values())
        if isinstance(value, list):
            return any(self.mentions(v, by_name=by_name) for v in value)
        if not isinstance(value, str):
            return False
        opened = self._open(value) if value.startswith(TOKEN_PREFIX) else ""
        return self.needles.hit(value, by_name=by_name) or self.needles.hit(opened, by_name=by_name)

    def _open(self, token: str) -> str:
        """A token's plain text, or "" when it is not one of ours."""
        try:
            return self.cipher.decrypt(token)
        except (DecryptionError, ValueError):
            return ""


async def clean_up(eraser: Eraser) -> None:
    """Outbox entries, notes, conflicts, drafts and other features' text that still mention the people."""
    await _drop_outbox_of_records(eraser)
    await _scrub_outbox(eraser)
    await _scrub_notes(eraser)
    await _scrub_conflicts(eraser)
    await _drop_drafts(eraser)
    eraser.scrubbed += await sweep_text(eraser.session, _names_in_scope(eraser), skip=HANDLED_TABLES)


def _names_in_scope(eraser: Eraser) -> set[str]:
    """Names are swept from other features' text only when the people were found in the records."""
    return eraser.needles.names if eraser.needles.household_ids else set()


async def _drop_outbox_of_records(eraser: Eraser) -> None:
    """Outbox entries that reported the deleted intent records (and their deliveries)."""
    records = sorted(eraser.deleted.get("intent_record", set()))
    table = Outbox.__table__  # type: ignore[attr-defined]
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        found = select(Outbox.id).where(Outbox.kind == "intent_record", col(Outbox.record_id).in_(batch))
        ids = list((await eraser.session.exec(found)).all())
        await delete_rows(eraser.session, table, table.c.id, ids, eraser.deleted)


async def _scrub_outbox(eraser: Eraser) -> None:
    """Other outbox payloads that identify the people (e.g. the head's name in a sibling's record)."""
    for entry in (await eraser.session.exec(select(Outbox))).all():
        payload = json.loads(entry.payload)
        household = payload.get("household") if isinstance(payload, dict) else None
        by_name = isinstance(household, dict) and household.get("id") in eraser.needles.household_ids
        if eraser.mentions(payload, by_name=by_name):
            redacted = _redact(eraser, payload, by_name=by_name)
            entry.payload = json.dumps(redacted, ensure_ascii=False, sort_keys=True)
            eraser.scrubbed += 1


def _redact(eraser: Eraser, value: Any, *, by_name: bool) -> Any:
    """A JSON value with every string that identifies the people replaced by an empty one."""
    if isinstance(value, dict):
        return {k: _redact(eraser, v, by_name=by_name) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(eraser, v, by_name=by_name) for v in value]
    return "" if isinstance(value, str) and eraser.mentions(value, by_name=by_name) else value


async def _scrub_notes(eraser: Eraser) -> None:
    """HR's free-text notes on the remaining records of the people's households."""
    statement = select(IntentRecord).where(
        col(IntentRecord.status_note).is_not(None),
        col(IntentRecord.household_id).in_(sorted(eraser.needles.household_ids)),
    )
    for record in (await eraser.session.exec(statement)).all():
        if eraser.mentions(record.status_note, by_name=True):
            record.status_note = None
            eraser.scrubbed += 1


async def _scrub_conflicts(eraser: Eraser) -> None:
    """Conflict entries (old and new values, tokens included) that identify the people."""
    statement = select(Household).where(Household.conflicts != "[]")
    for household in (await eraser.session.exec(statement)).all():
        by_name = household.id in eraser.needles.household_ids
        entries = json.loads(household.conflicts or "[]")
        kept = [entry for entry in entries if not eraser.mentions(entry, by_name=by_name)]
        if len(kept) != len(entries):
            household.conflicts = json.dumps(kept, ensure_ascii=False, default=str)
            eraser.scrubbed += 1


async def _drop_drafts(eraser: Eraser) -> None:
    """Dialog states holding the people (drafts), except the caller's own, which its turn clears."""
    doomed = [key async for key in _conversations_mentioning(eraser)]
    for start in range(0, len(doomed), BATCH):
        statement = delete(Conversation).where(col(Conversation.key).in_(doomed[start : start + BATCH]))
        await eraser.session.exec(statement)  # type: ignore[call-overload]
    eraser.deleted.setdefault("conversation", set()).update(doomed)


async def _conversations_mentioning(eraser: Eraser) -> AsyncIterator[str]:
    """Keys of stored dialog states that identify the people, a batch at a time."""
    last = ""
    while True:
        statement = select(Conversation.key, Conversation.state).where(Conversation.key > last)
        rows = (await eraser.session.exec(statement.order_by(col(Conversation.key)).limit(BATCH))).all()
        for key, state in rows:
            if key != eraser.keep_key and _state_mentions(eraser, state):
                yield key
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def _state_mentions(eraser: Eraser, state: str) -> bool:
    """Whether a stored state identifies the people: a number, or a name beside their village's code."""
    by_name = any(village in state for village in eraser.needles.villages)
    try:
        return eraser.mentions(json.loads(state), by_name=by_name)
    except ValueError:
        return eraser.mentions(state, by_name=by_name)
