"""The delivery worker through the channel-neutral protocol: a channel without edit, keys of several channels.

Exactly once is checked on what the chats finally show, as in tests/test_delivery.py: every record's
reference appears in exactly one digest text of each destination of its county.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from bot.cli import access as cli_access
from bot.cli.delivery import hr_add, hr_list, hr_remove
from bot.features.access.rules import Member
from bot.features.delivery.channel import DigestChannels
from bot.features.delivery.commands import handle_hr_command
from bot.features.delivery.steps import STEPS_WITHOUT_EDIT
from bot.features.delivery.worker import Worker
from dialogs.model import Input
from storage.db import Database
from storage.models import User
from storage.models_access import AuditEntry
from storage.models_delivery import DELIVERED, DONE, Delivery, DeliveryDigest, HrDestination
from storage.repositories import hr_destinations
from tests.channel_fakes import NoEditChannel
from tests.hr_support import db_fixture, url_fixture  # noqa: F401 - the url and db fixtures
from tests.test_delivery import COUNTY_A, COUNTY_B, NOW, Crash, config, rows, seed

WECOM_A1, WECOM_A2, WECOM_B = "wecom:group:wrkA1", "wecom:zhangsan", "wecom:group:wrkB"
REF = re.compile(r"^\d+\. \[(\d+(?:-\d+)?)\]", re.MULTILINE)


def wecom(channel: NoEditChannel) -> DigestChannels:
    """A registry with the fake channel for "wecom:" keys only."""
    channels = DigestChannels()
    channels.register("wecom", channel)
    return channels


@pytest.fixture
def channel() -> NoEditChannel:
    """The fake channel without edit, knowing the WeCom chats of the tests."""
    return NoEditChannel(known={WECOM_A1, WECOM_A2, WECOM_B, "wecom:admin1"})


async def add(db: Database, county: str, key: str) -> HrDestination:
    """An HR destination by key."""
    async with db.session() as session:
        row, _ = await hr_destinations.add_destination(
            session=session, county_code=county, chat_key=key, added_by="cli:test", now=NOW
        )
    return row


def worker(db: Database, channels: DigestChannels, **options: Any) -> Worker:
    """A worker with fast timings."""
    settings = options.pop("config", None) or config()
    return Worker.build(db, channels, settings, **options)


def assert_exactly_once(channel: NoEditChannel, address: str, record_ids: list[int]) -> None:
    """Every record appears once in what the chat shows, and no other record does."""
    seen: Counter[str] = Counter()
    for text in channel.texts(address):
        seen.update(REF.findall(text))
    assert set(seen) == {str(i) for i in record_ids}, f"{address}: missing or foreign records"
    assert all(n == 1 for n in seen.values()), f"{address}: twice: {[r for r, n in seen.items() if n > 1]}"


async def assert_all_delivered(db: Database) -> None:
    """Every delivery is delivered and every digest is done."""
    assert {d.status for d in await rows(db, Delivery)} == {DELIVERED}
    assert {d.status for d in await rows(db, DeliveryDigest)} == {DONE}


def test_a_channel_without_edit_must_drop_repeats() -> None:
    with pytest.raises(ValueError, match="dedupe"):
        DigestChannels().register("wecom", NoEditChannel(dedupe_seconds=0))


async def test_digests_reach_a_channel_without_edit_with_no_placeholder(db: Database, channel) -> None:
    records = await seed(db, COUNTY_A, 7)
    await add(db, COUNTY_A, WECOM_A1)
    await worker(db, wecom(channel), config=config(max_records_per_digest=3)).drain()
    assert_exactly_once(channel, WECOM_A1, records)
    assert channel.kinds(WECOM_A1) == ["text", "file", "image"] * 3  # 3 + 3 + 1 records
    assert "edit_text" not in channel.calls and all(len(t.encode()) <= 2048 for t in channel.texts(WECOM_A1))
    assert not any("正在生成" in text for text in channel.texts(WECOM_A1))  # no placeholder: no edit
    await assert_all_delivered(db)


@pytest.mark.parametrize("step", STEPS_WITHOUT_EDIT)
async def test_a_crash_at_any_step_without_edit_sends_nothing_twice(db: Database, channel, step: str) -> None:
    records_a = await seed(db, COUNTY_A, 8)
    records_b = await seed(db, COUNTY_B, 5, start=100)
    for county, key in ((COUNTY_A, WECOM_A1), (COUNTY_A, WECOM_A2), (COUNTY_B, WECOM_B)):
        await add(db, county, key)
    crashed: list[str] = []

    def crash_once(name: str) -> None:
        if name == step and not crashed:
            crashed.append(name)
            raise Crash(name)

    serial = config(max_records_per_digest=5, concurrency=1)
    with pytest.raises(BaseExceptionGroup) as info:
        await worker(db, wecom(channel), hook=crash_once, config=serial).drain()
    assert info.group_contains(Crash)
    await worker(db, wecom(channel), config=serial).drain()  # the restart
    for address, records in ((WECOM_A1, records_a), (WECOM_A2, records_a), (WECOM_B, records_b)):
        assert_exactly_once(channel, address, records)
    await assert_all_delivered(db)


async def test_a_lost_answer_is_retried_and_the_channel_drops_the_repeat(db: Database, channel) -> None:
    records = await seed(db, COUNTY_A, 4)
    await add(db, COUNTY_A, WECOM_A1)
    channel.fail_next = ["unreachable", "lost"]  # a 503, then a send whose answer never came back
    await worker(db, wecom(channel)).drain()
    assert_exactly_once(channel, WECOM_A1, records)
    assert channel.calls.count("send_text") == 3
    await assert_all_delivered(db)


async def test_a_retry_after_the_dedupe_window_says_it_may_be_a_repeat(db: Database) -> None:
    now = [1_000_000.0]
    channel = NoEditChannel(dedupe_seconds=60, clock=lambda: now[0], known={WECOM_A1})
    records = await seed(db, COUNTY_A, 2)
    await add(db, COUNTY_A, WECOM_A1)

    def crash_after_send(name: str) -> None:
        if name == "content_sent":
            raise Crash(name)

    with pytest.raises(BaseExceptionGroup):
        await worker(db, wecom(channel), hook=crash_after_send).drain()
    async with db.session() as session:  # the destination was repaired hours later
        digest = (await session.exec(DeliveryDigest.__table__.select())).first()
        await session.exec(
            DeliveryDigest.__table__.update().values(send_attempted_at=digest.send_attempted_at - 7200)
        )
        await session.commit()
    now[0] += 7200
    await worker(db, wecom(channel)).drain()
    first, repeat = channel.texts(WECOM_A1)
    assert "重新发送" in repeat and repeat.endswith(first)  # HR can tell the repeat for what it is
    await assert_all_delivered(db)
    assert len(records) == 2


async def test_a_process_serves_only_the_destinations_of_its_channels(db: Database, channel) -> None:
    records = await seed(db, COUNTY_A, 3)
    await add(db, COUNTY_A, WECOM_A1)
    telegram_row = await add(db, COUNTY_A, "tg:-1001000000001")
    await worker(db, wecom(channel)).drain()  # returns: the Telegram destination is not its work
    assert_exactly_once(channel, WECOM_A1, records)
    waiting = await rows(db, Delivery, Delivery.destination_id == telegram_row.id)
    assert len(waiting) == 3 and {d.status for d in waiting} == {"pending"}
    (row,) = await rows(db, HrDestination, HrDestination.id == telegram_row.id)
    assert row.failures == 0  # not counted as failing either


async def test_a_broken_wecom_destination_is_reported_to_admins_on_their_channel(
    db: Database, channel
) -> None:
    await seed(db, COUNTY_A, 2)
    await add(db, COUNTY_A, "wecom:group:gone")
    async with db.session() as session:
        session.add(User(channel_key="wecom:admin1", role="admin", language="en"))
        session.add(User(channel_key="tg:777", telegram_id=777, role="admin", language="en"))
        await session.commit()
    await worker(db, wecom(channel), config=config(delivery_max_failures=2)).drain()
    (alert,) = channel.texts("wecom:admin1")
    assert "wecom:group:gone" in alert and "81013" in alert


async def test_destinations_of_several_channels_by_key(db: Database) -> None:
    admin = Member("wecom:lisi", "admin", (("city", "410200"),))

    async def command(text: str) -> Any:
        name, _, arg = text.partition(" ")
        async with db.session() as session:
            return await handle_hr_command(Input.command(name, arg), admin, session)

    assert (await command(f"hr_add {COUNTY_A} {WECOM_A1}")).key == "delivery.hr.added"
    assert dict((await command(f"hr_add {COUNTY_A} -1001")).params)["chat"] == "tg:-1001"  # the shorthand
    assert (await command(f"hr_add {COUNTY_A} smtp:x")).key == "delivery.hr.usage"
    assert (await command(f"hr_remove {COUNTY_A} {WECOM_A1}")).key == "delivery.hr.removed"
    audited = await rows(db, AuditEntry, AuditEntry.action == "hr.destinations")
    assert [(e.channel, e.detail) for e in audited] == [
        ("wecom", f"add county={COUNTY_A} channel=wecom"),
        ("wecom", f"add county={COUNTY_A} channel=telegram"),
        ("wecom", f"remove county={COUNTY_A} channel=wecom"),
    ]


def test_the_cli_takes_keys_and_the_telegram_shorthand(migrated_sqlite_url: str, capsys) -> None:
    assert hr_add(migrated_sqlite_url, COUNTY_A, "wecom:group:wrkA1") == 0
    assert hr_add(migrated_sqlite_url, COUNTY_A, "-1001000000001") == 0
    assert hr_add(migrated_sqlite_url, COUNTY_A, "nokey") == 2
    assert hr_add(migrated_sqlite_url, COUNTY_A, None) == 2
    assert hr_list(migrated_sqlite_url) == 0
    out = capsys.readouterr()
    assert (
        f"{COUNTY_A}\twecom:group:wrkA1\tactive" in out.out
        and f"{COUNTY_A}\ttg:-1001000000001\tactive" in out.out
    )
    assert out.err.count("\n") == 2 and "Traceback" not in out.err  # one line per error
    assert hr_remove(migrated_sqlite_url, COUNTY_A, "wecom:group:wrkA1") == 0


def test_admins_of_any_channel_by_key_from_the_cli(migrated_sqlite_url: str, capsys) -> None:
    assert cli_access.admin_add(migrated_sqlite_url, "wecom:lisi") == 0
    assert cli_access.admin_add(migrated_sqlite_url, "wecom:group:wrkA1") == 2  # a group is no person
    assert cli_access.admin_add(migrated_sqlite_url, "lisi") == 2
    assert cli_access.users(migrated_sqlite_url) == 0
    assert "\twecom:lisi\tadmin\tprovince:410000" in capsys.readouterr().out
    assert cli_access.revoke(migrated_sqlite_url, "wecom:lisi") == 0
    capsys.readouterr()
    assert cli_access.users(migrated_sqlite_url) == 0
    assert "wecom:lisi" not in capsys.readouterr().out  # no role left
