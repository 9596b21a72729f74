"""Delivery of intent records to county HR chats as digests (SQLite and PostgreSQL, the fake Bot API).

Exactly once is checked on what the chats finally show: every record's reference `[id]` appears in
exactly one digest of each destination of its county, and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select, update

from bot.channels.telegram import digests
from bot.channels.telegram.ratelimit import Limits, RateLimiter, Window
from bot.channels.telegram.sender import RetryPolicy
from bot.cli.delivery import hr_add, hr_list, hr_remove
from bot.core.settings import SettingsError, load_settings
from bot.features.access.rules import Member
from bot.features.delivery import digest as fmt
from bot.features.delivery.channel import DigestChannels
from bot.features.delivery.commands import handle_hr_command
from bot.features.delivery.config import DeliveryConfig, load_delivery_config
from bot.features.delivery.steps import STEPS
from bot.features.delivery.worker import Worker, drain_delivery, run_delivery
from content.i18n import Translator
from dialogs.model import Input
from storage.crypto import Cipher
from storage.db import Database
from storage.models import Outbox, User
from storage.models_access import AuditEntry
from storage.models_delivery import DELIVERED, DONE, PENDING, Delivery, DeliveryDigest, HrDestination
from storage.repositories import hr_destinations
from storage.repositories.intake import submit_intake
from tests.db_fixtures import MIGRATED_BACKENDS as BACKENDS
from tests.fakebot import FakeBotAPI, RateLimits

SECRET = "test-secret-0123456789-abcdefghijklmnop"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
COUNTY_A, COUNTY_B, COUNTY_C = "410225", "410221", "410222"
CHAT_A1, CHAT_A2, CHAT_B = -1001000000001, -1001000000002, -1001000000003
ADMIN_CHAT = 777001
REF = re.compile(r"^\d+\. \[(\d+(?:-\d+)?)\]", re.MULTILINE)
PLACEHOLDER_START = "正在生成"


class Crash(BaseException):
    """A simulated kill -9: nothing catches it, nothing is cleaned up."""


# ---------------------------------------------------------------- fixtures and helpers


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
async def fake() -> AsyncIterator[FakeBotAPI]:
    """The fake Bot API with Telegram's limits enforced and the HR groups and the admin known."""
    async with FakeBotAPI(rate_limits=RateLimits()) as api:
        for chat in (CHAT_A1, CHAT_A2, CHAT_B, ADMIN_CHAT):
            api.add_chat(chat)
        yield api


def config(**changes: Any) -> DeliveryConfig:
    """Fast timings for tests."""
    base = DeliveryConfig(
        poll_seconds=0.05, lease_seconds=0.5, backoff_seconds=0.01, max_backoff_seconds=0.05
    )
    return base.with_changes(**changes)


def telegram(fake: FakeBotAPI) -> DigestChannels:
    """The Telegram channel on the fake, with its own bot and limiter, quick retries and short timeouts."""
    policy = RetryPolicy(attempts=4, base_seconds=0.01, max_seconds=0.05, timeout_seconds=1)
    channels = DigestChannels()
    digests.register(channels, fake.make_bot(), policy=policy)
    return channels


def worker(db: Database, fake: FakeBotAPI, **options: Any) -> Worker:
    """A worker on the Telegram channel of the fake."""
    settings = options.pop("config", None) or config()
    return Worker.build(db, telegram(fake), settings, **options)


def resident_id(region: str, birth: str, serial: str) -> str:
    """A resident ID number with a valid check character (GB 11643)."""
    body = region + birth + serial
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def submission(county: str, index: int) -> dict[str, Any]:
    """One household of one young member with a wish, in a village of `county`."""
    kind = ("technical_school", "vocational_training", "apprenticeship")[index % 3]
    return {
        "version": 1,
        "answered_by": "worker",
        "village_code": f"{county}{100 + index % 3:03d}201",
        "household": {"head_name": f"户主{index}", "status": "registered_poor", "phone": f"138{index:08d}"},
        "members": [{
            "name": f"学员{county}-{index}", "relation": "child", "sex": "male", "age": 17,
            "id_number": resident_id(county, "20090301", f"{index % 1000:03d}"),
            "education": "junior_high_graduate", "two_after": "current", "labour_capacity": "full",
            "situation": "at_home",
            "wish": {"kind": kind, "trade": "other:电工" if index % 2 else None, "outside_county_ok": True},
        }],
        "consent": {"given": True, "text_version": "consent-2026-11", "text": "同意", "language": "zh_Hans"},
    }  # fmt: skip


async def seed(db: Database, county: str, count: int, start: int = 0) -> list[int]:
    """`count` new intent records (and their outbox entries) in `county`; their ids."""
    ids = []
    for index in range(start, start + count):
        async with db.session() as session:
            result = await submit_intake(
                session=session, submission=submission(county, index), cipher=Cipher.from_secret(SECRET),
                submitted_by="tg:1", now=NOW,
            )  # fmt: skip
        ids += result.new_intent_ids
    return ids


async def add(db: Database, county: str, chat: int) -> HrDestination:
    """An HR destination."""
    async with db.session() as session:
        row, _ = await hr_destinations.add_destination(
            session=session, county_code=county, chat_key=f"tg:{chat}", added_by="cli:test", now=NOW
        )
    return row


async def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    """Rows of a table."""
    async with db.session() as session:
        return list((await session.exec(select(model).where(*where))).all())


def refs(fake: FakeBotAPI, chat: int) -> Counter[str]:
    """How often each record reference appears in what the chat shows now."""
    found: Counter[str] = Counter()
    for message in fake.messages_to(chat):
        found.update(REF.findall(message.text or ""))
    return found


def placeholders(fake: FakeBotAPI, chat: int) -> int:
    """Messages that are still placeholders (never edited into a digest)."""
    return sum(1 for m in fake.messages_to(chat) if (m.text or "").startswith(PLACEHOLDER_START))


def attachments(fake: FakeBotAPI, chat: int) -> Counter[str]:
    """Documents and photos sent to the chat, by method."""
    return Counter(m.method for m in fake.messages_to(chat) if m.method in ("sendDocument", "sendPhoto"))


def assert_exactly_once(fake: FakeBotAPI, chat: int, record_ids: list[int]) -> None:
    """Every record appears once in the chat, and no other record does."""
    seen = refs(fake, chat)
    assert set(seen) == {str(i) for i in record_ids}, f"chat {chat}: missing or foreign records"
    assert all(n == 1 for n in seen.values()), (
        f"chat {chat}: sent twice: {[r for r, n in seen.items() if n > 1]}"
    )


async def assert_all_delivered(db: Database) -> None:
    """Every delivery is delivered and every digest is done."""
    assert {d.status for d in await rows(db, Delivery)} == {DELIVERED}
    assert {d.status for d in await rows(db, DeliveryDigest)} == {DONE}


# ---------------------------------------------------------------- digest text and files (pure)


def payload(record_id: int, id_number: str = "41022520090301123X", phone: str = "13812345678") -> str:
    """An outbox payload whose numbers are NOT masked, to prove the digest masks them anyway."""
    return json.dumps({
        "record_id": record_id, "version": 1, "county_code": COUNTY_A, "village_code": "410225101215",
        "wish": {"kind": "technical_school", "trade": "other:电工"},
        "member": {"name": "王小明", "age": 17, "id_number": id_number, "relation": "child", "sex": "male"},
        "household": {"head_name": "王建国", "phone": phone, "household_number": "4102251002010001"},
        "submitted_at": NOW.isoformat(),
    }, ensure_ascii=False)  # fmt: skip


def test_digest_masks_numbers_keeps_names_and_counts_by_township_and_kind() -> None:
    t = Translator("zh_Hans")
    entries = [fmt.entry(payload(i)) for i in range(1, 4)]
    heading = fmt.Heading(7, COUNTY_A, NOW)
    text = fmt.render_text(
        t, heading, entries, {COUNTY_A: "兰考县", "410225101": "堌阳镇", "410225101215": "张庄村"}
    )
    assert "王小明" in text and "兰考县" in text and "堌阳镇张庄村" in text
    assert "41022520090301123X" not in text and "13812345678" not in text
    assert "4102*************X" in text and "*******5678" in text
    assert "读技工院校 3 人" in text
    sheet = fmt.xlsx_bytes(t, entries, {})
    assert sheet.startswith(b"PK")
    assert fmt.chart_png(t, heading, entries, {}).startswith(b"\x89PNG")


def test_a_digest_carries_only_what_fits_in_one_message() -> None:
    t = Translator("zh_Hans")
    entries = [fmt.entry(payload(i)) for i in range(1, 200)]
    heading = fmt.Heading(fmt.WIDEST_NUMBER, COUNTY_A, NOW)
    count = fmt.fitting(entries, lambda part: fmt.render_text(t, heading, part, {}))
    assert 10 < count < 199
    assert fmt.utf16_length(fmt.render_text(t, heading, entries[:count], {})) <= fmt.MAX_TEXT
    assert fmt.utf16_length(fmt.render_text(t, heading, entries[: count + 1], {})) > fmt.MAX_TEXT


async def test_the_rate_limiter_keeps_sliding_windows() -> None:
    now = [0.0]
    limiter = RateLimiter(
        Limits(overall=(3, 1.0), per_group=(2, 60.0), per_private_chat=None), lambda: now[0]
    )
    for _ in range(2):
        await limiter.acquire(-1)
    assert limiter._chat_window(-1).wait(now[0]) > 60  # the group's third message waits a minute
    window = Window(3, 1.0)
    for stamp in (0.0, 0.1, 0.2):
        window.record(stamp)
    assert window.wait(0.3) > 0.7 and window.wait(1.5) == 0.0


# ---------------------------------------------------------------- reliability


async def test_429_500_timeouts_and_dropped_connections_are_survived(db: Database, fake: FakeBotAPI) -> None:
    records = await seed(db, COUNTY_A, 6)
    await add(db, COUNTY_A, CHAT_A1)
    fake.fail_next("sendMessage", retry_after=1)
    fake.fail_next("sendMessage", status=500)
    fake.fail_next("sendMessage", delay=1.5)  # the client gives up, the fake still sends it
    fake.fail_next("editMessageText", drop=True)
    fake.fail_next("editMessageText", status=502)
    fake.fail_next("editMessageText", delay=1.5)  # applied after the timeout: the retry is "not modified"
    fake.fail_next("sendDocument", status=500)
    fake.fail_next("sendPhoto", drop=True)
    await worker(db, fake).drain()
    assert_exactly_once(fake, CHAT_A1, records)
    assert placeholders(fake, CHAT_A1) <= 1  # the timed-out placeholder stays, without any record
    assert attachments(fake, CHAT_A1) == Counter({"sendDocument": 1, "sendPhoto": 1})
    assert fake.http_429 == 1
    await assert_all_delivered(db)


@pytest.mark.parametrize("step", STEPS)
async def test_a_crash_at_any_step_loses_nothing_and_sends_nothing_twice(
    db: Database, fake: FakeBotAPI, step: str
) -> None:
    records_a = await seed(db, COUNTY_A, 8)
    records_b = await seed(db, COUNTY_B, 5, start=100)
    for county, chat in ((COUNTY_A, CHAT_A1), (COUNTY_A, CHAT_A2), (COUNTY_B, CHAT_B)):
        await add(db, county, chat)

    def crash_once(name: str) -> None:
        if name == step and not crashed:
            crashed.append(name)
            raise Crash(name)

    crashed: list[str] = []
    # One destination at a time, so that the crash hits exactly that boundary (with more, the
    # others would be killed mid-step too: also safe, but their stray placeholders blur the count).
    serial = config(max_records_per_digest=5, concurrency=1)
    with pytest.raises(BaseExceptionGroup) as info:
        await worker(db, fake, hook=crash_once, config=serial).drain()
    assert info.group_contains(Crash)
    await worker(db, fake, config=serial).drain()  # the restart
    for chat, records in ((CHAT_A1, records_a), (CHAT_A2, records_a), (CHAT_B, records_b)):
        assert_exactly_once(fake, chat, records)
    strays = sum(placeholders(fake, chat) for chat in (CHAT_A1, CHAT_A2, CHAT_B))
    assert strays <= (1 if step == "placeholder_sent" else 0)
    await assert_all_delivered(db)


async def test_a_broken_destination_keeps_its_records_and_the_admins_are_told(
    db: Database, fake: FakeBotAPI
) -> None:
    records = await seed(db, COUNTY_A, 3)
    records_b = await seed(db, COUNTY_B, 2, start=100)
    unknown_chat = -1009999999999  # the fake answers "chat not found"
    broken = await add(db, COUNTY_A, unknown_chat)
    await add(db, COUNTY_B, CHAT_B)
    async with db.session() as session:
        session.add(User(channel_key=f"tg:{ADMIN_CHAT}", telegram_id=ADMIN_CHAT, role="admin", language="en"))
        await session.commit()
    await worker(db, fake, config=config(delivery_max_failures=3)).drain()
    (row,) = await rows(db, HrDestination, HrDestination.id == broken.id)
    assert row.failures == 3 and row.broken_at is not None and "chat not found" in (row.last_error or "")
    (alert,) = fake.messages_to(ADMIN_CHAT)
    assert str(unknown_chat) in (alert.text or "") and "failed 3 times" in (alert.text or "")
    assert {d.status for d in await rows(db, Delivery, Delivery.destination_id == broken.id)} == {PENDING}
    assert_exactly_once(fake, CHAT_B, records_b)  # the other county is not held up

    fake.add_chat(unknown_chat)  # the bot was added to the group; the admin enables it again
    await add(db, COUNTY_A, unknown_chat)
    await worker(db, fake).drain()
    assert_exactly_once(fake, unknown_chat, records)
    assert len(fake.messages_to(ADMIN_CHAT)) == 1


async def test_two_workers_on_one_outbox_send_every_record_once(url: str, fake: FakeBotAPI) -> None:
    first, second = Database.from_url(url), Database.from_url(url)  # as two processes would
    try:
        expected: dict[int, list[int]] = {}
        for number, chat in enumerate((CHAT_A1, CHAT_A2, CHAT_B, -1001000000004, -1001000000005)):
            county = f"4102{30 + number:02d}"
            fake.add_chat(chat)
            expected[chat] = await seed(first, county, 12, start=number * 100)
            await add(first, county, chat)
        fast = config(max_records_per_digest=4, concurrency=3)
        await asyncio.gather(
            worker(first, fake, config=fast).drain(), worker(second, fake, config=fast).drain()
        )
        for chat, records in expected.items():
            assert_exactly_once(fake, chat, records)
        assert sum(placeholders(fake, chat) for chat in expected) == 0
        await assert_all_delivered(first)
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_destination_gets_only_its_own_county(db: Database, fake: FakeBotAPI) -> None:
    records_a = await seed(db, COUNTY_A, 4)
    records_b = await seed(db, COUNTY_B, 3, start=100)
    records_c = await seed(db, COUNTY_C, 2, start=200)  # no destination yet: waits
    await add(db, COUNTY_A, CHAT_A1)
    await add(db, COUNTY_A, CHAT_A2)
    await add(db, COUNTY_B, CHAT_B)
    await worker(db, fake).drain()
    assert_exactly_once(fake, CHAT_A1, records_a)
    assert_exactly_once(fake, CHAT_A2, records_a)
    assert_exactly_once(fake, CHAT_B, records_b)
    waiting = await rows(db, Outbox, Outbox.county_code == COUNTY_C)
    assert {entry.status for entry in waiting} == {PENDING}
    chat_c = -1001000000009
    fake.add_chat(chat_c)
    await add(db, COUNTY_C, chat_c)
    await worker(db, fake).drain()
    assert_exactly_once(fake, chat_c, records_c)
    assert_exactly_once(fake, CHAT_B, records_b)  # nothing new for the others


# ---------------------------------------------------------------- entry points and schedule


async def test_run_delivery_sends_what_is_due_until_stopped(
    url: str, db: Database, fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_MIN_RECORDS", "3")
    records = await seed(db, COUNTY_A, 3)
    await add(db, COUNTY_A, CHAT_A1)
    settings = load_settings(database_url=url, bot_token=fake.token)
    stop = asyncio.Event()
    task = asyncio.create_task(run_delivery(settings, telegram(fake), stop=stop))
    await fake.wait_for(lambda: sum(attachments(fake, CHAT_A1).values()) == 2, timeout=20, what="a digest")
    stop.set()
    await asyncio.wait_for(task, 5)
    assert_exactly_once(fake, CHAT_A1, records)
    more = await seed(db, COUNTY_A, 1, start=10)  # one record: not due, but a drain sends it
    await drain_delivery(settings, telegram(fake))
    assert_exactly_once(fake, CHAT_A1, records + more)


def test_delivery_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_INTERVAL_MINUTES", "15")
    assert load_delivery_config().digest_interval_minutes == 15
    monkeypatch.setenv("DIGEST_MIN_RECORDS", "0")
    with pytest.raises(SettingsError, match="DIGEST_MIN_RECORDS"):
        load_delivery_config()


async def test_a_digest_waits_for_enough_records_or_for_the_interval(db: Database, fake: FakeBotAPI) -> None:
    await add(db, COUNTY_A, CHAT_A1)
    first = await seed(db, COUNTY_A, 3)
    scheduled = worker(db, fake, config=config(digest_min_records=5, digest_interval_minutes=60))
    await scheduled.round(drain=False)
    assert fake.messages_to(CHAT_A1) == []  # 3 < 5 and none waited an hour
    second = await seed(db, COUNTY_A, 2, start=10)
    await scheduled.round(drain=False)
    assert_exactly_once(fake, CHAT_A1, first + second)
    late = await seed(db, COUNTY_A, 1, start=20)
    await scheduled.round(drain=False)
    assert_exactly_once(fake, CHAT_A1, first + second)
    async with db.session() as session:
        hour_ago = datetime.now(UTC) - timedelta(minutes=61)
        await session.exec(update(Delivery).where(Delivery.status == PENDING).values(created_at=hour_ago))
        await session.commit()
    await scheduled.round(drain=False)
    assert_exactly_once(fake, CHAT_A1, first + second + late)


# ---------------------------------------------------------------- configuration by admins


async def test_the_admin_command_adds_lists_and_removes_destinations(db: Database) -> None:
    admin = Member("tg:42", "admin", (("city", "410200"),))
    worker_member = Member("tg:43", "worker", (("village", "410225101215"),))

    async def command(text: str, member: Member) -> Any:
        name, _, arg = text.partition(" ")
        async with db.session() as session:
            return await handle_hr_command(Input.command(name, arg), member, session)

    assert (await command(f"hr_add {COUNTY_A} {CHAT_A1}", worker_member)).key == "delivery.hr.not_allowed"
    assert (await command("hr_add 4102 x", admin)).key == "delivery.hr.usage"
    assert (
        await command(f"hr_add 510121 {CHAT_A1}", admin)
    ).key == "delivery.hr.not_allowed"  # not their city
    reply = await command(f"hr_add {COUNTY_A} {CHAT_A1}", admin)
    assert reply.key == "delivery.hr.added" and dict(reply.params) == {
        "county": COUNTY_A,
        "chat": f"tg:{CHAT_A1}",
    }
    listed = Translator("zh_Hans").render(await command("hr_list", admin)).text
    assert str(CHAT_A1) in listed and COUNTY_A in listed
    assert (await command(f"hr_remove {COUNTY_A} {CHAT_A1}", admin)).key == "delivery.hr.removed"
    assert (await command(f"hr_remove {COUNTY_A} {CHAT_A1}", admin)).key == "delivery.hr.not_found"
    assert (await command(f"hr_add {COUNTY_A} {CHAT_A1}", admin)).key == "delivery.hr.revived"
    audited = await rows(db, AuditEntry, AuditEntry.action == "hr.destinations")
    assert [entry.detail for entry in audited] == [
        f"{what} county={COUNTY_A} channel=telegram" for what in ("add", "remove", "revive")
    ]
    assert {entry.actor for entry in audited} == {"tg:42"}


async def test_removing_a_destination_sends_its_waiting_records_to_the_others(
    db: Database, fake: FakeBotAPI
) -> None:
    records = await seed(db, COUNTY_A, 3)
    await add(db, COUNTY_A, CHAT_A1)
    await worker(db, fake).round(drain=False)  # routed to A1, not due yet
    async with db.session() as session:
        await hr_destinations.remove_destination(
            session=session, county_code=COUNTY_A, chat_key=f"tg:{CHAT_A1}", now=NOW
        )
    await add(db, COUNTY_A, CHAT_A2)
    await worker(db, fake).drain()
    assert fake.messages_to(CHAT_A1) == []
    assert_exactly_once(fake, CHAT_A2, records)


def test_the_cli_manages_destinations(migrated_sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert hr_add(migrated_sqlite_url, COUNTY_A, CHAT_A1) == 0
    assert hr_add(migrated_sqlite_url, "41", CHAT_A1) == 2
    assert hr_list(migrated_sqlite_url) == 0
    out = capsys.readouterr().out
    assert f"{COUNTY_A}\ttg:{CHAT_A1}\tactive" in out
    assert hr_remove(migrated_sqlite_url, COUNTY_A, CHAT_A1) == 0
    assert hr_remove(migrated_sqlite_url, COUNTY_A, CHAT_A1) == 2
    capsys.readouterr()
    assert hr_add(migrated_sqlite_url, COUNTY_A, CHAT_A1) == 0  # removed before: enabled again
    assert hr_add(migrated_sqlite_url, COUNTY_A, CHAT_A1) == 0  # active: nothing to enable
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("enabled again:") and said[1].startswith("already active:")
