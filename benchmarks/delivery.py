"""New records to county HR chats through the fake Bot API, Telegram's limits enforced: time, messages, 429s.

Synthetic records (households, members, intent records and their outbox entries, inserted directly)
spread over counties, one HR group per county; then `Worker.drain()` sends every digest, exactly as
`outreach deliver --once` does, with the default settings. The fake answers 429 whenever a limit is
exceeded (30 messages per second overall, 20 per minute into one group), so `http_429` shows whether
the pacing holds. Afterwards every group's messages are read back: `lost` counts records that reached
no digest of their county's group, `duplicated` the extra copies.

    .venv/bin/python benchmarks/delivery.py [--records 10000] [--counties 150] [--database-url URL]

Where the time goes: a digest costs four calls (placeholder, edit, spreadsheet, chart) and carries
up to 50 records (fewer when their lines do not fit one message), so 10,000 records in 150 counties
(67 each) make 300 digests and 1,200 calls. Edits are paced like sends (Telegram limits them too), and
the pacing keeps a margin under 30 per second (about 26), so the run takes about 50 s whatever the
database. The per-group limit allows 5 digests (about 250 records) a minute into one group: it only
matters for a county with a large backlog, which then drains at that rate. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REF = re.compile(r"^\d+\. \[(\d+)\]", re.MULTILINE)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("伟", "芳", "秀英", "敏", "静", "小明", "建国", "海燕", "志强", "红梅")
TOWNSHIPS = ("城关镇", "堌阳镇", "南彰镇", "考城镇", "红庙镇", "谷营镇", "三义寨乡", "东坝头乡")
VILLAGES = ("东王庄村", "西李寨村", "南张集村", "北刘楼村", "前陈岗村", "后杨屯村")
KINDS = ("technical_school", "vocational_training", "apprenticeship", "entrepreneurship")
TRADES = ("other:电工", None, "other:焊工", "other:养老护理员", None, "other:汽车维修工")
BATCH = 1000
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def county_codes(count: int) -> list[str]:
    """Distinct synthetic county codes under Henan (41)."""
    return [f"41{1 + i // 89:02d}{11 + i % 89:02d}" for i in range(count)]  # 410111 .. 410199, 410211 ..


def village_of(county: str, index: int) -> str:
    """One of 8 x 6 villages of a county."""
    return f"{county}{100 + index % 8:03d}{200 + index // 8 % 6:03d}"


def payload(record_id: int, county: str, village: str, rng: random.Random) -> dict[str, Any]:
    """An outbox payload shaped as storage.repositories.intake_records writes it (numbers masked)."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    wish = {
        "kind": rng.choice(KINDS),
        "training_type": None,
        "trade": rng.choice(TRADES),
        "has_business_project": None,
        "outside_county_ok": rng.random() < 0.5,
        "contact_time": "evening",
    }
    return {
        "kind": "intent_record",
        "record_id": record_id,
        "version": 1,
        "status": "new",
        "county_code": county,
        "village_code": village,
        "wish": wish,
        "eligibility": None,
        "member": {
            "id": record_id,
            "name": name,
            "relation": "child",
            "sex": "male",
            "age": 16 + record_id % 4,
            "education": "junior_high_graduate",
            "two_after": "current",
            "labour_capacity": "full",
            "situation": "at_home",
            "id_number": f"{county[:4]}**********{record_id % 1000:03d}X",
        },
        "household": {
            "id": record_id,
            "head_name": rng.choice(SURNAMES) + "建国",
            "status": "registered_poor",
            "needs_review": False,
            "household_number": None,
            "phone": f"138****{record_id % 10000:04d}",
            "answered_by": "worker",
        },
        "submitted_at": NOW.isoformat(),
    }


def rows_for(record_id: int, county: str, rng: random.Random) -> dict[str, dict[str, Any]]:
    """The household, member, intent record and outbox rows of one record (ids shared)."""
    village = village_of(county, record_id)
    body = payload(record_id, county, village, rng)
    wish, member = body["wish"], body["member"]
    stamps = {"created_at": NOW, "updated_at": NOW}
    return {
        "household": {
            "id": record_id,
            "village_code": village,
            "head_name": body["household"]["head_name"],
            "status": "registered_poor",
            "answered_by": "worker",
            "submitted_by": "tg:1",
            "needs_review": False,
            "conflicts": "[]",
            **stamps,
        },
        "member": {
            "id": record_id,
            "household_id": record_id,
            "name": member["name"],
            "relation": "child",
            "education": "junior_high_graduate",
            "situation": "at_home",
            **stamps,
        },
        "intent_record": {
            "id": record_id,
            "household_id": record_id,
            "member_id": record_id,
            "county_code": county,
            "village_code": village,
            "kind": wish["kind"],
            "trade": wish["trade"],
            "status": "new",
            "version": 1,
            "open_key": f"{record_id}:{wish['kind']}",
            **stamps,
        },
        "outbox": {
            "id": record_id,
            "kind": "intent_record",
            "record_id": record_id,
            "county_code": county,
            "idempotency_key": f"intent_record:{record_id}:v1",
            "status": "pending",
            "attempts": 0,
            "payload": json.dumps(body, ensure_ascii=False, sort_keys=True),
            "next_attempt_at": NOW.timestamp(),
            "created_at": NOW,
        },
    }


async def seed(database: Any, records: int, counties: list[str]) -> dict[str, list[int]]:
    """Insert the records and the areas; the record ids of each county."""
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    import storage.schema  # noqa: F401 - fills SQLModel.metadata

    rng = random.Random(20261127)
    tables = SQLModel.metadata.tables
    by_county: dict[str, list[int]] = {county: [] for county in counties}
    async with database.session() as session:
        connection = await session.connection()  # Core executemany: the ORM adds nothing here
        await connection.execute(insert(tables["area"]), areas(counties))
        for start in range(1, records + 1, BATCH):
            ids = range(start, min(start + BATCH, records + 1))
            batch = [rows_for(i, counties[(i - 1) % len(counties)], rng) for i in ids]
            for name in ("household", "member", "intent_record", "outbox"):
                await connection.execute(insert(tables[name]), [rows[name] for rows in batch])
            for rows in batch:
                by_county[rows["outbox"]["county_code"]].append(rows["outbox"]["record_id"])
        await session.commit()
    return by_county


def areas(counties: list[str]) -> list[dict[str, Any]]:
    """Names for the counties, their townships and villages, so digests read like real ones."""
    found = []
    for number, county in enumerate(counties):
        found.append(
            {"code": county, "name": f"第{number + 1}县", "parent_code": county[:4] + "00", "level": 3}
        )
        for t, township in enumerate(TOWNSHIPS):
            code = f"{county}{100 + t:03d}"
            found.append({"code": code, "name": township, "parent_code": county, "level": 4})
            found += [{"code": f"{code}{200 + v:03d}", "name": village, "parent_code": code, "level": 5}
                      for v, village in enumerate(VILLAGES)]  # fmt: skip
    return found


async def add_destinations(database: Any, chats: dict[str, int]) -> None:
    """One HR group per county."""
    from storage.repositories.hr_destinations import add_destination

    async with database.session() as session:
        for county, chat in chats.items():
            await add_destination(
                session=session, county_code=county, chat_key=f"tg:{chat}", added_by="cli:bench", now=NOW
            )


def check(fake: Any, chats: dict[str, int], expected: dict[str, list[int]]) -> tuple[int, int]:
    """(lost, duplicated) records, read from what each group shows now."""
    lost = duplicated = 0
    for county, chat in chats.items():
        seen: Counter[str] = Counter()
        for message in fake.messages_to(chat):
            seen.update(REF.findall(message.text or ""))
        lost += sum(1 for record in expected[county] if str(record) not in seen)
        duplicated += sum(n - 1 for n in seen.values() if n > 1)
    return lost, duplicated


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Seed, deliver, check; the figures."""
    from storage import migrate
    from storage.db import Database

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='delivery-bench-')}/bench.sqlite3"
    await migrate.upgrade_async(url)
    database = Database.from_url(url)
    counties = county_codes(args.counties)
    chats = {county: -1001000000000 - number for number, county in enumerate(counties, 1)}
    try:
        expected = await seed(database, args.records, counties)
        await add_destinations(database, chats)
        return await deliver_all(database, chats, expected, args.records)
    finally:
        await database.dispose()


async def deliver_all(
    database: Any, chats: dict[str, int], expected: dict[str, list[int]], records: int
) -> dict:
    """Drain the outbox through the fake Bot API, with Telegram's limits enforced; the figures."""
    from bot.channels.telegram import digests
    from bot.features.delivery.channel import DigestChannels
    from bot.features.delivery.config import DeliveryConfig
    from bot.features.delivery.worker import Worker
    from tests.fakebot import FakeBotAPI, RateLimits

    async with FakeBotAPI(rate_limits=RateLimits(overall=(30, 1.0), per_group=(20, 60.0))) as fake:
        for chat in chats.values():
            fake.add_chat(chat)
        started = time.perf_counter()
        channels = DigestChannels()
        digests.register(channels, fake.make_bot())
        await Worker.build(database, channels, DeliveryConfig()).drain()
        seconds = time.perf_counter() - started
        lost, duplicated = check(fake, chats, expected)
        sends = sum(len(fake.calls(m)) for m in ("sendMessage", "sendDocument", "sendPhoto"))
        edits = len(fake.calls("editMessageText"))
        rate = (sends + edits) / seconds
        print(f"{records:,} records, {len(chats)} counties: {sends:,} messages + {edits:,} edits "
              f"in {seconds:.1f} s ({rate:.1f} calls/s), {fake.http_429} HTTP 429")  # fmt: skip
        return {"records": records, "messages": sends, "seconds": round(seconds, 1),
                "http_429": fake.http_429, "lost": lost, "duplicated": duplicated}  # fmt: skip


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--counties", type=int, default=150)
    parser.add_argument(
        "--database-url", default=None, help="default: a new SQLite file in a temporary directory"
    )
    return parser.parse_args()


def main() -> None:
    """Run the benchmark and print its JSON line."""
    sys.path.insert(0, str(ROOT))  # tests.fakebot is not part of the installed packages
    result = asyncio.run(run(parse_args()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
