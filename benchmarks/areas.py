"""The real area list's cost: bot start-up and RSS with all 55,164 areas against a one-county list,
`outreach areas list --parent CODE` on a database already set up, and a county's posters.

Every figure comes from the installed `outreach` script in a subprocess, on SQLite in a temporary
directory. The bot runs against the fake Bot API server (tests/fakebot.py, 127.0.0.1): start-up is
the time from starting the process to its first getUpdates, RSS the process's resident memory at
that moment (/proc/PID/status). The one-county list is tests/data/areas_lankao.csv (498 areas, the
size of the invented sample list the bot shipped before), chosen with AREAS_FILES. The first start
on a new database seeds the list and is reported apart; the medians are over the next runs.

    .venv/bin/python benchmarks/areas.py [--runs 5] [--county 410225]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks.startup and tests.fakebot live in the repository

from benchmarks.startup import OUTREACH, clean_env, started_bot  # noqa: E402

LISTS = {"full": "", "one_county": str(ROOT / "tests" / "data" / "areas_lankao.csv")}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/PID/stat), steadier than the wall clock."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def start_once(data_dir: Path, areas_files: str) -> tuple[float, float, float]:
    """(seconds to the first getUpdates, CPU seconds and RSS MB then) of one `outreach run`; then stop it."""
    from tests.fakebot import FakeBotAPI

    async with (
        FakeBotAPI() as fake,
        started_bot(fake, data_dir, AREAS_FILES=areas_files) as (elapsed, process),
    ):
        return elapsed, cpu_seconds(process.pid), rss_mb(process.pid)


async def starts(data_dir: Path, areas_files: str, runs: int, label: str) -> dict[str, float]:
    """The first start (seeding) and the medians of `runs` more."""
    cold, cold_cpu, cold_rss = await start_once(data_dir, areas_files)
    print(f"{label}: first start {cold:.2f} s, CPU {cold_cpu:.2f} s, RSS {cold_rss:.0f} MB", flush=True)
    figures = []
    for run in range(1, runs + 1):
        figures.append(await start_once(data_dir, areas_files))
        elapsed, cpu, memory = figures[-1]
        print(f"{label}: start {run}: {elapsed:.2f} s, CPU {cpu:.2f} s, RSS {memory:.0f} MB", flush=True)
    wall, cpu, rss = (statistics.median(column) for column in zip(*figures, strict=True))
    return {"first_s": round(cold, 2), "first_cpu_s": round(cold_cpu, 2), "start_s": round(wall, 2),
            "start_cpu_s": round(cpu, 2), "rss_mb": round(rss, 1)}  # fmt: skip


def command_seconds(args: list[str], data_dir: Path) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one `outreach ...` (checked to succeed).

    CPU time is user + system time of the child: on a shared machine it moves far less than the
    wall clock, which also counts the time spent waiting for a core.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([str(OUTREACH), *args], cwd=data_dir, capture_output=True, text=True,
                          env=clean_env(DATA_DIR=str(data_dir), BOT_USERNAME="village_outreach_bot"),
                          timeout=600)  # fmt: skip
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"outreach {' '.join(args)} failed: {done.stderr[-1000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def index_figures(db_url: str, runs: int) -> tuple[float, float]:
    """(median seconds to read the area table and build the picker's index, the index's size in MB).

    In process, as the bot does at start-up (bot/core/services.py).
    """
    from dialogs.areas import AreaIndex
    from storage.db import Database
    from storage.repositories.areas import index_rows

    async def load() -> AreaIndex:
        database = Database.from_url(db_url)
        try:
            async with database.session() as session:
                return AreaIndex.build(await index_rows(session=session))
        finally:
            await database.dispose()

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        asyncio.run(load())
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    index = asyncio.run(load())
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(index) > 0
    return statistics.median(times), size / 1e6


def main(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure; medians printed, then returned."""
    result: dict[str, Any] = {"runs": args.runs}
    for label, files in LISTS.items():
        with tempfile.TemporaryDirectory() as directory:
            figures = asyncio.run(starts(Path(directory), files, args.runs, label))
            seconds, size = index_figures(f"sqlite:///{directory}/outreach.sqlite3", args.runs)
        print(f"{label}: reading the table and building the index {seconds:.3f} s, index {size:.1f} MB")
        result.update({f"{label}_{key}": value for key, value in figures.items()})
        result.update({f"{label}_index_s": round(seconds, 3), f"{label}_index_mb": round(size, 1)})
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        command_seconds(["areas", "list"], data_dir)  # sets the database up: migrations, the full list
        listed = ["areas", "list", "--parent", args.county]
        wall, cpu = zip(*(command_seconds(listed, data_dir) for _ in range(args.runs)), strict=True)
        wall_s, cpu_s = statistics.median(wall), statistics.median(cpu)
        print(f"{' '.join(listed)}: median {wall_s:.3f} s, CPU {cpu_s:.3f} s (target < 0.5 s)")
        out = str(data_dir / "posters.pdf")
        printed = ["poster", "--county", args.county, "--out", out]
        poster_wall, poster_cpu = zip(*(command_seconds(printed, data_dir) for _ in range(3)), strict=True)
        pages = Path(out).read_bytes().count(b"/Type /Page\n") or "?"
        print(f"poster --county {args.county}: median {statistics.median(poster_wall):.1f} s, "
              f"CPU {statistics.median(poster_cpu):.1f} s, {pages} pages, "
              f"{Path(out).stat().st_size / 1e6:.1f} MB (target < 60 s)")  # fmt: skip
    result["areas_list_s"] = round(statistics.median(wall), 3)
    result["areas_list_cpu_s"] = round(statistics.median(cpu), 3)
    result["poster_county_s"] = round(statistics.median(poster_wall), 1)
    result["poster_county_cpu_s"] = round(statistics.median(poster_cpu), 1)
    result["poster_pages"] = pages
    result["load_average"] = round(os.getloadavg()[0], 1)
    return result


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each (the median is reported)")
    parser.add_argument("--county", default="410225", help="the county listed and printed (兰考县)")
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(main(parse_args())))
