"""The same dialog load through 1 and through 2 webhook worker processes on PostgreSQL.

Everything runs on 127.0.0.1. This process plays Telegram: it posts the users' updates to the
webhook of `serve_webhook_workers(settings, N)` (started as `outreach run --webhook --workers N`
would start it, in its own process tree) and answers the bot's Bot API calls with a canned
server that reuses benchmarks/throughput.py's answers. Like Telegram, it sends a user's next
update only once the previous one was answered, and keeps at most `--connections` requests in
flight. Each run gets a fresh PostgreSQL schema.

Checks: every user's replies must be the same sequence as the first user's (fewer replies:
lost; the same ones in another order, or a refused button: reordered), every webhook answer 200,
and every user's stored row must carry the id of the last update sent for them.

    .venv/bin/python benchmarks/scale_out.py [--users 2000] [--connections 100] [--timeout 300]

The last line is one JSON object: one_worker_ups, two_workers_ups, lost, reordered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from throughput import (
    DEFAULT_POSTGRES_URL,
    EXPLAINER_SCRIPT,
    FIRST_USER_ID,
    TOKEN,
    FakeTelegramSession,
    Users,
    database,
    parse_script,
)

SECRET = "scale-out-benchmark-secret"
WEBHOOK_PATH = "/telegram/webhook"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
WARMUP_USERS = 200
WORKERS_MAIN = """
import logging, sys
from bot.core.settings import load_settings
from bot.channels.telegram.workers import serve_webhook_workers
logging.basicConfig(level="WARNING")
sys.exit(serve_webhook_workers(load_settings(), int(sys.argv[1])))
"""


# ---------------------------------------------------------------- Telegram's side


@dataclass
class CannedBotAPI:
    """A Bot API server answering from FakeTelegramSession's tables; records what each chat got."""

    session: FakeTelegramSession = field(default_factory=FakeTelegramSession)
    replies: defaultdict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    webhook_set: asyncio.Event = field(default_factory=asyncio.Event)
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def close(self) -> None:
        """Stop listening."""
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        """One Bot API call: answer it as Telegram would and remember the replies per chat."""
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        fields = {**request.query, **{k: v for k, v in (await request.post()).items() if isinstance(v, str)}}
        result = self.session.answer(method, fields)
        if method == "sendMessage":
            self.replies[int(fields["chat_id"])].append(fields["text"])
        elif method == "setWebhook":
            self.webhook_set.set()
        body = json.dumps({"ok": True, "result": result}, ensure_ascii=False)
        return web.Response(text=body, content_type="application/json")


# ---------------------------------------------------------------- the workers


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_s(pid: int) -> tuple[float, float]:
    """CPU seconds used so far by a process and its children, and by all postgres processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    ours = postgres = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            name, _, rest = stat.read_text().partition(" (")[2].rpartition(")")
            fields = rest.split()
            seconds = (int(fields[11]) + int(fields[12])) / ticks
            ours += seconds if int(stat.parent.name) == pid or int(fields[1]) == pid else 0.0
            postgres += seconds if name == "postgres" else 0.0
    return ours, postgres


@contextlib.asynccontextmanager
async def webhook_workers(
    workers: int, api: CannedBotAPI, database_url: str
) -> AsyncIterator[tuple[int, int]]:
    """`serve_webhook_workers(settings, workers)` in its own process; yields (port, pid), then SIGTERM."""
    port = free_port()
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": f"http://127.0.0.1:{api.port}",
           "DATABASE_URL": database_url, "WEBHOOK_URL": "https://bench.example.org", "WEBHOOK_SECRET": SECRET,
           "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port), "WEBHOOK_PATH": WEBHOOK_PATH}  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        env["DATA_DIR"] = directory
        process = subprocess.Popen([sys.executable, "-c", WORKERS_MAIN, str(workers)], env=env, cwd=directory)
        try:
            await wait_started(process, api)
            yield port, process.pid
        finally:
            await stop(process)


async def wait_started(process: subprocess.Popen, api: CannedBotAPI) -> None:
    """Wait until the workers registered the webhook (they do once all of them serve)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not api.webhook_set.is_set():
        if process.poll() is not None:
            raise SystemExit(f"the webhook workers exited with {process.returncode} during start-up")
        if time.monotonic() > deadline:
            raise SystemExit(f"the webhook workers did not start in {START_TIMEOUT_S:.0f} s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(api.webhook_set.wait(), 0.5)


async def stop(process: subprocess.Popen) -> None:
    """SIGTERM the workers' parent and wait; kill if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.returncode not in (0, -signal.SIGTERM):
        print(f"warning: the webhook workers exited with {process.returncode}", flush=True)


# ---------------------------------------------------------------- the load


@dataclass
class Load:
    """The users' side: dialogs posted to the webhook, one update of a user at a time."""

    url: str
    users: Users
    script: list[str]
    last_update: dict[int, int] = field(default_factory=dict)
    refused: int = 0  # webhook answers other than 200

    async def run(self, http: aiohttp.ClientSession, user_ids: range, connections: int) -> float:
        """Every user goes through the script; returns updates per second."""
        pending: Iterator[int] = iter(user_ids)

        async def connection() -> None:
            for user_id in pending:  # shared: each user is taken by one connection
                await self.dialog(http, user_id)

        started = time.perf_counter()
        await asyncio.gather(*(connection() for _ in range(connections)))
        return len(user_ids) * len(self.script) / (time.perf_counter() - started)

    async def dialog(self, http: aiohttp.ClientSession, user_id: int) -> None:
        """One user's script, each update posted once the previous one was answered."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for step in self.script:
            update = self.users.update(user_id, step)
            async with http.post(self.url, json=update, headers=headers) as response:
                await response.read()
                self.refused += response.status != 200
            self.last_update[user_id] = update["update_id"]


@dataclass
class Verdict:
    """What went wrong, user by user."""

    lost: int
    reordered: int


async def verify(api: CannedBotAPI, load: Load, user_ids: range, database_url: str) -> Verdict:
    """Compare every user's replies with the first user's, and their stored rows with what was sent."""
    reference, stored = api.replies[user_ids[0]], await stored_update_ids(database_url)
    lost = reordered = 0
    for user_id in user_ids:
        got = api.replies[user_id]
        lost += len(got) < len(reference) or stored.get(f"tg:{user_id}") != load.last_update[user_id]
        reordered += len(got) >= len(reference) and got != reference
    return Verdict(lost + load.refused, reordered + api.session.notices)


async def stored_update_ids(database_url: str) -> dict[str, int]:
    """The last applied update id of every conversation, read straight from the database."""
    from storage.urls import asyncpg_dsn

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch("SELECT key, last_update_id FROM conversation")
    finally:
        await connection.close()
    return {row["key"]: row["last_update_id"] for row in rows}


async def one_setup(workers: int, args: argparse.Namespace) -> tuple[float, Verdict]:
    """Fresh schema, fresh workers: warm up, then time the load."""
    api = CannedBotAPI()
    await api.start()
    try:
        async with (
            database("postgresql", args.postgres_url) as url,
            webhook_workers(workers, api, url) as (port, pid),
        ):
            webhook = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            load = Load(webhook, Users(api.session), parse_script(args.script))
            connector = aiohttp.TCPConnector(limit=args.connections)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(60)) as http:
                base = FIRST_USER_ID + workers * 10 * (args.users + WARMUP_USERS)
                await load.run(http, range(base, base + WARMUP_USERS), args.connections)
                measured = range(base + WARMUP_USERS, base + WARMUP_USERS + args.users)
                before, clock = (time.process_time(), *cpu_s(pid)), time.perf_counter()
                ups = await asyncio.wait_for(load.run(http, measured, args.connections), args.timeout)
                after, wall = (time.process_time(), *cpu_s(pid)), time.perf_counter() - clock
                shares = [(end - start) / wall for start, end in zip(before, after, strict=True)]
            verdict = await verify(api, load, range(base, measured.stop), url)
    finally:
        await api.close()
    print(f"{workers} worker{'s' if workers > 1 else ' '}: {ups:8,.0f} updates/s   lost {verdict.lost}   "
          f"reordered {verdict.reordered}   CPU cores busy: load+API {shares[0]:.2f}, "
          f"workers {shares[1]:.2f}, postgres {shares[2]:.2f}   load average {os.getloadavg()[0]:.1f}",
          flush=True)  # fmt: skip
    return ups, verdict


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """One worker, then two, on the same load."""
    print(f"{args.users:,} users, script {args.script!r}, {args.connections} connections, {os.cpu_count()} "
          "CPUs (shared by this process, the workers and PostgreSQL)", flush=True)  # fmt: skip
    one, one_verdict = await one_setup(1, args)
    two, two_verdict = await one_setup(2, args)
    print(f"two workers / one worker: {two / one:.2f}", flush=True)
    return {"one_worker_ups": round(one), "two_workers_ups": round(two), "speedup": round(two / one, 2),
            "lost": one_verdict.lost + two_verdict.lost,
            "reordered": one_verdict.reordered + two_verdict.reordered, "users": args.users}  # fmt: skip


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000, help="users per run (each sends the whole script)")
    parser.add_argument("--script", default=EXPLAINER_SCRIPT, help="the dialog: texts, and >id for a press")
    parser.add_argument("--connections", type=int, default=100, help="webhook requests in flight at most")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed for each timed run")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
