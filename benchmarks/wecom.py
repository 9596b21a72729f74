"""Callbacks per second through the WeCom channel, against the same dialog on the Telegram path;
and how fast callbacks are answered while WeCom's send API is slow.

    .venv/bin/python benchmarks/wecom.py [--backend sqlite|postgresql] [--users 1000] [--runs 3]
        [--script "/start,>explain,>tuition,>back,>menu"] [--in-flight 100] [--send-seconds 10]

Throughput: every user goes through the script, round by round (every user's first step, then
every user's second...), `--in-flight` callbacks at once. A WeCom step is a real callback: the
fake WeCom (tests/fakewecom.py) encrypts and signs it and POSTs it to the channel's aiohttp
routes on 127.0.0.1; the channel applies it, answers, and sends the replies through its outbox to
the fake's API (also HTTP). A round ends when every reply has been sent (a press needs the card of
the previous step). The Telegram figure is benchmarks/throughput.py's full stack (updates fed to
the dispatcher, the Bot API answered in process) on the same script and number of users.

Acknowledgement under a slow send API: the fake's message/send takes `--send-seconds` per call;
`--in-flight` new members send /start at once (first contacts: a user row is created), then
/help and /menu at once while the first replies are still being sent; each callback's answer
time is measured (WeCom allows 5 s; the target p99 is 1 s). This is repeated `--runs` times on
fresh state; the medians of p50 and p99 are reported.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import throughput  # noqa: E402 - benchmarks/throughput.py, for the Telegram figure

from tests.fakewecom import FakeWeCom  # noqa: E402
from tests.wecom_harness import latest_with, settle, wecom_bot, wecom_settings  # noqa: E402

SCRIPT = throughput.EXPLAINER_SCRIPT


@contextlib.asynccontextmanager
async def wecom_stack(backend: str, postgres_url: str, send_seconds: float = 0.0) -> AsyncIterator[Any]:
    """The fake WeCom and the channel on a fresh database; yields (fake, channel)."""
    fake_wecom = FakeWeCom(send_delay=send_seconds)
    async with throughput.database(backend, postgres_url) as url, fake_wecom as fake:
        with tempfile.TemporaryDirectory() as data_dir:
            settings = wecom_settings(
                fake, Path(data_dir), url, data_key="benchmark-only-key-0123456789-abcdefghij"
            )
            async with wecom_bot(fake, settings) as channel:
                yield fake, channel


async def step(fake: FakeWeCom, user: str, action: str) -> float:
    """One step of a member's dialog as a callback; seconds until the channel answered."""
    if action.startswith(">"):
        choice = action[1:]
        answer = await fake.member_presses(user, latest_with(fake, user, choice, "template_card"), choice)
    else:
        answer = await fake.member_sends(user, action)
    if answer.status != 200:
        raise SystemExit(f"callback answered {answer.status}")
    return answer.seconds


async def wecom_rounds(
    fake: FakeWeCom, channel: Any, users: list[str], script: list[str], in_flight: int
) -> float:
    """Every user through the script; callbacks per second (the replies sent included)."""
    started = time.perf_counter()
    for action in script:
        jobs = iter(users)

        async def worker(action: str = action, jobs: Any = jobs) -> None:
            for user in jobs:
                await step(fake, user, action)

        await asyncio.gather(*(worker() for _ in range(in_flight)))
        await settle(channel, timeout=600)
    return len(users) * len(script) / (time.perf_counter() - started)


async def wecom_throughput(args: argparse.Namespace, script: list[str]) -> float:
    """Callbacks per second through the WeCom channel."""
    async with wecom_stack(args.backend, args.postgres_url) as (fake, channel):
        await wecom_rounds(fake, channel, [f"warm{i}" for i in range(100)], script, args.in_flight)
        ups = await wecom_rounds(
            fake, channel, [f"user{i}" for i in range(args.users)], script, args.in_flight
        )
        refused = [code for path, code in fake.calls if code]
        if refused or len(fake.card_updates) != (args.users + 100) * sum(s.startswith(">") for s in script):
            raise SystemExit(f"the dialog did not run as scripted: refused {refused[:5]}")
    return ups


async def telegram_throughput(args: argparse.Namespace, script: list[str]) -> float:
    """Updates per second of the same dialog on the Telegram path (benchmarks/throughput.py's full stack)."""
    async with (
        throughput.database(args.backend, args.postgres_url) as url,
        throughput.full_stack(url) as stack,
    ):
        await throughput.run_rounds(stack, range(1, 101), script, args.in_flight)
        return await throughput.run_rounds(stack, range(1000, 1000 + args.users), script, args.in_flight)


async def acknowledgements(args: argparse.Namespace) -> tuple[list[float], list[float]]:
    """Answer times while sends take `send_seconds`: a wave of first contacts, then two of known members."""
    async with wecom_stack(args.backend, args.postgres_url, args.send_seconds) as (fake, _channel):
        for user in ("warm1", "warm2", "warm3"):  # the process's first statements, compiled once
            await step(fake, user, "/start")
        members = [f"slow{i}" for i in range(args.in_flight)]
        first = list(await asyncio.gather(*(step(fake, user, "/start") for user in members)))
        later = list(await asyncio.gather(*(step(fake, user, "/help") for user in members)))
        later += await asyncio.gather(*(step(fake, user, "/menu") for user in members))
        answered, sent = len(first) + len(later), len(fake.sent)
        first_p99, later_p99 = (throughput.percentile(times, 0.99) * 1000 for times in (first, later))
        print(f"  {answered} callbacks answered while {sent} replies had gone out; first contacts "
              f"p99 {first_p99:.0f} ms, known members p99 {later_p99:.0f} ms", flush=True)  # fmt: skip
    return first, later


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Alternate the two paths; report medians, then the acknowledgement latency."""
    script = throughput.parse_script(args.script)
    print(f"backend {args.backend}, {args.users:,} users, script {args.script!r}, "
          f"{args.in_flight} in flight, {args.runs} runs, {os.cpu_count()} CPUs", flush=True)  # fmt: skip
    wecom: list[float] = []
    telegram: list[float] = []
    for run in range(1, 0 if args.ack_only else args.runs + 1):
        wecom.append(await wecom_throughput(args, script))
        telegram.append(await telegram_throughput(args, script))
        print(f"run {run}: WeCom {wecom[-1]:7,.0f} callbacks/s   Telegram {telegram[-1]:7,.0f} updates/s   "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    runs = [await acknowledgements(args) for _ in range(args.runs)]
    waves = [first + later for first, later in runs]
    p50 = statistics.median(throughput.percentile(times, 0.5) for times in waves) * 1000
    p99 = statistics.median(throughput.percentile(times, 0.99) for times in waves) * 1000
    first_p99 = statistics.median(throughput.percentile(first, 0.99) for first, _ in runs) * 1000
    known_p99 = statistics.median(throughput.percentile(later, 0.99) for _, later in runs) * 1000
    worst = max(max(times) for times in waves)
    result: dict[str, Any] = {}
    if not args.ack_only:
        cps, ups = statistics.median(wecom), statistics.median(telegram)
        result = {"wecom_cps": round(cps), "telegram_ups": round(ups), "ratio": round(cps / ups, 2)}
        print(f"median: WeCom {cps:,.0f} callbacks/s, Telegram {ups:,.0f} updates/s (ratio {cps / ups:.2f})")
    result |= {
        "ack_p50_ms": round(p50, 1), "ack_p99_ms": round(p99, 1), "ack_max_ms": round(worst * 1000, 1),
        "first_contact_p99_ms": round(first_p99, 1), "known_member_p99_ms": round(known_p99, 1),
        "send_seconds": args.send_seconds, "in_flight": args.in_flight, "backend": args.backend,
        "users": args.users, "runs": args.runs, "load_average": round(os.getloadavg()[0], 1),
    }  # fmt: skip
    print(
        f"acknowledgement with {args.send_seconds:g} s sends, {args.in_flight} in flight: "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 1000 ms)"
    )
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--users", type=int, default=1000, help="members going through the script")
    parser.add_argument("--script", default=SCRIPT, help="the dialog: texts, and >id for a press")
    parser.add_argument("--runs", type=int, default=3, help="runs (medians are reported)")
    parser.add_argument("--in-flight", type=int, default=100, help="callbacks at once")
    parser.add_argument("--send-seconds", type=float, default=10.0, help="the slow send API's time per call")
    parser.add_argument("--ack-only", action="store_true", help="only the acknowledgement latency")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", throughput.DEFAULT_POSTGRES_URL)
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
