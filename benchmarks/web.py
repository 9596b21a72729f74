"""The web channel: web chat turns per second against the Telegram path, and the console's wishes page.

    .venv/bin/python benchmarks/web.py [--users 1000] [--concurrency 100] [--runs 3] [--records 100000]
        [--requests 200] [--script "/start,>explain,>tuition,>back,>menu"]

Chat: every user goes through the same dialog as benchmarks/throughput.py, round by round with
`--concurrency` users in flight, as a browser without JavaScript does it: each step is a POST to
/c/ (a pressed button carries the token read from the page), then the GET of the page it redirects
to; the first step is the first visit (GET /c/, which starts the dialog and sets the cookie). The
server is the real web channel (bot.channels.web.app on aiohttp) on 127.0.0.1, the client aiohttp in
the same process. The Telegram figure is throughput.py's whole bot (`full_stack`, Updates fed to the
dispatcher, Telegram replaced in process) on the same dialog, users and concurrency.

Wishes page: `--records` records in one county (benchmarks/export.py's seeding), an HR officer of
that county signed in, then `--requests` GETs of /console/wishes: first pages, each filter, and
pages deep in the list by the keyset cursor. p50/p95 in ms (target: p95 under 300 ms).
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import export as export_bench
import throughput

from bot.channels.web.app import add_routes
from bot.cli.run import PathOnlyAccessLogger
from bot.core.services import open_services
from bot.core.settings import load_settings

SECRET = "benchmark-secret-0123456789-abcdefghij"  # benchmarks/export.py's DATA_KEY
TOKEN = re.compile(r'name="token" value="(\d*)"')
COUNTY = export_bench.DB_COUNTY


# ---------------------------------------------------------------- a server


async def serve(settings: Any) -> tuple[str, Any, web.AppRunner]:
    """The web channel on a free port: its URL, services and runner."""
    services = await open_services(settings)
    app = web.Application()
    add_routes(app, services, settings)
    runner = web.AppRunner(app, access_log=None, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return f"http://127.0.0.1:{port}", services, runner


# ---------------------------------------------------------------- the chat


class WebUser:
    """One browser without JavaScript: a cookie jar and the last page's token."""

    def __init__(self, base: str, connector: aiohttp.BaseConnector) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector, connector_owner=False,
            headers={"Origin": base},
        )  # fmt: skip
        self.token = ""

    async def step(self, step: str) -> None:
        """One step of the script, with the page load that follows it."""
        if step == "/start" and not self.http.cookie_jar:
            response = await self.http.get(self.base + "/c/")
        elif step.startswith(">"):
            response = await self.http.post(self.base + "/c/", data={"choice": step[1:], "token": self.token})
        else:
            response = await self.http.post(self.base + "/c/", data={"text": step})
        page = await response.text()
        if response.status != 200:
            raise SystemExit(f"web chat answered {response.status} to {step!r}")
        found = TOKEN.search(page)
        self.token = found.group(1) if found else ""

    async def close(self) -> None:
        """Close its client session."""
        await self.http.close()


async def chat_rounds(base: str, users: int, script: list[str], concurrency: int) -> float:
    """Every user through the script, round by round; turns per second."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    people = [WebUser(base, connector) for _ in range(users)]
    try:
        started = time.perf_counter()
        for step in script:
            jobs = iter(people)

            async def worker(step: str = step, jobs: Any = jobs) -> None:
                for person in jobs:
                    await person.step(step)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return users * len(script) / (time.perf_counter() - started)
    finally:
        for person in people:
            await person.close()
        await connector.close()


async def web_chat_tps(args: argparse.Namespace) -> float:
    """Turns per second of the web chat on a fresh SQLite database."""
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(data_dir=Path(folder), data_key=SECRET, bot_token=None, database_url=None)
        base, services, runner = await serve(settings)
        try:
            script = throughput.parse_script(args.script)
            await chat_rounds(base, min(200, args.users), script, args.concurrency)  # warm-up
            return await chat_rounds(base, args.users, script, args.concurrency)
        finally:
            await runner.cleanup()
            await services.close()


async def telegram_ups(args: argparse.Namespace, run: int) -> float:
    """Updates per second of the whole Telegram bot on the same dialog (benchmarks/throughput.py)."""
    targs = argparse.Namespace(users=args.users, concurrency=args.concurrency, script=args.script)
    async with throughput.database("sqlite", "") as url, throughput.full_stack(url) as stack:
        script = throughput.parse_script(args.script)
        base = throughput.FIRST_USER_ID + run * 10 * (args.users + throughput.WARMUP_USERS)
        await throughput.run_rounds(
            stack, range(base, base + throughput.WARMUP_USERS), script, args.concurrency
        )
        base += throughput.WARMUP_USERS
        return await throughput.run_rounds(stack, range(base, base + targs.users), script, targs.concurrency)


# ---------------------------------------------------------------- the wishes page


def wishes_queries(pages: list[int]) -> list[str]:
    """The query strings of the measured requests: plain, each filter, deep pages."""
    filters = [
        "", "status=contacted", "kind=technical_school", "two_after=1", "since=2026-06-01",
        f"township={COUNTY}101", "status=new&kind=vocational_training", "two_after=1&status=enrolled",
    ]  # fmt: skip
    return filters + [f"before={cursor}" for cursor in pages]


async def wishes_p95(args: argparse.Namespace) -> dict[str, float]:
    """Latencies of the wishes page with `--records` records in the county."""
    from bot.features.sign_in import sign_in_link
    from storage.repositories.access import grant

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "outreach.sqlite3"
        seconds = await asyncio.to_thread(export_bench.seed_db, path, args.records)  # it runs its own loop
        print(f"seeded {args.records:,} records in {seconds:,.1f} s", flush=True)
        settings = load_settings(data_dir=Path(folder), data_key=SECRET, bot_token=None, database_url=None)
        base, services, runner = await serve(settings)
        try:
            async with services.database.session() as session:
                await grant(session=session, channel_key="tg:1", role="hr", scopes=[("county", COUNTY)])
                link = await sign_in_link(
                    session=session, user_key="tg:1", settings=settings, now=datetime.now(UTC)
                )
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar, headers={"Origin": base}) as http:
                await http.post(base + "/console/sign-in", data={"t": str(link).rpartition("t=")[2]})
                top = args.records
                cursors = [max(1, top - top * i // 50) for i in range(1, 50)]
                queries = wishes_queries(cursors)
                times = []
                for number in range(args.requests):
                    query = queries[number % len(queries)]
                    started = time.perf_counter()
                    response = await http.get(f"{base}/console/wishes?{query}")
                    body = await response.text()
                    times.append((time.perf_counter() - started) * 1000)
                    if response.status != 200 or ("<table" not in body and "no_wishes" in body):
                        raise SystemExit(f"wishes page answered {response.status} for {query!r}")
            return {"p50_ms": throughput.percentile(times, 0.5), "p95_ms": throughput.percentile(times, 0.95),
                    "max_ms": max(times)}  # fmt: skip
        finally:
            await runner.cleanup()
            await services.close()


# ---------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Alternate web and Telegram runs; then the wishes page."""
    print(f"{args.users:,} users, script {args.script!r}, {args.concurrency} in flight, {args.runs} runs, "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    webs, telegrams = [], []
    for run in range(1, args.runs + 1):
        webs.append(await web_chat_tps(args))
        telegrams.append(await telegram_ups(args, run))
        print(f"run {run}: web chat {webs[-1]:,.0f} turns/s, Telegram path {telegrams[-1]:,.0f} updates/s   "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    web_tps, telegram_tps = statistics.median(webs), statistics.median(telegrams)
    wishes = await wishes_p95(args)
    print(f"median: web chat {web_tps:,.0f} turns/s, Telegram {telegram_tps:,.0f} updates/s "
          f"(ratio {web_tps / telegram_tps:.2f}); wishes page with {args.records:,} records: "
          f"p50 {wishes['p50_ms']:.1f} ms, p95 {wishes['p95_ms']:.1f} ms", flush=True)  # fmt: skip
    return {
        "web_tps": round(web_tps), "telegram_ups": round(telegram_tps),
        "ratio": round(web_tps / telegram_tps, 2),
        "wishes_p50_ms": round(wishes["p50_ms"], 1), "wishes_p95_ms": round(wishes["p95_ms"], 1),
        "wishes_max_ms": round(wishes["max_ms"], 1), "records": args.records, "users": args.users,
        "runs": args.runs,
    }  # fmt: skip


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="web chat users going through the dialog")
    parser.add_argument("--concurrency", type=int, default=100, help="users in flight")
    parser.add_argument("--runs", type=int, default=3, help="runs (medians are reported)")
    parser.add_argument(
        "--script", default=throughput.EXPLAINER_SCRIPT, help="the dialog: texts, >id a press"
    )
    parser.add_argument("--records", type=int, default=100_000, help="records in the county")
    parser.add_argument("--requests", type=int, default=200, help="wishes page requests measured")
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
