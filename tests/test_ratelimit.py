"""Rate limits per user: fixed windows in the database, on both backends; the bot's reply when limited."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.features.access import effects as access_effects
from storage.repositories import access, audit, ratelimit
from tests.access_support import NOW, db_fixture, url_fixture  # noqa: F401

HOUR = timedelta(hours=1)


async def test_hits_count_up_to_the_limit_within_the_window(db):
    async with db.session() as session:
        counts = [
            await ratelimit.hit(session=session, key="tg:1", action="hr.export", now=NOW) for _ in range(3)
        ]
        assert counts == [1, 2, 3]
        assert await ratelimit.count(session=session, key="tg:1", action="hr.export", now=NOW) == 3
        assert await ratelimit.count(session=session, key="tg:2", action="hr.export", now=NOW) == 0


async def test_attempt_refuses_once_the_limit_is_reached_and_allows_again_in_a_new_window(db):
    allowed, _ = ratelimit.LIMITS["hr.export"]
    async with db.session() as session:
        results = [
            await ratelimit.attempt(
                session=session, key="tg:1", action="hr.export", now=NOW + timedelta(minutes=i)
            )
            for i in range(allowed + 2)
        ]
        assert results == [True] * allowed + [False, False]
        assert await ratelimit.limited(session=session, key="tg:1", action="hr.export", now=NOW + HOUR / 2)
        later = NOW + HOUR + timedelta(seconds=1)
        assert not await ratelimit.limited(session=session, key="tg:1", action="hr.export", now=later)
        assert await ratelimit.attempt(session=session, key="tg:1", action="hr.export", now=later)
        assert await ratelimit.count(session=session, key="tg:1", action="hr.export", now=later) == 1


async def test_keys_and_actions_are_counted_apart(db):
    async with db.session() as session:
        for _ in range(5):
            await ratelimit.hit(session=session, key="tg:1", action="invite.redeem_failed", now=NOW)
        assert await ratelimit.limited(session=session, key="tg:1", action="invite.redeem_failed", now=NOW)
        assert not await ratelimit.limited(
            session=session, key="tg:2", action="invite.redeem_failed", now=NOW
        )
        assert not await ratelimit.limited(session=session, key="tg:1", action="hr.export", now=NOW)


async def test_concurrent_first_hits_are_all_counted(db):
    async def one() -> int:
        async with db.session() as session:
            return await ratelimit.hit(session=session, key="tg:9", action="hr.export", now=NOW)

    results = await asyncio.gather(*(one() for _ in range(6)))
    assert sorted(results)[-1] == 6
    async with db.session() as session:
        assert await ratelimit.count(session=session, key="tg:9", action="hr.export", now=NOW) == 6


async def test_an_action_without_a_limit_is_a_programming_error(db):
    async with db.session() as session:
        try:
            await ratelimit.hit(session=session, key="tg:1", action="hr.summary", now=NOW)
        except ValueError as error:
            assert "no rate limit" in str(error)
        else:
            raise AssertionError("expected ValueError")


async def test_guard_counts_exports_and_refuses_politely_when_limited(db):
    async with db.session() as session:
        await access.grant(session=session, channel_key="tg:5", role="hr", scopes=[("county", "410225")])
    allowed, _ = ratelimit.LIMITS["hr.export"]
    async with db.session() as session:
        outcomes = [
            (
                await access_effects.guard(
                    session=session, key="tg:5", action="hr.export", area_code="410225", now=NOW
                )
            )[1]
            for _ in range(allowed + 1)
        ]
    assert outcomes[:allowed] == [[]] * allowed
    assert [reply.key for reply in outcomes[-1]] == ["access.rate_limited"]
    async with db.session() as session:
        (entry,) = await audit.entries(session=session)
    assert (entry.action, entry.target_id, entry.detail) == (
        "access.refused",
        "hr.export",
        "reason=rate_limited",
    )
