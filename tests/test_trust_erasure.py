"""Issue 10, point 9: erasure erases exactly what it names, shows it first, asks, and counts.

A short number (`--household 4102`, `--person 123`) is refused or matches nothing: it is never
found as a part of county codes, other households' text or other users' drafts.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlmodel import select

from bot.cli import access as cli_access
from storage.db import Database
from storage.models import Conversation, Household, Member, Outbox
from tests.access_support import (  # noqa: F401
    SECRET,
    VILLAGE,
    cipher_fixture,
    db_fixture,
    member,
    resident_id,
    submission,
    submit,
    url_fixture,
)

HOUSEHOLDS = 12
DRAFT = {"flow": "intake", "answers": {"village": VILLAGE, "county": "410225", "note": "户号4102开头"}}


def number(index: int) -> str:
    """The household number of seeded household `index`."""
    return f"{VILLAGE}{index:04d}"


async def seed(db: Database, cipher) -> None:
    """Households whose numbers and county codes all start with 4102, and another user's draft."""
    for index in range(HOUSEHOLDS):
        head_id = resident_id("410225", "19780512", f"{index:03d}")
        child = member(f"王小{index}", resident_id("410225", "20100301", f"{index + 500:03d}"))
        await submit(db, cipher, submission(f"王{index}", head_id, "13812345678", number(index), child))
    async with db.session() as session:
        session.add(
            Conversation(key="tg:9", state=json.dumps(DRAFT, ensure_ascii=False), updated_at=time.time())
        )
        await session.commit()


async def snapshot(db: Database) -> tuple:
    """Everything a wrong match would change."""
    async with db.session() as session:
        outbox = [(o.county_code, o.payload) for o in (await session.exec(select(Outbox))).all()]
        people = len((await session.exec(select(Member))).all())
        households = [(h.head_name, h.village_code) for h in (await session.exec(select(Household))).all()]
        drafts = [c.state for c in (await session.exec(select(Conversation))).all()]
    return outbox, people, households, drafts


async def erase(url: str, capsys: pytest.CaptureFixture[str], **kwargs) -> tuple[int, str, str]:
    """Run the CLI's erase; its exit code, stdout and stderr."""
    code = await asyncio.to_thread(cli_access.erase, url, [SECRET], **kwargs)
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_short_household_number_matches_nothing(db, cipher, url, capsys) -> None:
    await seed(db, cipher)
    before = await snapshot(db)
    code, _, err = await erase(url, capsys, household="4102", yes=True)
    assert code == 1 and "nothing was erased" in err and len(err.strip().splitlines()) == 1
    assert await snapshot(db) == before


@pytest.mark.parametrize("person", ["123", "4102", "410225197805120001"])  # the last: a wrong check digit
async def test_a_part_of_an_id_number_is_refused(db, cipher, url, capsys, person: str) -> None:
    await seed(db, cipher)
    before = await snapshot(db)
    code, _, err = await erase(url, capsys, person=person, yes=True)
    assert code == 2 and err.startswith("error: --person needs a whole resident ID number")
    assert await snapshot(db) == before


async def test_it_shows_what_goes_asks_and_counts(db, cipher, url, capsys) -> None:
    await seed(db, cipher)
    before = await snapshot(db)
    code, out, _ = await erase(url, capsys, household=number(3), confirm=lambda question: False)
    assert code == 0 and "would erase:" in out and "household\t1" in out and "nothing was erased" in out
    assert await snapshot(db) == before
    code, _, err = await erase(url, capsys, household=number(3))  # no terminal, no --yes
    assert code == 2 and "--yes" in err and await snapshot(db) == before
    code, out, _ = await erase(url, capsys, household=number(3), confirm=lambda question: True)
    assert code == 0 and "erased:" in out and "member\t2" in out and "household\t1" in out
    outbox, people, households, drafts = await snapshot(db)
    assert people == before[1] - 2 and len(households) == HOUSEHOLDS - 1 and drafts == before[3]
    assert {county for county, _ in outbox} == {"410225"}


# ---------------------------------------------------------------- /forget answered "不删除"


def test_forget_answered_keep_deletes_nothing_and_confirm_drops_the_draft() -> None:
    from dialogs.model import State
    from tests.test_intake_dialog import cmd, feed, press

    state, _ = feed(State(), cmd("intake"), press("worker"))
    unfinished = dict(state.answers)
    assert unfinished
    state, _ = feed(state, cmd("forget"), press("keep"))
    assert state.drafts["intake"]["answers"] == unfinished  # "不删除": the unfinished intake is kept
    state, _ = feed(state, cmd("forget"), press("confirm"))
    assert not state.drafts and not state.answers
