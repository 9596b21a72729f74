"""The audit log: appended with ids only, read back in order, refused for personal data, printed as TSV."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

from bot.cli import access as cli_access
from bot.features.access import effects as access_effects
from storage.repositories import audit
from tests.access_support import NOW, db_fixture, url_fixture  # noqa: F401


async def test_entries_come_back_in_order_and_filtered(db):
    async with db.session() as session:
        for minutes, actor in ((0, "tg:1"), (1, "tg:2"), (2, "tg:1")):
            await audit.record(
                session=session,
                actor=actor,
                action="hr.export",
                target_kind="county",
                target_id="410225",
                channel="telegram",
                now=NOW + timedelta(minutes=minutes),
            )
    async with db.session() as session:
        every = await audit.entries(session=session)
        mine = await audit.entries(session=session, actor="tg:1")
        later = await audit.entries(session=session, since=NOW + timedelta(minutes=1))
    assert [e.actor for e in every] == ["tg:1", "tg:2", "tg:1"]
    assert [e.at for e in mine] == [NOW, NOW + timedelta(minutes=2)]
    assert len(later) == 2 and all(e.at.tzinfo is not None for e in later)


async def test_an_entry_joins_the_callers_transaction_when_asked(db):
    async with db.session() as session:
        await audit.record(
            session=session,
            actor="tg:1",
            action="x.y",
            target_kind="k",
            target_id=1,
            channel="cli",
            commit=False,
        )
        await session.rollback()
    async with db.session() as session:
        assert await audit.entries(session=session) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target_id", "410225197805121315"),  # a resident ID number
        ("target_id", "13812345678"),  # a mobile number
        ("detail", "phone=13812345678"),
        ("detail", "id 41022519780512131X"),
        ("detail", "name=王建国"),  # names are in Chinese characters: not printable ASCII
        ("target_id", "王建国"),
        ("action", "Export Everything"),
        ("channel", "email"),
    ],
)
async def test_personal_data_is_refused(db, field, value):
    entry = {
        "actor": "tg:1",
        "action": "erase",
        "target_kind": "person",
        "target_id": "7",
        "channel": "cli",
        "detail": None,
    }
    async with db.session() as session:
        with pytest.raises(ValueError):
            await audit.record(session=session, **{**entry, field: value})


async def test_area_codes_and_ids_are_fine(db):
    async with db.session() as session:
        entry = await audit.record(
            session=session,
            actor="console:local",
            action="access.refused",
            target_kind="action",
            target_id="hr.export",
            channel="console",
            detail="reason=denied,area=410225101201",
        )
    assert entry.id is not None


def test_the_log_is_append_only_in_the_code():
    public = {name for name, _ in inspect.getmembers(audit, inspect.iscoroutinefunction)}
    assert public == {"record", "entries"}
    source = inspect.getsource(audit)
    assert "delete(" not in source and "update(" not in source


async def test_refusals_are_audited_with_the_polite_reply(db):
    async with db.session() as session:
        member, replies = await access_effects.guard(
            session=session, key="tg:77", action="hr.export", area_code="410225"
        )
    assert member.role == "household"
    assert [r.key for r in replies] == ["access.denied"]
    async with db.session() as session:
        (entry,) = await audit.entries(session=session)
    assert (entry.actor, entry.action, entry.target_kind, entry.target_id, entry.channel) == (
        "tg:77",
        "access.refused",
        "action",
        "hr.export",
        "telegram",
    )
    assert entry.detail == "reason=denied,area=410225"


def test_cli_prints_tsv_filtered_by_user(url, capsys):
    assert cli_access.admin_add(url, 4242) == 0
    assert cli_access.users(url) == 0
    capsys.readouterr()
    assert cli_access.audit_log(url, since="2000-01-01") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["at", "actor", "channel", "action", "target_kind", "target_id", "detail"]
    rows = [line.split("\t") for line in lines[1:]]
    assert [row[3] for row in rows] == ["user.grant", "users.view"]
    assert all(row[1].startswith("cli:") and row[2] == "cli" for row in rows)
    assert cli_access.audit_log(url, user="4242") == 0
    assert capsys.readouterr().out.splitlines()[1:] == []  # 4242 did nothing themselves
    assert cli_access.audit_log(url, since="yesterday") == 2
