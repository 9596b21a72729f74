"""A fast bulk path that writes many synthetic intakes at once, for demos and benchmarks only.

Real submissions go through storage.repositories.intake.submit_intake (matching, merging, one
transaction each, an outbox entry per wish). This path trusts its input to be new households with
new people (as bot.features.demo.data makes them): it assigns ids itself and inserts rows in batches of
executemany, encrypted, hashed and masked like the real path, with no matching and no outbox
(a demo must not flood HR chats). Statuses other than "new" get a history row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher, mask_household_number, mask_id, mask_phone
from storage.models import Consent, Household, IntentRecord, Member
from storage.models_followup import HouseholdMask, MemberMask, StatusChange
from storage.repositories.export_rows import SQLITE_TIME_FORMAT
from storage.repositories.intake_match import MEMBER_FIELDS
from storage.repositories.intake_records import OPEN_STATUSES, WISH_FIELDS, open_key
from storage.submission import parse_submission

BATCH = 2_000  # households per transaction
TABLES = (
    "household",
    "member",
    "consent",
    "intent_record",
    "member_mask",
    "household_mask",
    "intent_status_change",
)
ID_TABLES = ("household", "member", "consent", "intent_record", "intent_status_change")
TIME_COLUMNS = frozenset({"created_at", "updated_at", "given_at", "status_changed_at", "changed_at"})
MODELS: dict[str, Any] = {
    "household": Household, "member": Member, "consent": Consent, "intent_record": IntentRecord,
    "member_mask": MemberMask, "household_mask": HouseholdMask, "intent_status_change": StatusChange,
}  # fmt: skip


@dataclass
class SeedCounts:
    """Rows written."""

    households: int = 0
    members: int = 0
    records: int = 0


class _Ids:
    """The next free id of each table (this path is the only writer while it runs)."""

    def __init__(self, start: dict[str, int]) -> None:
        self.next = dict(start)

    def take(self, table: str) -> int:
        """A new id."""
        self.next[table] += 1
        return self.next[table]


def _table(model: Any) -> Table:
    """The Core table of a model."""
    return model.__table__


async def bulk_seed(
    *,
    session: AsyncSession,
    households: Iterable[tuple[dict, datetime, tuple[str, ...]]],
    cipher: Cipher,
    actor: str,
    max_records: int | None = None,
) -> SeedCounts:
    """Insert (submission, created_at, statuses) households until they run out or max_records is reached."""
    ids = _Ids(await _max_ids(session))

    async def flush(rows: dict[str, list[dict]]) -> None:
        """Insert the rows gathered, parents first, and commit."""
        for name in TABLES:
            if rows[name]:
                await session.exec(insert(_table(MODELS[name])), params=rows[name])
        await session.commit()

    counts = SeedCounts()
    for rows in _batches(households, ids, cipher, actor, max_records, counts):
        await flush(rows)
    return counts


def bulk_seed_sqlite(
    *,
    path: str,
    households: Iterable[tuple[dict, datetime, tuple[str, ...]]],
    cipher: Cipher,
    actor: str,
    max_records: int | None = None,
) -> SeedCounts:
    """The same on a SQLite file through the stdlib driver: several times faster for benchmarks."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA cache_size = -262144")  # 256 MiB: random hash keys touch every index page
        ids = _Ids({name: connection.execute(f"SELECT coalesce(max(id), 0) FROM {name}").fetchone()[0]
                    for name in ID_TABLES})  # fmt: skip
        counts = SeedCounts()
        for rows in _batches(households, ids, cipher, actor, max_records, counts):
            for name in TABLES:
                if rows[name]:
                    _insert_sqlite(connection, name, rows[name])
            connection.commit()
        return counts
    finally:
        connection.close()


def _insert_sqlite(connection: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    """executemany of dict rows, times stored as SQLAlchemy stores them (naive UTC text)."""
    names = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    times = [index for index, name in enumerate(names) if name in TIME_COLUMNS]
    texts: dict[datetime, str] = {}  # a household's rows share their times: format each once

    def stored(row: dict) -> list[Any]:
        """One row's values in column order."""
        values = [row[name] for name in names]
        for index in times:
            moment = values[index]
            if moment is not None:
                if moment not in texts:
                    texts[moment] = moment.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)
                values[index] = texts[moment]
        return values

    connection.executemany(sql, map(stored, rows))


def _batches(
    households: Iterable[tuple[dict, datetime, tuple[str, ...]]],
    ids: _Ids,
    cipher: Cipher,
    actor: str,
    max_records: int | None,
    counts: SeedCounts,
) -> Iterator[dict[str, list[dict]]]:
    """The rows of BATCH households at a time, counted into `counts`."""
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    for number, (submission, created_at, statuses) in enumerate(households):
        if number == 0:
            parse_submission(submission)  # the generator keeps to the contract: check its first one
        _household_rows(rows, ids, cipher, actor, submission, created_at, statuses)
        counts.households += 1
        counts.members += len(submission["members"])
        counts.records += len(statuses)
        if counts.households % BATCH == 0:
            yield rows
            rows = {name: [] for name in TABLES}
        if max_records is not None and counts.records >= max_records:
            break
    yield rows


async def _max_ids(session: AsyncSession) -> dict[str, int]:
    """The largest id of each table with a generated id."""
    found = {}
    for name in ID_TABLES:
        found[name] = (await session.exec(select(func.max(MODELS[name].id)))).one() or 0
    return found


def _household_rows(
    rows: dict[str, list[dict]],
    ids: _Ids,
    cipher: Cipher,
    actor: str,
    submission: dict,
    created_at: datetime,
    statuses: tuple[str, ...],
) -> None:
    """The rows of one household."""
    facts = submission["household"]
    household_id = ids.take("household")
    rows["household"].append(_household(household_id, cipher, actor, submission, created_at))
    rows["household_mask"].append(
        {"household_id": household_id, "phone": mask_phone(facts["phone"]),
         "household_number": mask_household_number(facts["household_number"])}
    )  # fmt: skip
    rows["consent"].append(_consent(ids.take("consent"), household_id, submission["consent"], created_at))
    wishes = iter(statuses)
    for member in submission["members"]:
        member_id = ids.take("member")
        rows["member"].append(_member(member_id, household_id, cipher, member, created_at))
        rows["member_mask"].append({"member_id": member_id, "id_number": mask_id(member["id_number"])})
        if member["wish"]["kind"] != "none":
            status = next(wishes)
            record_id = ids.take("intent_record")
            record = _record(
                record_id, household_id, member_id, submission, member["wish"], status, actor, created_at
            )
            rows["intent_record"].append(record)
            if status != "new":
                rows["intent_status_change"].append(_change(ids.take("intent_status_change"), record))


def _household(household_id: int, cipher: Cipher, actor: str, submission: dict, created_at: datetime) -> dict:
    """A household row."""
    facts = submission["household"]
    return {
        "id": household_id, "village_code": submission["village_code"], "head_name": facts["head_name"],
        "status": facts["status"], "answered_by": submission["answered_by"], "submitted_by": actor,
        "household_number_enc": cipher.encrypt(facts["household_number"]),
        "household_number_hash": cipher.lookup_hash("household_number", facts["household_number"]),
        "phone_enc": cipher.encrypt(facts["phone"]), "needs_review": False, "conflicts": "[]",
        "created_at": created_at, "updated_at": created_at,
    }  # fmt: skip


def _member(member_id: int, household_id: int, cipher: Cipher, member: dict, created_at: datetime) -> dict:
    """A member row (the same member fields submit_intake stores)."""
    return {
        "id": member_id,
        "household_id": household_id,
        **{name: member[name] for name in MEMBER_FIELDS},
        "id_number_enc": cipher.encrypt(member["id_number"]),
        "id_number_hash": cipher.lookup_hash("id_number", member["id_number"]),
        "created_at": created_at,
        "updated_at": created_at,
    }


def _consent(consent_id: int, household_id: int, consent: dict, created_at: datetime) -> dict:
    """The household's consent row."""
    return {
        "id": consent_id, "household_id": household_id, "member_id": None, "kind": "household",
        "given": consent["given"], "text_version": consent["text_version"], "text": consent["text"],
        "language": consent["language"], "given_at": created_at,
    }  # fmt: skip


def _record(
    record_id: int,
    household_id: int,
    member_id: int,
    submission: dict,
    wish: dict,
    status: str,
    actor: str,
    created_at: datetime,
) -> dict:
    """An intent record with its status (given a few days after registration when followed up)."""
    changed_at = created_at if status == "new" else created_at + timedelta(days=1 + record_id % 20)
    return {
        "id": record_id, "household_id": household_id, "member_id": member_id,
        "county_code": submission["village_code"][:6], "village_code": submission["village_code"],
        "kind": wish["kind"], **{name: wish.get(name) for name in WISH_FIELDS},
        "status": status, "status_note": None, "eligibility": None, "version": 1,
        "open_key": open_key(member_id, wish["kind"]) if status in OPEN_STATUSES else None,
        "status_changed_by": actor, "status_changed_at": changed_at,
        "created_at": created_at, "updated_at": changed_at,
    }  # fmt: skip


def _change(change_id: int, record: dict) -> dict:
    """The history row of a record's status."""
    return {
        "id": change_id, "record_id": record["id"], "old_status": "new", "new_status": record["status"],
        "note": None, "changed_by": record["status_changed_by"], "changed_at": record["status_changed_at"],
        "chat_key": None, "household_notified_at": None,
    }  # fmt: skip
