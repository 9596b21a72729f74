"""Rows per second and peak memory of the HR export writers: write_xlsx, openpyxl (write-only) and write_csv.

Each writer runs in a child process of its own (spawned, so it inherits no memory) that pulls its rows from
a row source and writes a file to a temporary directory; the child reports its time and its peak RSS
(`ru_maxrss`), so one writer's memory cannot hide another's. openpyxl is timed on at most 200,000 rows (its
rate is flat); the others on all of them. Prints the median of the runs per writer; the last line is one
JSON object with the figures.

    .venv/bin/python benchmarks/export.py [--rows 1000000] [--runs 3] [--source synthetic|db] [--db FILE]

A row source is a function `(rows) -> Iterator[tuple]` yielding rows in `export_columns()` order; add one
to `row_source` (for example a database query) and select it with --source.

`--source db` measures the real export path instead of the writers alone: it first seeds `--rows` records
into a temporary SQLite database (bot.features.demo.data through storage.bulk_seed; `--db FILE`
keeps the file and reuses it when it already holds that many), then times `outreach export`'s function
(storage.hr_export:
the query on the stdlib driver, labels and place names from SQL, masks precomputed; a large CSV in one
process per CPU) for xlsx and csv, and openpyxl fed by the same query. Rates include the query.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from itertools import count, cycle, islice
from pathlib import Path
from typing import TYPE_CHECKING

from storage.exports.csv_export import write_csv
from storage.exports.progress import ProgressReporter
from storage.exports.xlsx import Column, write_xlsx

if TYPE_CHECKING:  # the export path is imported by the children that use it, so its memory counts there
    from storage.hr_export import ExportJob

OPENPYXL_MAX_ROWS = 200_000
WRITERS = ("xlsx", "openpyxl", "csv")
SUFFIXES = {"xlsx": ".xlsx", "openpyxl": ".xlsx", "csv": ".csv"}
Source = Callable[[int], Iterator[tuple]]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN_NAMES = ("伟", "芳", "秀英", "敏", "静")
TOWNSHIPS = (
    "城关镇",
    "堌阳镇",
    "南彰镇",
    "考城镇",
    "红庙镇",
    "谷营镇",
    "三义寨乡",
    "东坝头乡",
    "小宋乡",
    "孟寨乡",
    "葡萄架乡",
)
VILLAGE_FIRSTS = "东西南北前后大小新"
VILLAGE_SECONDS = ("王庄", "李寨", "张集", "刘楼", "陈岗", "杨屯", "赵营", "黄湾", "孙庄")
WISHES = ("技工院校", "短期培训", "就业推荐", "创业扶持", "暂无意愿")
TRADES = ("电工", None, "焊工", "养老护理员", "中式烹调师", "汽车维修工", None, "家政服务员")
STATUSES = ("待联系", "已联系", "已报名", "已入学", "已放弃", "待联系")


def export_columns() -> list[Column]:
    """The 16 columns of a household wish list, as the county HR export will have them."""
    return [
        Column("序号", 8, "int"),
        Column("姓名", 10),
        Column("身份证号", 21),
        Column("手机号", 14),
        Column("性别", 6),
        Column("出生日期", 12, "date"),
        Column("县(区)", 10),
        Column("乡镇", 12),
        Column("村", 12),
        Column("家庭人口", 10, "int"),
        Column("意愿类型", 12),
        Column("意向工种", 12),
        Column("状态", 10),
        Column("登记日期", 12, "date"),
        Column("更新时间", 20, "datetime"),
        Column("人均年收入(元)", 16, "float"),
    ]


def row_source(name: str) -> Source:
    """The row source called `name`."""
    if name == "synthetic":
        return synthetic_rows
    if name == "db":
        return db_rows
    raise SystemExit(f"unknown row source {name!r}")


# ---------------------------------------------------------------- --source db: the real export path

DB_ENV = "EXPORT_BENCH_DB"  # the seeded database, for the child processes
DB_COUNTY = "410225"  # 兰考县: its sample villages are shipped with the bot


def db_job(fmt: str, out: Path) -> ExportJob:
    """The export job of the seeded county, as `outreach export --county 410225` builds it."""
    from bot.features.hr.tables import export_job, export_query
    from content.i18n import Translator

    translator = Translator("zh_Hans")
    query = export_query(translator, (DB_COUNTY,))
    return export_job(f"sqlite:///{os.environ[DB_ENV]}", translator, query, out, fmt)


def db_rows(rows: int) -> Iterator[tuple]:
    """`rows` rows of the real export query, as the XLSX writer gets them."""
    from storage.hr_export import export_rows

    return islice(export_rows(db_job("xlsx", Path(os.devnull))), rows)


def write_db(writer: str, path: Path, rows: int) -> int:
    """The real export function for xlsx and csv; openpyxl fed by the same query."""
    from storage.hr_export import export_file

    job = db_job("csv" if writer == "csv" else "xlsx", path)
    with ProgressReporter(f"  {writer}") as reporter:
        if writer == "openpyxl":
            return write_openpyxl(path, db_rows(rows), reporter, [column.header for column in job.columns])
        return export_file(job, progress=reporter)


def seed_db(path: Path, records: int) -> float:
    """Seed `records` records into the SQLite file (unless it holds them already); the seconds it took."""
    import asyncio
    import sqlite3
    from datetime import UTC

    from bot.features.demo.data import households
    from content.demo import load_pools
    from storage import migrate
    from storage.bulk_seed import bulk_seed_sqlite
    from storage.crypto import Cipher
    from storage.repositories.areas import read_csv, shipped_csv_paths

    url = f"sqlite:///{path}"
    asyncio.run(migrate.upgrade_async(url))
    with sqlite3.connect(path) as connection:
        if connection.execute("SELECT count(*) FROM intent_record").fetchone()[0] >= records:
            return 0.0
        areas = [row for csv_path in shipped_csv_paths() for row in read_csv(csv_path)]
        connection.executemany(
            "INSERT OR IGNORE INTO area (code, name, parent_code, level) VALUES (?, ?, ?, ?)",
            [(a["code"], a["name"], a["parent_code"] or None, int(a["level"])) for a in areas],
        )
    villages = [a["code"] for a in areas if a["level"] == "5" and a["code"].startswith(DB_COUNTY)]
    started = time.perf_counter()
    made = households(records, villages, load_pools(), "demo", now=datetime.now(UTC))
    rows = ((h.submission, h.created_at, h.statuses) for h in made)
    cipher = Cipher.from_secret("benchmark-secret-0123456789-abcdefghij")
    bulk_seed_sqlite(
        path=str(path), households=rows, cipher=cipher, actor="cli:benchmark", max_records=records
    )
    return time.perf_counter() - started


def synthetic_rows(rows: int) -> Iterator[tuple]:
    """`rows` plausible rows, built lazily from value pools cycled in C so the source itself costs little."""
    # Pool lengths are mostly distinct primes, so combinations of values do not repeat for millions of rows.
    names = [surname + given for surname in SURNAMES for given in GIVEN_NAMES]
    villages = [first + second + "村" for first in VILLAGE_FIRSTS for second in VILLAGE_SECONDS]
    columns = (
        count(1),
        cycle(names[:97]),
        cycle([f"4102{n % 100:02d}********{n * 7919 % 10000:04d}" for n in range(9973)]),
        cycle([f"1{38 + n % 10}****{n * 37 % 10000:04d}" for n in range(10007)]),
        cycle(["男", "女", "女"]),
        cycle([date(1960, 1, 1) + timedelta(days=n * 13 % 20000) for n in range(7919)]),
        cycle(["兰考县"]),
        cycle(TOWNSHIPS),
        cycle(villages[:79]),
        cycle(range(1, 8)),
        cycle(WISHES),
        cycle(TRADES),
        cycle(STATUSES),
        cycle([date(2024, 3, 1) + timedelta(days=n) for n in range(601)]),
        cycle([datetime(2025, 1, 1, 8) + timedelta(seconds=n * 17) for n in range(8191)]),
        cycle([round(n * 1.37, 2) for n in range(4999)]),
    )
    return islice(zip(*columns, strict=False), rows)


def write_with(writer: str, path: Path, rows: Iterator[tuple]) -> int:
    """Write `rows` to `path` with one of WRITERS; return the rows written."""
    with ProgressReporter(f"  {writer}") as reporter:  # draws only when stderr is a terminal
        if writer == "xlsx":
            return write_xlsx(path, export_columns(), rows, sheet_name="名单", progress=reporter)
        if writer == "csv":
            return write_csv(path, export_columns(), rows, progress=reporter)
        return write_openpyxl(path, rows, reporter)


def write_openpyxl(
    path: Path, rows: Iterator[tuple], progress: Callable[[int], None], headers: list[str] | None = None
) -> int:
    """The same rows through openpyxl's write-only mode, the baseline."""
    from openpyxl import Workbook  # imported in its child only, so that its memory is counted there alone

    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    sheet.append(headers or [column.header for column in export_columns()])
    written = 0
    for written, row in enumerate(rows, 1):
        sheet.append(row)
        if written % 10_000 == 0:
            progress(written)
    book.save(path)
    progress(written)
    return written


def child(writer: str, source: str, rows: int, directory: str) -> dict:
    """Run one writer (in a fresh process) and report its rate, peak memory and file size."""
    path = Path(directory) / f"{writer}{SUFFIXES[writer]}"
    if source == "db":
        import storage.hr_export  # noqa: F401 - imported before the clock starts: the query is timed, not imports
    started = time.perf_counter()
    if source == "db":
        written = write_db(writer, path, rows)
    else:
        written = write_with(writer, path, row_source(source)(rows))
    seconds = time.perf_counter() - started
    # KiB on Linux; a CSV export in parts has its processes' peaks among the children.
    peak_kib = max(
        resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    size = path.stat().st_size
    path.unlink()
    return {
        "rows": written,
        "rows_per_s": written / seconds,
        "peak_rss_mb": peak_kib / 1024,
        "mb": size / 1e6,
    }


def source_rate(source: str, rows: int) -> float:
    """Rows per second of the source alone, for reading the writers' figures."""
    started = time.perf_counter()
    for _ in row_source(source)(rows):
        pass
    return rows / (time.perf_counter() - started)


def measure(writer: str, args: argparse.Namespace, directory: str) -> list[dict]:
    """Run `writer` args.runs times, each in its own spawned process."""
    rows = min(args.rows, args.openpyxl_rows) if writer == "openpyxl" else args.rows
    context = multiprocessing.get_context("spawn")
    results = []
    for run in range(1, args.runs + 1):
        # Not a multiprocessing.Pool: its workers are daemons, which may not start the CSV export's parts.
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            result = pool.submit(child, writer, args.source, rows, directory).result()
        results.append(result)
        print(
            f"{writer}: run {run}: {result['rows']:,} rows, {result['rows_per_s']:,.0f} rows/s, "
            f"peak RSS {result['peak_rss_mb']:,.0f} MB, {result['mb']:,.1f} MB file",
            flush=True,
        )
    return results


def main(args: argparse.Namespace) -> dict:
    """Measure every writer and summarise."""
    with tempfile.TemporaryDirectory(prefix="export-bench-") as directory:
        if args.source == "db":
            os.environ[DB_ENV] = str(Path(args.db or Path(directory) / "records.sqlite3").resolve())
            # In a child: a parent grown by seeding would lend its RSS to every child it forks (ru_maxrss
            # survives the exec of a spawned process on Linux), inflating their peaks.
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                seconds = pool.submit(seed_db, Path(os.environ[DB_ENV]), args.rows).result()
            print(f"seeded {args.rows:,} records in {seconds:,.1f} s into {os.environ[DB_ENV]}", flush=True)
        print(f"source {args.source}: {source_rate(args.source, args.rows):,.0f} rows/s alone", flush=True)
        results = {writer: measure(writer, args, directory) for writer in WRITERS}
    rates = {writer: statistics.median(r["rows_per_s"] for r in runs) for writer, runs in results.items()}
    peaks = {writer: max(r["peak_rss_mb"] for r in runs) for writer, runs in results.items()}
    for writer in WRITERS:
        print(f"{writer}: median {rates[writer]:,.0f} rows/s, peak RSS {peaks[writer]:,.0f} MB", flush=True)
    return {
        "xlsx_rows_per_s": round(rates["xlsx"]),
        "openpyxl_rows_per_s": round(rates["openpyxl"]),
        "xlsx_ratio": round(rates["xlsx"] / rates["openpyxl"], 2),
        "csv_rows_per_s": round(rates["csv"]),
        "peak_rss_mb": round(peaks["xlsx"], 1),  # the XLSX writer's, the figure with a target
        "rows": args.rows,
        "csv_peak_rss_mb": round(peaks["csv"], 1),
        "openpyxl_peak_rss_mb": round(peaks["openpyxl"], 1),
        "openpyxl_rows": min(args.rows, args.openpyxl_rows),
        "runs": args.runs,
        "source": args.source,
    }


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows per run (openpyxl: at most 200,000)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per writer (the median is reported)")
    parser.add_argument("--source", default="synthetic", help="row source: synthetic or db (see row_source)")
    parser.add_argument("--db", help="with --source db: the SQLite file to seed (kept) or reuse")
    parser.add_argument(
        "--openpyxl-rows", type=int, default=OPENPYXL_MAX_ROWS, help="rows openpyxl writes (its rate is flat)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(main(parse_args())))
