"""storage.repositories.intake on SQLite and PostgreSQL: transaction, dedupe, conflicts, consent, at rest."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from bot.core.effects import Effects
from bot.features.intake.effects import member_profile, record_intake, register
from content.benefits import load_rules
from dialogs.model import Event
from storage.crypto import Cipher
from storage.db import Database
from storage.models import Consent, Household, IntentRecord, Member, Outbox
from storage.repositories.intake import rotate_keys, submit_intake
from storage.urls import parse_url
from tests.db_fixtures import MIGRATED_BACKENDS as BACKENDS

SECRET = "test-secret-0123456789-abcdefghijklmnop"
NEW_SECRET = "new-secret-0123456789-abcdefghijklmnopq"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
VILLAGE = "410225101215"  # 张庄村, 堌阳镇, 兰考县
HOUSEHOLD_NUMBER = "4102251002010001"
PHONE = "13812345678"
OTHER_PHONE = "13987654321"
TABLES: list[type[SQLModel]] = [Household, Member, Consent, IntentRecord, Outbox]


def resident_id(region: str, birth: str, serial: str) -> str:
    """A resident ID number with a valid check character (GB 11643)."""
    body = region + birth + serial
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


HEAD_ID = resident_id("410225", "19780512", "131")
SON_ID = resident_id("410225", "20100301", "123")  # 16 on NOW
CHILD_ID = resident_id("410225", "20140601", "222")  # 12 on NOW


def member(name: str, **overrides: Any) -> dict[str, Any]:
    """A member dict as the dialog produces it."""
    data = {
        "name": name,
        "relation": "child",
        "sex": "male",
        "age": None,
        "birth_date": None,
        "id_number": None,
        "education": "junior_high_graduate",
        "two_after": "current",
        "labour_capacity": "full",
        "situation": "at_home",
        "guardian_consent": None,
        "wish": {
            "kind": "technical_school",
            "training_type": None,
            "trade": "electrician",
            "has_business_project": None,
            "outside_county_ok": True,
            "contact_time": "evening",
        },
    }
    return {**data, **overrides}


def submission(**overrides: Any) -> dict[str, Any]:
    """A whole submission: head (no wish) and a 16-year-old son who wants a technical school."""
    data = {
        "version": 1,
        "answered_by": "worker",
        "village_code": VILLAGE,
        "household": {
            "head_name": "王建国",
            "status": "registered_poor",
            "household_number": HOUSEHOLD_NUMBER,
            "phone": PHONE,
        },
        "members": [
            member(
                "王建国",
                relation="head",
                id_number=HEAD_ID,
                age=48,
                two_after=None,
                education="primary_or_less",
                wish={"kind": "none"},
            ),
            member("王小明", id_number=SON_ID, age=16),
        ],
        "consent": {
            "given": True,
            "text_version": "consent-2026-11",
            "text": "我们同意把以上信息交给县人社局,用于联系培训和上学。",
            "language": "zh_Hans",
        },
    }
    return {**data, **overrides}


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return request.getfixturevalue(request.param)


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    """A Database on it."""
    database = Database.from_url(url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def cipher() -> Cipher:
    """The cipher the tests store with."""
    return Cipher.from_secret(SECRET)


async def submit(db: Database, cipher: Cipher, data: dict, who: str = "tg:1", **kwargs: Any) -> Any:
    """submit_intake in a session of its own."""
    async with db.session() as session:
        return await submit_intake(
            session=session,
            submission=data,
            cipher=cipher,
            submitted_by=who,
            now=kwargs.pop("now", NOW),
            **kwargs,
        )


async def counts(db: Database) -> dict[str, int]:
    """Rows per intake table."""
    async with db.session() as session:
        return {
            model.__tablename__: (await session.exec(select(func.count()).select_from(model))).one()
            for model in TABLES
        }


async def all_rows(db: Database, model: type[SQLModel]) -> list[Any]:
    """Every row of a table, by id."""
    async with db.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


# ---------------------------------------------------------------- the basics


async def test_a_first_submission_stores_household_members_consent_record_and_outbox(
    db: Database, cipher: Cipher
) -> None:
    result = await submit(db, cipher, submission())
    assert result.stored and result.household_id is not None
    assert len(result.member_ids) == 2 and None not in result.member_ids
    assert len(result.new_intent_ids) == 1 and result.updated_intent_ids == ()
    assert [(item.index, item.code) for item in result.left_out] == [(0, "no_wish")]
    assert await counts(db) == {"household": 1, "member": 2, "consent": 1, "intent_record": 1, "outbox": 1}
    (household,) = await all_rows(db, Household)
    assert cipher.decrypt(household.phone_enc) == PHONE
    assert household.household_number_hash == cipher.lookup_hash("household_number", HOUSEHOLD_NUMBER)
    assert not household.needs_review and json.loads(household.conflicts) == []
    (record,) = await all_rows(db, IntentRecord)
    assert (record.county_code, record.kind, record.status, record.version) == (
        "410225",
        "technical_school",
        "new",
        1,
    )
    (entry,) = await all_rows(db, Outbox)
    assert entry.idempotency_key == f"intent_record:{record.id}:v1"
    assert (entry.status, entry.attempts, entry.county_code) == ("pending", 0, "410225")
    payload = json.loads(entry.payload)
    assert payload["member"]["id_number"] == "4102*************" + SON_ID[-1:]
    assert payload["household"]["phone"] == "*******5678"
    assert payload["member"]["age"] == 16
    assert (
        SON_ID not in entry.payload and PHONE not in entry.payload and HOUSEHOLD_NUMBER not in entry.payload
    )


async def test_refusing_consent_stores_nothing(db: Database, cipher: Cipher) -> None:
    data = submission(consent={**submission()["consent"], "given": False})
    result = await submit(db, cipher, data)
    assert not result.stored and result.reason == "no_consent"
    assert set((await counts(db)).values()) == {0}


async def test_a_broken_contract_raises_and_stores_nothing(db: Database, cipher: Cipher) -> None:
    with pytest.raises(ValueError, match="village_code"):
        await submit(db, cipher, submission(village_code="4102"))
    assert set((await counts(db)).values()) == {0}


async def test_one_transaction_a_failing_outbox_insert_writes_nothing(db: Database, cipher: Cipher) -> None:
    # The first intent record of an empty database gets id 1, so its outbox key is taken already.
    async with db.session() as session:
        session.add(
            Outbox(
                kind="intent_record",
                record_id=1,
                county_code="410225",
                idempotency_key="intent_record:1:v1",
                payload="{}",
                next_attempt_at=0.0,
            )
        )
        await session.commit()
    with pytest.raises(IntegrityError):
        await submit(db, cipher, submission())
    assert await counts(db) == {"household": 0, "member": 0, "consent": 0, "intent_record": 0, "outbox": 1}


# ---------------------------------------------------------------- dedupe and conflicts


async def test_resubmitting_updates_instead_of_duplicating(db: Database, cipher: Cipher) -> None:
    first = await submit(db, cipher, submission())
    again = await submit(db, cipher, submission(), now=NOW + timedelta(hours=1))
    assert (again.household_id, again.member_ids) == (first.household_id, first.member_ids)
    assert again.new_intent_ids == again.updated_intent_ids == again.outbox_ids == ()  # nothing new for HR
    changed = submission()
    changed["members"][1] = member(
        "王小明", id_number=SON_ID, age=16, wish={**changed["members"][1]["wish"], "trade": "welder"}
    )
    third = await submit(db, cipher, changed, now=NOW + timedelta(hours=2))
    assert third.updated_intent_ids == first.new_intent_ids and third.new_intent_ids == ()
    counted = await counts(db)
    assert (counted["household"], counted["member"], counted["intent_record"], counted["outbox"]) == (
        1,
        2,
        1,
        2,
    )
    assert counted["consent"] == 3  # every submission's consent is kept
    (record,) = await all_rows(db, IntentRecord)
    assert (record.trade, record.version) == ("welder", 2)
    keys = [entry.idempotency_key for entry in await all_rows(db, Outbox)]
    assert keys == [f"intent_record:{record.id}:v1", f"intent_record:{record.id}:v2"]
    (household,) = await all_rows(db, Household)
    assert not household.needs_review


async def test_a_closed_record_is_not_reopened_a_new_wish_opens_a_new_one(
    db: Database, cipher: Cipher
) -> None:
    first = await submit(db, cipher, submission())
    async with db.session() as session:
        record = await session.get(IntentRecord, first.new_intent_ids[0])
        record.status, record.open_key = "enrolled", None  # what HR's status change does
        await session.commit()
    again = await submit(db, cipher, submission())
    assert again.new_intent_ids and again.new_intent_ids != first.new_intent_ids
    assert (await counts(db))["intent_record"] == 2


async def test_the_same_id_twice_in_one_submission_is_stored_once(db: Database, cipher: Cipher) -> None:
    data = submission()
    data["members"].append(member("王小明", id_number=SON_ID, age=16))
    result = await submit(db, cipher, data)
    assert result.member_ids[2] is None
    assert (2, "duplicate_in_submission") in [(item.index, item.code) for item in result.left_out]
    assert (await counts(db))["member"] == 2


async def test_two_workers_enter_the_same_household(db: Database, cipher: Cipher) -> None:
    await submit(db, cipher, submission(), who="tg:101")
    second = submission(answered_by="worker")
    second["household"] = {**second["household"], "head_name": "王建民", "phone": OTHER_PHONE}
    second["members"][1] = member("王晓明", id_number=SON_ID, age=16)
    result = await submit(db, cipher, second, who="tg:202", now=NOW + timedelta(days=1))
    assert await counts(db) == {"household": 1, "member": 2, "consent": 2, "intent_record": 1, "outbox": 1}
    assert result.flagged_household_ids == (result.household_id,)
    assert set(result.conflict_fields) == {"head_name", "phone", "member.name"}
    (household,) = await all_rows(db, Household)
    assert household.needs_review and household.head_name == "王建民"  # the newer value is written
    conflicts = {entry["field"]: entry for entry in json.loads(household.conflicts)}
    head = conflicts["head_name"]
    assert (head["old"], head["new"], head["who"], head["old_who"]) == (
        "王建国",
        "王建民",
        "tg:202",
        "tg:101",
    )
    assert head["when"] == (NOW + timedelta(days=1)).isoformat()
    phone = conflicts["phone"]
    assert (phone["old"], phone["new"]) == ("*******5678", "*******4321")  # both kept, masked ...
    assert cipher.decrypt(phone["old_enc"]) == PHONE and cipher.decrypt(phone["new_enc"]) == OTHER_PHONE
    assert cipher.decrypt(household.phone_enc) == OTHER_PHONE
    assert (conflicts["member.name"]["old"], conflicts["member.name"]["new"]) == ("王小明", "王晓明")


async def test_an_unknown_value_does_not_overwrite_or_conflict(db: Database, cipher: Cipher) -> None:
    await submit(db, cipher, submission())
    vague = submission()
    vague["household"] = {**vague["household"], "status": "unknown", "phone": None}
    result = await submit(db, cipher, vague, who="tg:202")
    assert result.conflict_fields == () and result.flagged_household_ids == ()
    (household,) = await all_rows(db, Household)
    assert household.status == "registered_poor" and cipher.decrypt(household.phone_enc) == PHONE


async def test_the_same_household_found_by_its_members_without_a_number(db: Database, cipher: Cipher) -> None:
    first = await submit(db, cipher, submission())
    second = submission()
    second["household"] = {**second["household"], "household_number": None}
    result = await submit(db, cipher, second, who="tg:202")
    assert result.household_id == first.household_id and result.member_ids == first.member_ids


async def test_the_same_person_in_two_households(db: Database, cipher: Cipher) -> None:
    first = await submit(db, cipher, submission())
    other = submission()
    other["household"] = {
        "head_name": "李四",
        "status": "monitored",
        "household_number": "4102251002010002",
        "phone": None,
    }
    other["members"] = [member("王小明", id_number=SON_ID, age=16, relation="grandchild")]
    result = await submit(db, cipher, other, who="tg:303")
    assert result.household_id != first.household_id
    assert result.member_ids == (first.member_ids[1],)  # one row for the person
    assert set(result.flagged_household_ids) == {first.household_id, result.household_id}
    households = await all_rows(db, Household)
    assert len(households) == 2 and all(household.needs_review for household in households)
    for household in households:
        (entry,) = [e for e in json.loads(household.conflicts) if e["field"] == "member.household"]
        assert (entry["old"], entry["new"], entry["member_id"]) == (
            first.household_id,
            result.household_id,
            first.member_ids[1],
        )
    son = next(row for row in await all_rows(db, Member) if row.id == first.member_ids[1])
    assert son.household_id == first.household_id and son.relation == "child"  # kept until HR decides
    assert (await counts(db))["intent_record"] == 1


# ---------------------------------------------------------------- children under 14


async def test_a_child_under_14_without_guardian_consent_is_not_stored(db: Database, cipher: Cipher) -> None:
    data = submission()
    data["members"] += [
        member(
            "王小红", sex="female", age=12, id_number=CHILD_ID, education="in_school", situation="in_school"
        ),
        member(
            "王小丽", sex="female", birth_date="2013-01-05", education="in_school", guardian_consent=False
        ),
        member("王小刚", education="in_school", situation="in_school"),  # a child of unknown age
    ]
    result = await submit(db, cipher, data)
    codes = {item.index: item.code for item in result.left_out}
    assert codes == {
        0: "no_wish",
        2: "under_14_without_guardian_consent",
        3: "under_14_without_guardian_consent",
        4: "age_unknown_without_guardian_consent",
    }
    assert result.member_ids[2:] == (None, None, None)
    names = {row.name for row in await all_rows(db, Member)}
    assert names == {"王建国", "王小明"}  # nothing at all about the children
    assert (await counts(db))["intent_record"] == (await counts(db))["outbox"] == 1
    (household,) = await all_rows(db, Household)
    assert "王小红" not in household.conflicts


async def test_a_child_under_14_with_guardian_consent_is_stored_and_forwarded(
    db: Database, cipher: Cipher
) -> None:
    data = submission()
    data["members"].append(member("王小红", age=13, id_number=CHILD_ID, guardian_consent=True))
    result = await submit(db, cipher, data)
    assert result.member_ids[2] is not None and len(result.new_intent_ids) == 2
    consents = await all_rows(db, Consent)
    assert sorted((c.kind, c.member_id) for c in consents) == [
        ("guardian", result.member_ids[2]),
        ("household", None),
    ]


# ---------------------------------------------------------------- at rest, keys, the effect


async def test_no_personal_number_is_stored_in_clear_text(db: Database, cipher: Cipher, url: str) -> None:
    await submit(db, cipher, submission(), who="tg:1")
    second = submission()
    second["household"] = {**second["household"], "phone": OTHER_PHONE}
    await submit(db, cipher, second, who="tg:2")  # a conflict keeps the old phone too
    secrets = [HEAD_ID, SON_ID, PHONE, OTHER_PHONE, HOUSEHOLD_NUMBER]
    stored = await _stored_bytes(db, url)
    assert len(stored) > 1000
    for value in secrets:
        assert value.encode() not in stored, f"{value[:4]}... is stored in clear text"


async def _stored_bytes(db: Database, url: str) -> bytes:
    """The SQLite file and its WAL as bytes, or PostgreSQL's intake tables as text."""
    parsed = parse_url(url)
    if parsed.is_sqlite:
        path = Path(parsed.sqlite_path or "")
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    async with db.session() as session:
        rows = []
        for model in TABLES:  # PostgreSQL-only SQL, in a test only: a row as one text value
            result = await session.exec(text(f"SELECT t::text FROM {model.__tablename__} t"))
            rows += [row[0] for row in result.all()]
    return "\n".join(rows).encode()


async def test_rotate_keys_re_encrypts_and_re_hashes(db: Database, cipher: Cipher) -> None:
    first = await submit(db, cipher, submission())
    second = submission()
    second["household"] = {**second["household"], "phone": OTHER_PHONE}
    await submit(db, cipher, second, who="tg:2")
    rotating = Cipher.from_secret([NEW_SECRET, SECRET])
    # Before the rotation, lookups still find rows hashed under the old secret.
    before = await submit(db, rotating, submission(), who="tg:3")
    assert before.household_id == first.household_id and before.member_ids == first.member_ids
    async with db.session() as session:
        assert await rotate_keys(session=session, cipher=rotating) == 3  # one household, two members
    new_only = Cipher.from_secret(NEW_SECRET)
    (household,) = await all_rows(db, Household)
    assert new_only.decrypt(household.phone_enc) == PHONE
    assert household.household_number_hash == new_only.lookup_hash("household_number", HOUSEHOLD_NUMBER)
    for entry in json.loads(household.conflicts):
        if "old_enc" in entry:
            new_only.decrypt(entry["old_enc"])
            new_only.decrypt(entry["new_enc"])
    members = await all_rows(db, Member)
    assert {new_only.decrypt(row.id_number_enc) for row in members} == {HEAD_ID, SON_ID}
    result = await submit(db, new_only, submission(), who="tg:4")  # the old secret is gone: still deduped
    assert (await counts(db))["member"] == 2 and result.household_id == household.id


async def test_the_effect_evaluates_eligibility_and_stores(db: Database, cipher: Cipher) -> None:
    effects = Effects()
    register(effects, cipher=cipher)
    data = submission()
    event = Event(
        "intake_submitted",
        (("flow", "intake"), ("answers", {"submission": copy.deepcopy(data)}), ("lang", "zh_Hans")),
    )
    async with db.session() as session:
        await effects.handle(event, key="tg:9", session=session)
    (record,) = await all_rows(db, IntentRecord)
    eligibility = json.loads(record.eligibility)
    assert eligibility["as_of"] == date.today().isoformat() and eligibility["county"] == "410225"
    assert {benefit["id"] for benefit in eligibility["benefits"]} >= {"tuition_waiver", "yulu_vocational"}
    # The same states as the chat and the CLI: HR is told what may be asked for now, not "not in force".
    states = {benefit["id"]: benefit["state"] for benefit in eligibility["benefits"]}
    assert states["yulu_vocational"] == "continued" and states["tuition_waiver"] == "unknown"
    assert states["priority_services"] == "ended"
    yulu = next(benefit for benefit in eligibility["benefits"] if benefit["id"] == "yulu_vocational")
    assert (yulu["later"]["document"], yulu["amount_cny_per_year"]) == ("国乡振发〔2022〕6号", 3000)
    assert yulu["reasons"] == ["state_continued"]  # codes: rendered by whoever shows them
    assert eligibility["history"]["as_of"] == "2020-12-31"


async def test_eligibility_keeps_unknown_facts_unknown(db: Database, cipher: Cipher) -> None:
    async with db.session() as session:
        await record_intake(
            session=session,
            submission=submission(),
            cipher=cipher,
            submitted_by="tg:9",
            rules=load_rules(),
            today=date(2019, 9, 1),  # while the 2017 notice was in force
        )
    (record,) = await all_rows(db, IntentRecord)
    tuition = json.loads(record.eligibility)["benefits"][0]
    assert tuition["id"] == "tuition_waiver" and tuition["eligible"] is None
    assert tuition["missing"] == ["plan.full_time", "plan.formal_enrollment"]


def test_member_profile_maps_known_facts_and_leaves_the_rest_unknown() -> None:
    son = member("王小明", id_number=SON_ID, labour_capacity="partial")
    profile = member_profile(
        son, household={"status": "lifted_out"}, village_code=VILLAGE, as_of=date(2026, 11, 27)
    )
    assert profile.facts() == {
        "household.registered_poor": True,
        "household.rural": True,  # 201: a village committee
        "person.age": 16,  # from the ID number
        "person.able_to_work": True,
        "person.household_child": True,  # relation "child": 四（三） names 贫困户子女
        "person.education": "junior_high_graduate",
        "person.continued_study": False,  # a 两后生
        "plan.kind": "technical_school",
        "plan.school_type": "technical_school",
    }
    unknown = member_profile(
        member(
            "x",
            education="college",
            two_after=None,
            labour_capacity=None,
            wish={
                "kind": "vocational_training",
                "training_type": "entrepreneurship",
                "has_business_project": True,
            },
        ),
        household={"status": "monitored"},
        village_code="410225100001",
        as_of=date(2026, 11, 27),
    )
    assert unknown.facts() == {
        "person.household_child": True,
        "person.education": "other",
        "plan.kind": "entrepreneurship",
        "plan.has_business_project": True,
    }


async def test_a_work_team_claim_needs_the_role(db: Database, cipher: Cipher) -> None:
    from bot.features.intake.effects import checked_provenance
    from storage.models_access import AuditEntry
    from storage.repositories.access import grant

    claim = {**submission(), "answered_by": "worker"}
    async with db.session() as session:
        kept = await checked_provenance(claim, key="tg:70", session=session)
    assert kept["answered_by"] == "household"  # a household user cannot pass as the work team
    (entry,) = await all_rows(db, AuditEntry)
    assert entry.action == "refused:worker.intake" and entry.actor == "tg:70"
    async with db.session() as session:
        await grant(
            session=session,
            channel_key="tg:71",
            role="worker",
            scopes=[("county", claim["village_code"][:6])],
        )
        assert (await checked_provenance(claim, key="tg:71", session=session))["answered_by"] == "worker"
