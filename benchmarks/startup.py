"""Start-up times: `outreach eligibility` on a small profile, and the bot until its first getUpdates.

Both run the installed console script in a subprocess, as a user would. The bot runs with
BOT_TOKEN and TELEGRAM_API_URL pointing at the fake Bot API server (tests/fakebot.py) on
127.0.0.1, on SQLite in a temporary directory: the clock runs from just before the process is
started to the moment the fake server sees the bot's first getUpdates. The first bot start
migrates a new database (reported apart as the cold start); the median is over the next runs.

    .venv/bin/python benchmarks/startup.py [--runs 5]

The last line is one JSON object: eligibility_s, bot_start_s (and bot_start_cold_s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTREACH = Path(sys.executable).with_name("outreach")
PROFILE = {
    "household": {"registered_poor": True},
    "plan": {"kind": "technical_school", "school_type": "technical_school", "full_time": True,
             "formal_enrollment": True},
}  # fmt: skip
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


def clean_env(**settings: str) -> dict[str, str]:
    """The environment without any bot setting of the caller's, plus `settings`."""
    names = ("BOT_TOKEN", "TELEGRAM_API_URL", "DATABASE_URL", "DATA_DIR", "WEBHOOK_URL", "WEBHOOK_SECRET")
    env = {key: value for key, value in os.environ.items() if key not in names}
    return {**env, "LOG_LEVEL": "WARNING", **settings}


def eligibility_once(profile: Path, cwd: Path) -> float:
    """Seconds for one `outreach eligibility PROFILE` (checked to succeed)."""
    started = time.perf_counter()
    command = [str(OUTREACH), "eligibility", str(profile), "--as-of", "2017-09-01"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=clean_env(), timeout=60)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "benefits" not in json.loads(done.stdout):
        raise SystemExit(f"outreach eligibility failed: {done.stderr[-1000:]}")
    return elapsed


async def bot_start_once(data_dir: Path) -> float:
    """Seconds from starting `outreach run` to its first getUpdates; then stop it."""
    from tests.fakebot import FakeBotAPI

    async with FakeBotAPI() as fake:  # a fresh one: no long poll left over from the last run
        return await _time_start(fake, data_dir)


async def _time_start(fake: Any, data_dir: Path) -> float:
    """Start the bot against `fake` and wait for its first getUpdates."""
    async with started_bot(fake, data_dir) as (elapsed, _):
        return elapsed


@asynccontextmanager
async def started_bot(
    fake: Any, data_dir: Path, **settings: str
) -> AsyncIterator[tuple[float, subprocess.Popen]]:
    """`outreach run` against `fake`, once it polls: (seconds it took, the process); stopped on exit."""
    env = clean_env(BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.base_url, DATA_DIR=str(data_dir), **settings)
    started = time.perf_counter()
    process = subprocess.Popen([str(OUTREACH), "run"], cwd=data_dir, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        polling = lambda: fake.polls_waiting > 0 or process.poll() is not None  # noqa: E731
        await fake.wait_for(polling, timeout=START_TIMEOUT_S, what="the first getUpdates")
        elapsed = time.perf_counter() - started
        if process.poll() is not None:
            raise SystemExit(f"outreach run exited early: {process.stderr.read().decode()[-1000:]}")  # type: ignore[union-attr]
        yield elapsed, process
    finally:
        await stop(process)


async def stop(process: subprocess.Popen) -> None:
    """SIGINT (what Ctrl-C sends), then wait; kill if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def bot_starts(runs: int) -> tuple[float, list[float]]:
    """The cold start (new database) and `runs` warm starts, against one fake server."""
    sys.path.insert(0, str(ROOT))  # tests.fakebot lives in the repository, not in the package
    with tempfile.TemporaryDirectory() as directory:
        cold = await bot_start_once(Path(directory))
        print(f"bot start, new database: {cold:.2f} s", flush=True)
        warm = []
        for run in range(1, runs + 1):
            warm.append(await bot_start_once(Path(directory)))
            print(f"bot start {run}: {warm[-1]:.2f} s", flush=True)
    return cold, warm


def main(args: argparse.Namespace) -> dict[str, Any]:
    """Time both, print medians."""
    with tempfile.TemporaryDirectory() as directory:
        profile = Path(directory) / "profile.json"
        profile.write_text(json.dumps(PROFILE))
        times = []
        for run in range(1, args.runs + 1):
            times.append(eligibility_once(profile, Path(directory)))
            print(f"outreach eligibility {run}: {times[-1]:.3f} s", flush=True)
    eligibility = statistics.median(times)
    cold, warm = asyncio.run(bot_starts(args.runs))
    bot_start = statistics.median(warm)
    print(f"median: outreach eligibility {eligibility:.3f} s (target < 0.5 s), bot start {bot_start:.2f} s "
          f"(first start on a new database {cold:.2f} s)", flush=True)  # fmt: skip
    return {"eligibility_s": round(eligibility, 3), "bot_start_s": round(bot_start, 2),
            "bot_start_cold_s": round(cold, 2), "runs": args.runs}  # fmt: skip


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each (the median is reported)")
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(main(parse_args())))
