"""Intent records (one open record per member and kind) and the outbox entries that report them to HR."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from storage.crypto import mask_household_number, mask_id, mask_phone
from storage.models import Household, IntentRecord, Member, Outbox
from storage.repositories.intake_match import Writer
from storage.submission import Wish, known_age

OUTBOX_KIND = "intent_record"
NEW_STATUS = "new"
# Once HR closes a record (enrolled, referred, declined), a new wish of the same kind opens a new
# record; while it is open (new, contacted, unreachable), re-submitting updates it.
OPEN_STATUSES = frozenset({"new", "contacted", "unreachable"})
WISH_FIELDS = ("training_type", "trade", "has_business_project", "outside_county_ok", "contact_time")


def open_key(member_id: int, kind: str) -> str:
    """The value of `open_key` while a record is open; set it to None when HR closes the record."""
    return f"{member_id}:{kind}"


def _comparable(eligibility: str | None) -> Any:
    """The eligibility without its date: re-evaluating on another day is not a change by itself."""
    if eligibility is None:
        return None
    data = json.loads(eligibility)
    return {key: value for key, value in data.items() if key != "as_of"} if isinstance(data, dict) else data


async def upsert_intent(
    writer: Writer, *, member: Member, household: Household, wish: Wish, eligibility: dict | None
) -> tuple[IntentRecord, str | None]:
    """The member's open record of this kind, created or updated; "new", "updated" or None (unchanged)."""
    assert member.id is not None and household.id is not None  # flushed by the caller
    key = open_key(member.id, wish.kind)
    record = (await writer.session.exec(select(IntentRecord).where(IntentRecord.open_key == key))).first()
    values: dict[str, Any] = {
        "household_id": household.id,
        "county_code": household.village_code[:6],
        "village_code": household.village_code,
        **{name: getattr(wish, name) for name in WISH_FIELDS},
    }
    text = json.dumps(eligibility, ensure_ascii=False, sort_keys=True) if eligibility is not None else None
    if record is None:
        record = IntentRecord(
            member_id=member.id,
            kind=wish.kind,
            open_key=key,
            eligibility=text,
            status=NEW_STATUS,
            status_changed_by=writer.who,
            status_changed_at=writer.now,
            created_at=writer.now,
            updated_at=writer.now,
            **values,
        )
        writer.session.add(record)
        await writer.session.flush()
        return record, "new"
    changed = {name: value for name, value in values.items() if getattr(record, name) != value}
    # Unknown (None) keeps the stored result; the same verdicts on a later day are no news for HR.
    if text is not None and _comparable(text) != _comparable(record.eligibility):
        changed["eligibility"] = text
    if not changed:
        return record, None
    for name, value in changed.items():
        setattr(record, name, value)
    record.version += 1
    record.updated_at = writer.now
    return record, "updated"


# ---------------------------------------------------------------- outbox


def queue(writer: Writer, record: IntentRecord, member: Member, household: Household) -> Outbox:
    """An outbox entry for this version of the record (added to the session, not flushed)."""
    entry = Outbox(
        kind=OUTBOX_KIND,
        record_id=record.id,
        county_code=record.county_code,
        idempotency_key=f"{OUTBOX_KIND}:{record.id}:v{record.version}",
        payload=json.dumps(payload(writer, record, member, household), ensure_ascii=False, sort_keys=True),
        status="pending",
        attempts=0,
        next_attempt_at=writer.now.timestamp(),
        created_at=writer.now,
    )
    writer.session.add(entry)
    return entry


def payload(writer: Writer, record: IntentRecord, member: Member, household: Household) -> dict[str, Any]:
    """What HR receives: the wish and the people, with every personal number masked."""
    return {
        "kind": OUTBOX_KIND,
        "record_id": record.id,
        "version": record.version,
        "status": record.status,
        "county_code": record.county_code,
        "village_code": record.village_code,
        "wish": {"kind": record.kind, **{name: getattr(record, name) for name in WISH_FIELDS}},
        "eligibility": json.loads(record.eligibility) if record.eligibility else None,
        "member": _member_view(writer, member),
        "household": _household_view(writer, household),
        "submitted_at": writer.now.isoformat(),
    }


def _member_view(writer: Writer, member: Member) -> dict[str, Any]:
    """A member for HR: facts, the age as of now, the ID number masked."""
    id_number = writer.cipher.decrypt(member.id_number_enc) if member.id_number_enc else None
    age = known_age(
        age=member.age,
        birth_date=writer.cipher.open_date(member.birth_date_enc),
        id_number=id_number,
        day=writer.now.date(),
    )
    return {
        "id": member.id,
        "name": member.name,
        "relation": member.relation,
        "sex": member.sex,
        "age": age,
        "education": member.education,
        "two_after": member.two_after,
        "labour_capacity": member.labour_capacity,
        "situation": member.situation,
        "id_number": mask_id(id_number) if id_number else None,
    }


def _household_view(writer: Writer, household: Household) -> dict[str, Any]:
    """A household for HR: the head, status, review flag, the numbers masked."""
    decrypt = writer.cipher.decrypt
    number = decrypt(household.household_number_enc) if household.household_number_enc else None
    phone = decrypt(household.phone_enc) if household.phone_enc else None
    return {
        "id": household.id,
        "head_name": household.head_name,
        "status": household.status,
        "needs_review": household.needs_review,
        "household_number": mask_household_number(number) if number else None,
        "phone": mask_phone(phone) if phone else None,
        "answered_by": household.answered_by,
    }
