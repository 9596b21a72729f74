"""Dialog-state saves per second through each conversation store.

Each run starts on a freshly migrated database and makes N load+save round trips (one
`store.open(key)` with `slot.save(...)` each) from C concurrent tasks, spread over N/10 keys so
that both first inserts and updates are measured. Prints the median of the runs per backend;
the last line is one JSON object with the figures.

    .venv/bin/python benchmarks/state_store.py [--n 20000] [--concurrency 100] [--runs 3]

PostgreSQL is the server named by TEST_POSTGRES_URL (default postgres@127.0.0.1:5432/test);
each run uses its own schema, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from itertools import count
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage import migrate
from storage.conversations import open_conversations
from storage.urls import asyncpg_dsn, default_sqlite_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def dialog_state(serial: int) -> str:
    """A JSON dialog state of about 400 bytes, like the engine writes mid-flow."""
    state = {
        "v": 1,
        "language": "zh_Hans",
        "flow": "training_subsidy",
        "step": "ask_preferred_trade",
        "stack": [["intro", "welcome"], ["eligibility", "ask_age"]],
        "answers": {
            "age_band": "35-45",
            "county": "兰考县",
            "hukou": "rural",
            "trades": ["electrician", "elder_care"],
            "phone_consent": True,
        },
        "history": ["welcome", "ask_age", "ask_county", "ask_hukou", "show_policy"],
        "pending_clause": "四（一）",
        "seq": serial,
        "updated": 1_764_000_000 + serial,
    }
    return json.dumps(state, ensure_ascii=False)


@asynccontextmanager
async def sqlite_database() -> AsyncIterator[str]:
    """A migrated SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory() as directory:
        url = default_sqlite_url(Path(directory))
        await migrate.upgrade_async(url)
        yield url


@asynccontextmanager
async def postgres_database(server_url: str) -> AsyncIterator[str]:
    """A migrated schema of its own on the PostgreSQL server, dropped on exit."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        parts = urlsplit(server_url)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, f"search_path={schema}", ""))
        await migrate.upgrade_async(url)
        yield url
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


async def timed_run(url: str, n: int, concurrency: int) -> float:
    """Saves per second for one run on `url`."""
    keys = max(1, n // 10)
    states = [dialog_state(i) for i in range(64)]
    jobs: Iterator[int] = iter(range(n))
    serial = count()

    async def worker() -> None:
        for job in jobs:  # a shared iterator: each job is taken by exactly one worker
            async with store.open(f"tg:{job % keys}") as slot:
                slot.save(states[next(serial) % len(states)], update_id=job)

    async with open_conversations(url) as store:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - started)


async def measure(backend: str, args: argparse.Namespace) -> float:
    """The median saves per second of `args.runs` runs, each on a fresh database."""
    figures = []
    for run in range(1, args.runs + 1):
        database = sqlite_database() if backend == "sqlite" else postgres_database(args.postgres_url)
        async with database as url:
            figures.append(await timed_run(url, args.n, args.concurrency))
        print(f"{backend}: run {run}: {figures[-1]:,.0f} saves/s", flush=True)
    median = statistics.median(figures)
    print(f"{backend}: median {median:,.0f} saves/s", flush=True)
    return median


async def postgres_reachable(url: str) -> bool:
    """True when the PostgreSQL server answers."""
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def main(args: argparse.Namespace) -> dict:
    """Measure every reachable backend."""
    saves_per_s: dict[str, float | None] = {"sqlite": round(await measure("sqlite", args))}
    if await postgres_reachable(args.postgres_url):
        saves_per_s["postgresql"] = round(await measure("postgresql", args))
    else:
        print(f"postgresql: skipped, {args.postgres_url} is unreachable", flush=True)
        saves_per_s["postgresql"] = None
    return {"n": args.n, "concurrency": args.concurrency, "runs": args.runs, "saves_per_s": saves_per_s}


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="saves per run")
    parser.add_argument("--concurrency", type=int, default=100, help="concurrent tasks")
    parser.add_argument("--runs", type=int, default=3, help="runs per backend (the median is reported)")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
