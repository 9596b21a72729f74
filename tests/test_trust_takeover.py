"""Issue 10, points 1, 2 and 10: an unauthenticated entry never takes a family over or moves it.

A household-role user who knows one child's ID number (or the household number) is held beside the
family a work team entered: nothing stored is rewritten, the attempt is audited (ids only), the
stranger's /forget erases only its own entry, and HR decides with storage.repositories.reconcile.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from storage.crypto import Cipher
from storage.db import Database
from storage.models import Household, IntentRecord, Member
from storage.models_access import AuditEntry
from storage.models_trust import HouseholdLink
from storage.repositories import erasure, masks, reconcile
from storage.repositories.intake import submit_intake
from tests.access_support import (  # noqa: F401
    NOW,
    VILLAGE,
    cipher_fixture,
    db_fixture,
    member,
    resident_id,
    submission,
    submit,
    url_fixture,
)

WORKER, STRANGER, FAMILY = "tg:500", "tg:666", "tg:700"
HEAD, HEAD_ID, PHONE, NUMBER = (
    "王建国",
    resident_id("410225", "19780512", "131"),
    "13812345678",
    "4102251012010001",
)
GIRL, GIRL_ID = "王小红", resident_id("410225", "20150302", "242")  # 11 years old
OTHER_COUNTY_VILLAGE = "410221100201"
STRANGER_PHONE = "13900001111"


def family() -> dict:
    """The family as a work team entered it: head and an 11-year-old with her guardian's consent."""
    girl = member(GIRL, GIRL_ID, age=11, sex="female", education="in_school", guardian_consent=True)
    return submission(HEAD, HEAD_ID, PHONE, NUMBER, girl)


def stranger(**household: Any) -> dict:
    """A household-role user in another county: their own names and phone, the girl's ID number."""
    own_head = member("张三", None, relation="head", age=40, two_after=None, wish={"kind": "none"})
    girl = member("张小红", GIRL_ID, age=11, sex="female", guardian_consent=True)
    data = submission("张三", "", STRANGER_PHONE, "", own_head, girl, answered_by="household")
    data["members"] = [own_head, girl]  # without the placeholder head of `submission`
    data["village_code"] = OTHER_COUNTY_VILLAGE
    data["household"] = {**data["household"], "household_number": None, **household}
    return data


async def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    """Rows of a table, by id."""
    async with db.session() as session:
        return list((await session.exec(select(model).where(*where).order_by(col(model.id)))).all())


async def assert_family_untouched(db: Database, cipher: Cipher, family_id: int) -> None:
    """The work team's entry: names, phone, village, submitter, records and county all as entered."""
    (stored,) = await rows(db, Household, Household.id == family_id)
    assert (stored.head_name, stored.village_code, stored.submitted_by, stored.answered_by) == (
        HEAD, VILLAGE, WORKER, "worker"
    )  # fmt: skip
    assert cipher.decrypt(stored.phone_enc) == PHONE and stored.conflicts == "[]"
    people = await rows(db, Member, Member.household_id == family_id)
    assert sorted(p.name for p in people) == sorted([HEAD, GIRL])
    records = await rows(db, IntentRecord, IntentRecord.member_id.in_([p.id for p in people]))
    assert records and {(r.household_id, r.county_code) for r in records} == {(family_id, "410225")}


async def test_a_stranger_with_one_id_number_is_held_beside_the_family(db: Database, cipher: Cipher) -> None:
    stored = await submit(db, cipher, family(), who=WORKER)
    held = await submit(db, cipher, stranger(), who=STRANGER)
    assert held.stored and held.household_id != stored.household_id
    assert held.held_household_ids == (held.household_id,)
    await assert_family_untouched(db, cipher, stored.household_id)
    (entry,) = await rows(db, Household, Household.id == held.household_id)
    assert entry.needs_review and entry.created_by == STRANGER and entry.village_code == OTHER_COUNTY_VILLAGE
    copy = next(m for m in await rows(db, Member, Member.household_id == entry.id) if m.name == "张小红")
    assert copy.id_number_hash is None and copy.held_hash == cipher.lookup_hash("id_number", GIRL_ID)
    (link,) = await rows(db, HouseholdLink)
    assert (link.held_household_id, link.stored_household_id, link.matched_by, link.status) == (
        entry.id, stored.household_id, "id_number", "open"
    )  # fmt: skip
    (audited,) = await rows(db, AuditEntry, AuditEntry.action == "intake.held")
    assert (audited.actor, audited.target_id) == (STRANGER, str(stored.household_id))
    assert GIRL_ID not in repr(audited) and STRANGER_PHONE not in repr(audited)
    again = await submit(db, cipher, stranger(), who=STRANGER)  # a second try updates its own entry
    assert again.household_id == entry.id and len(await rows(db, HouseholdLink)) == 1


async def test_the_household_number_moves_nothing_to_another_county(db: Database, cipher: Cipher) -> None:
    stored = await submit(db, cipher, family(), who=WORKER)
    held = await submit(db, cipher, stranger(household_number=NUMBER), who=STRANGER)
    assert held.household_id != stored.household_id
    await assert_family_untouched(db, cipher, stored.household_id)
    (entry,) = await rows(db, Household, Household.id == held.household_id)
    assert entry.household_number_hash is None
    assert entry.held_hash == cipher.lookup_hash("household_number", NUMBER)
    (link,) = await rows(db, HouseholdLink)
    assert link.matched_by == "household_number"


async def test_the_strangers_forget_erases_only_its_own_entry(db: Database, cipher: Cipher) -> None:
    stored = await submit(db, cipher, family(), who=WORKER)
    held = await submit(db, cipher, stranger(), who=STRANGER)
    async with db.session() as session:
        erased = await erasure.erase_submitted_by(
            session=session, cipher=cipher, channel_key=STRANGER, actor=STRANGER, channel="telegram"
        )
    assert erased.household_ids == (held.household_id,)
    await assert_family_untouched(db, cipher, stored.household_id)
    assert not await rows(db, HouseholdLink)


async def test_a_family_may_update_and_erase_its_own_entry_even_after_a_work_team(
    db: Database, cipher: Cipher
) -> None:
    own = family() | {"answered_by": "household"}
    first = await submit(db, cipher, own, who=FAMILY)
    again = await submit(db, cipher, own, who=FAMILY)
    assert again.household_id == first.household_id and again.held_household_ids == ()
    worker = await submit(db, cipher, family(), who=WORKER)  # a work team confirms the entry
    assert worker.household_id == first.household_id and worker.held_household_ids == ()
    async with db.session() as session:
        erased = await erasure.erase_submitted_by(
            session=session, cipher=cipher, channel_key=FAMILY, actor=FAMILY, channel="telegram"
        )
    assert erased.household_ids == (first.household_id,)


@pytest.mark.parametrize("decision", ["keep_stored", "keep_both"])
async def test_hr_sees_both_and_its_decision_is_audited(db: Database, cipher: Cipher, decision: str) -> None:
    stored = await submit(db, cipher, family(), who=WORKER)
    held = await submit(db, cipher, stranger(), who=STRANGER)
    async with db.session() as session:
        (pair,) = await reconcile.open_links(session=session, cipher=cipher, county="410225")
    assert (pair.held.id, pair.stored.id) == (held.household_id, stored.household_id)
    assert (pair.held.head_name, pair.stored.head_name) == ("张三", HEAD)
    assert (pair.held.phone, pair.stored.phone) == ("*******1111", "*******5678")
    assert ("王小红", "child", "4102*************" + GIRL_ID[-1]) in pair.stored.members
    async with db.session() as session:
        assert await reconcile.decide(
            session=session, link_id=pair.link_id, decision=decision, actor="cli:hr", channel="cli"
        )
    await assert_family_untouched(db, cipher, stored.household_id)
    left = await rows(db, Household, Household.id == held.household_id)
    assert bool(left) == (decision == "keep_both")
    (audited,) = await rows(db, AuditEntry, AuditEntry.action == "reconcile.decide")
    assert audited.detail.startswith(f"decision={decision},held={held.household_id}")
    async with db.session() as session:
        assert await reconcile.open_links(session=session, cipher=cipher) == []


@pytest.mark.parametrize("url", ["migrated_postgres_url"], indirect=True)
@pytest.mark.postgres
async def test_two_intakes_of_the_same_new_family_at_once_keep_both(
    db: Database, cipher: Cipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second insert waits on the first's unique hash, fails, and is written again, held."""
    first_flushed, release = asyncio.Event(), asyncio.Event()
    refresh = masks.refresh
    calls = 0

    async def slow_refresh(**kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        await refresh(**kwargs)
        if calls == 1:  # the first submission holds its transaction open here
            first_flushed.set()
            await release.wait()

    monkeypatch.setattr(masks, "refresh", slow_refresh)

    async def enter() -> Any:
        async with db.session() as session:
            return await submit_intake(
                session=session, submission=family(), cipher=cipher, submitted_by=WORKER, now=NOW
            )

    first = asyncio.create_task(enter())
    await first_flushed.wait()
    second = asyncio.create_task(enter())
    await asyncio.sleep(0.5)  # the second now waits on the first's uncommitted unique hash
    release.set()
    one, two = await first, await second
    assert one.stored and two.stored and two.household_id != one.household_id
    assert two.held_household_ids == (two.household_id,)
    (link,) = await rows(db, HouseholdLink)
    assert (link.held_household_id, link.stored_household_id) == (two.household_id, one.household_id)


async def test_outreach_reconcile_shows_both_and_decides(
    db: Database, cipher: Cipher, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.reconcile import reconcile_decide, reconcile_list
    from tests.access_support import SECRET

    stored = await submit(db, cipher, family(), who=WORKER)
    held = await submit(db, cipher, stranger(), who=STRANGER)
    assert await asyncio.to_thread(reconcile_list, url, [SECRET], "410225") == 0
    shown = capsys.readouterr().out
    assert f"household {held.household_id}" in shown and f"household {stored.household_id}" in shown
    assert "HELD" in shown and "STORED" in shown and HEAD in shown and "张三" in shown
    assert GIRL_ID not in shown and PHONE not in shown and STRANGER_PHONE not in shown
    (link,) = await rows(db, HouseholdLink)
    assert await asyncio.to_thread(reconcile_decide, url, link.id, "keep_stored") == 0
    assert await asyncio.to_thread(reconcile_decide, url, link.id, "keep_stored") == 1  # decided already
    assert not await rows(db, Household, Household.id == held.household_id)


async def test_a_stranger_claiming_to_be_the_work_team_is_still_held(db: Database, cipher: Cipher) -> None:
    """Through the bot's intake effect: the claim is checked against stored roles, then held."""
    from bot.features.intake.effects import checked_provenance, record_intake
    from content.benefits import load_rules

    stored = await submit(db, cipher, family(), who=WORKER)
    claim = stranger() | {"answered_by": "worker"}  # "我是工作队员", without the role
    async with db.session() as session:
        checked = await checked_provenance(claim, key=STRANGER, session=session)
        result = await record_intake(
            session=session, submission=checked, cipher=cipher, submitted_by=STRANGER, rules=load_rules()
        )
    assert result.held_household_ids == (result.household_id,) != (stored.household_id,)
    await assert_family_untouched(db, cipher, stored.household_id)
