"""Peak resident memory of the bot process with 10,000 and with 100,000 dialogs open.

Each size runs in a fresh process: the whole bot (bot.channels.telegram.app.build_dispatcher on its
services, a
new SQLite database or PostgreSQL schema) is fed, as in benchmarks/throughput.py, every user's
first steps ("/start" and "explain" by default), which leaves each user's dialog open mid-flow
and its state stored. The users' side keeps only the users in flight (100), so what grows is
the bot's. Peak RSS is the kernel's high-water mark (ru_maxrss).

    .venv/bin/python benchmarks/memory.py [--backend sqlite|postgresql] [--sizes 10000,100000]
        [--script "/start,>explain"]

The last line is one JSON object: rss_mb_10k, rss_mb_100k (and start-up RSS for reference).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from throughput import DEFAULT_POSTGRES_URL, FIRST_USER_ID, database, full_stack, parse_script

CONCURRENCY = 100
CHILD_TIMEOUT_S = 3600


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """This process's resident set now, in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def open_dialogs(args: argparse.Namespace) -> dict[str, Any]:
    """Start the bot, open `args.child` dialogs, report memory (runs in the child process)."""
    script = parse_script(args.script)
    async with database(args.backend, args.postgres_url) as url, full_stack(url) as stack:
        gc.collect()
        gc.freeze()  # as bot.channels.telegram.app does once started
        started_mb = current_rss_mb()
        users: Iterator[int] = iter(range(FIRST_USER_ID, FIRST_USER_ID + args.child))
        clock = time.perf_counter()

        async def user_side() -> None:
            for user_id in users:  # shared: each user is taken by one task
                for step in script:
                    await stack.step(user_id, step)
                stack.session.forget(user_id)  # the users' side keeps nothing once a user is done

        await asyncio.gather(*(user_side() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - clock
        failed = stack.session.failures + stack.session.notices
        gc.collect()
        return {"dialogs": args.child, "rss_start_mb": round(started_mb, 1), "seconds": round(elapsed, 1),
                "rss_end_mb": round(current_rss_mb(), 1), "rss_peak_mb": round(peak_rss_mb(), 1),
                "failed": failed}  # fmt: skip


def measure(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run one size in a fresh process and read its JSON line."""
    command = [sys.executable, __file__, "--child", str(size), "--backend", args.backend,
               "--script", args.script, "--postgres-url", args.postgres_url]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {size:,}-dialog run failed:\n{done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{size:>7,} dialogs open: peak RSS {figures['rss_peak_mb']:6.1f} MB (after start-up "
          f"{figures['rss_start_mb']:.1f} MB, at the end {figures['rss_end_mb']:.1f} MB), "
          f"{figures['seconds']:.0f} s, {figures['failed']} failed updates", flush=True)  # fmt: skip
    return figures


def main(args: argparse.Namespace) -> dict[str, Any]:
    """Every size in its own process."""
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"backend {args.backend}, script {args.script!r}, {CONCURRENCY} updates in flight", flush=True)
    results = {size: measure(size, args) for size in sizes}
    named = {size: f"{size // 1000}k" if size % 1000 == 0 else str(size) for size in sizes}
    summary: dict[str, Any] = {f"rss_mb_{named[s]}": r["rss_peak_mb"] for s, r in results.items()}
    summary.update({f"rss_start_mb_{named[s]}": r["rss_start_mb"] for s, r in results.items()})
    summary.update(backend=args.backend, failed=sum(r["failed"] for r in results.values()))
    return summary


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", default="10000,100000", help="numbers of open dialogs, comma-separated")
    parser.add_argument("--script", default="/start,>explain", help="the steps that open a dialog")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    options = parse_args()
    if options.child:
        print(json.dumps(asyncio.run(open_dialogs(options))))
    else:
        print(json.dumps(main(options)))
