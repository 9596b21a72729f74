"""Invitations: one-time use, expiry, revocation, replay refused and audited; end to end (fake Bot API)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.cli import access as cli_access
from bot.features.access import effects as access_effects
from content.i18n import load_messages
from dialogs.model import LANGUAGES
from storage.models_access import Invitation
from storage.repositories import access, audit, invitations, ratelimit
from tests.access_support import (  # noqa: F401
    NOW,
    SECRET,
    VILLAGE,
    cipher_fixture,
    db_fixture,
    url_fixture,
)
from tests.fakebot import FakeBotAPI
from tests.telegram_harness import polling_bot, say, settings_for

WEEK = timedelta(days=7)


async def create(db, role="worker", level="village", area=VILLAGE, expires=NOW + WEEK):
    """A new invitation made by an admin; its code."""
    async with db.session() as session:
        code, _ = await invitations.create(
            session=session,
            role=role,
            level=level,
            area_code=area,
            expires_at=expires,
            created_by="tg:1",
            now=NOW,
        )
    return code


async def redeem(db, code, key, now=NOW):
    """Redeem through the bot's effect; the reply keys."""
    async with db.session() as session:
        return [
            reply.key
            for reply in await access_effects.redeem_reply(session=session, key=key, code=code, now=now)
        ]


async def member_of(db, key):
    async with db.session() as session:
        return await access.load_member(session=session, channel_key=key)


async def test_a_code_works_once_and_a_replay_is_refused_and_audited(db):
    code = await create(db)
    assert await redeem(db, code, "tg:10") == ["access.welcome"]
    assert await member_of(db, "tg:10") == access.Member("tg:10", "worker", (("village", VILLAGE),))
    assert await redeem(db, code, "tg:11") == ["access.invite.used"]
    assert await redeem(db, code, "tg:10") == ["access.invite.used"]
    assert (await member_of(db, "tg:11")).role == "household"
    async with db.session() as session:
        entries = await audit.entries(session=session)
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("tg:10", "invite.redeem", f"role=worker,area={VILLAGE}"),
        ("tg:11", "invite.redeem", "refused=used"),
        ("tg:10", "invite.redeem", "refused=used"),
    ]
    assert all(code not in (e.detail or "") + (e.target_id or "") for e in entries)


async def test_only_a_hash_of_the_code_is_stored(db):
    code = await create(db)
    async with db.session() as session:
        (row,) = (await session.exec(select(Invitation))).all()
    assert code not in str(row.model_dump()) and row.code_hash == invitations.code_hash(code)


async def test_expiry_follows_the_clock_passed_in(db):
    code = await create(db, expires=NOW + timedelta(hours=1))
    assert await redeem(db, code, "tg:20", now=NOW + timedelta(hours=2)) == ["access.invite.expired"]
    assert await redeem(db, code, "tg:20", now=NOW + timedelta(minutes=59)) == ["access.welcome"]


async def test_a_revoked_code_is_refused(db):
    code = await create(db)
    async with db.session() as session:
        revoked = await invitations.revoke(session=session, code=code, by="cli:root", now=NOW)
    assert revoked is not None and revoked.revoked_at is not None
    assert await redeem(db, code, "tg:30") == ["access.invite.revoked"]


async def test_unknown_codes_are_refused_and_rate_limited(db):
    allowed, _ = ratelimit.LIMITS["invite.redeem_failed"]
    replies = [await redeem(db, f"guess{i}", "tg:40") for i in range(allowed + 1)]
    assert replies == [["access.invite.unknown"]] * allowed + [["access.rate_limited"]]
    good = await create(db)
    assert await redeem(db, good, "tg:40") == ["access.rate_limited"]  # even a good code must wait
    assert await redeem(db, good, "tg:40", now=NOW + timedelta(hours=1, seconds=1)) == ["access.welcome"]


async def test_same_role_adds_a_scope_other_role_is_refused(db):
    first, second = await create(db), await create(db, area="410225101202")
    assert await redeem(db, first, "tg:50") == ["access.welcome"]
    assert await redeem(db, second, "tg:50") == ["access.welcome"]
    assert (await member_of(db, "tg:50")).scopes == (("village", VILLAGE), ("village", "410225101202"))
    hr_code = await create(db, role="hr", level="county", area="410225")
    assert await redeem(db, hr_code, "tg:50") == ["access.invite.other_role"]
    assert await redeem(db, hr_code, "tg:51") == ["access.welcome"]  # it was not used up


async def test_two_people_racing_with_one_code_cannot_both_win(db):
    code = await create(db)
    outcomes = await asyncio.gather(*(redeem(db, code, f"tg:6{i}") for i in range(4)))
    assert sorted(outcomes) == [["access.invite.used"]] * 3 + [["access.welcome"]]


async def test_invite_requests_in_the_bot_are_checked(db):
    async with db.session() as session:
        await access.grant(session=session, channel_key="tg:70", role="hr", scopes=[("county", "410225")])

    async def ask(key, arg):
        async with db.session() as session:
            handler = _handlers()["invite_requested"]
            return [r.key for r in await handler(key=key, session=session, answers={"arg": arg}, lang="en")]

    assert await ask("tg:70", f"worker {VILLAGE} 3d") == ["access.invite.created"]
    assert await ask("tg:70", "hr 410225") == ["access.denied"]  # HR leads invite workers only
    assert await ask("tg:70", "worker 410226101201") == ["access.denied"]  # another county
    assert await ask("tg:70", "worker please") == ["access.invite.usage"]
    assert await ask("tg:71", f"worker {VILLAGE}") == ["access.denied"]  # a household
    async with db.session() as session:
        actions = [(e.actor, e.action) for e in await audit.entries(session=session)]
    assert actions == [("tg:70", "invite.create")] + [("tg:70", "access.refused")] * 2 + [
        ("tg:71", "access.refused")
    ]


def _handlers():
    from bot.core.effects import Effects
    from storage.crypto import Cipher

    effects = Effects()
    access_effects.register(effects, cipher=Cipher.from_secret(SECRET), bot_username="outreach_test_bot")
    return effects.handlers


async def test_other_deep_links_go_to_the_handler_registered_before():
    from bot.core.effects import Effects
    from storage.crypto import Cipher

    seen = []

    async def earlier(**data):
        seen.append(data["payload"])

    effects = Effects()
    effects.on("deep_link", earlier)
    access_effects.register(effects, cipher=Cipher.from_secret(SECRET))
    assert await effects.handlers["deep_link"](key="tg:1", session=None, payload="v_410225101201") is None
    assert seen == ["v_410225101201"]


def test_cli_invite_revoke_and_qr(url, tmp_path, capsys):
    status = cli_access.invite(
        url, "worker", "village", VILLAGE, "2d", "outreach_test_bot", tmp_path / "qr.png"
    )
    assert status == 0
    printed = dict(line.split("\t", 1) for line in capsys.readouterr().out.splitlines() if "\t" in line)
    assert printed["link"] == f"https://t.me/outreach_test_bot?start=i_{printed['code']}"
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG")
    assert cli_access.invite_revoke(url, printed["code"]) == 0
    assert cli_access.invite_revoke(url, "no-such-code") == 1
    assert cli_access.invite(url, "worker", "county", "410225") == 2  # workers get villages or townships
    assert cli_access.invite(url, "worker", "village", VILLAGE, "1y") == 2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_access_message_is_translated(lang):
    keys = {f"access.role.{role}" for role in ("admin", "hr", "worker", "household")} | {
        f"access.invite.{outcome}" for outcome in ("expired", "used", "revoked", "other_role", "unknown")
    }
    assert keys <= set(load_messages(lang))


# ---------------------------------------------------------------- end to end

ADMIN, NEWCOMER, LATECOMER = 9001, 9002, 9003


@pytest.fixture
async def fake():
    async with FakeBotAPI() as server:
        yield server


async def test_admin_invites_a_worker_who_joins_and_a_second_user_is_refused(
    fake, tmp_path, monkeypatch, capsys
):
    settings = settings_for(fake, tmp_path).model_copy(update={"bot_username": "outreach_test_bot"})
    assert await asyncio.to_thread(cli_access.admin_add, settings.db_url, ADMIN) == 0
    async with polling_bot(settings):
        await say(fake, ADMIN, "/start", expect=2)
        (ask,) = await say(fake, ADMIN, "/invite")
        assert "worker 410225101201 7d" in ask.text
        created, _ = await say(fake, ADMIN, f"worker {VILLAGE} 7d", expect=2)
        link = next(word for word in created.text.split() if word.startswith("https://t.me/"))
        payload = link.split("?start=", 1)[1]
        welcome, *_ = await say(fake, NEWCOMER, f"/start {payload}", expect=3)
        assert "驻村工作队队员" in welcome.text and VILLAGE in welcome.text
        refused, *_ = await say(fake, LATECOMER, f"/start {payload}", expect=3)
        assert "已经用过了" in refused.text
    url = settings.db_url
    capsys.readouterr()
    assert await asyncio.to_thread(cli_access.users, url) == 0
    listed = capsys.readouterr().out
    assert f"{NEWCOMER}\ttg:{NEWCOMER}\tworker\tvillage:{VILLAGE}" in listed and str(LATECOMER) not in listed
    assert await asyncio.to_thread(cli_access.revoke, url, NEWCOMER) == 0
    assert await asyncio.to_thread(cli_access.users, url) == 0
    assert f"tg:{NEWCOMER}\tworker" not in capsys.readouterr().out
    assert await asyncio.to_thread(cli_access.revoke, url, 123) == 1


async def test_a_household_sending_invite_is_refused_politely(fake, tmp_path, monkeypatch):
    settings = settings_for(fake, tmp_path)
    async with polling_bot(settings):
        await say(fake, NEWCOMER, "/start", expect=2)
        await say(fake, NEWCOMER, "/invite")
        refused, _ = await say(fake, NEWCOMER, f"worker {VILLAGE}", expect=2)
        assert "没有权限" in refused.text
