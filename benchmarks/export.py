"""Rows per second and peak memory of the HR export writers: write_xlsx, openpyxl (write-only) and write_csv.

Each writer runs in a child process of its own (spawned, so it inherits no memory) that pulls its rows from
a row source and writes a file to a temporary directory; the child reports its time and its peak RSS
(`ru_maxrss`), so one writer's memory cannot hide another's. openpyxl is timed on at most 200,000 rows (its
rate is flat); the others on all of them. Prints the median of the runs per writer; the last line is one
JSON object with the figures.

    .venv/bin/python benchmarks/export.py [--rows 1000000] [--runs 3] [--source synthetic]

A row source is a function `(rows) -> Iterator[tuple]` yielding rows in `export_columns()` order; add one
to `row_source` (for example a database query) and select it with --source.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from itertools import count, cycle, islice
from pathlib import Path

from storage.exports.csv_export import write_csv
from storage.exports.progress import ProgressReporter
from storage.exports.xlsx import Column, write_xlsx

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
    raise SystemExit(f"unknown row source {name!r}")


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


def write_openpyxl(path: Path, rows: Iterator[tuple], progress: Callable[[int], None]) -> int:
    """The same rows through openpyxl's write-only mode, the baseline."""
    from openpyxl import Workbook  # imported in its child only, so that its memory is counted there alone

    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    sheet.append([column.header for column in export_columns()])
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
    started = time.perf_counter()
    written = write_with(writer, path, row_source(source)(rows))
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
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
    rows = min(args.rows, OPENPYXL_MAX_ROWS) if writer == "openpyxl" else args.rows
    context = multiprocessing.get_context("spawn")
    results = []
    for run in range(1, args.runs + 1):
        with context.Pool(1) as pool:
            result = pool.apply(child, (writer, args.source, rows, directory))
        results.append(result)
        print(
            f"{writer}: run {run}: {result['rows']:,} rows, {result['rows_per_s']:,.0f} rows/s, "
            f"peak RSS {result['peak_rss_mb']:,.0f} MB, {result['mb']:,.1f} MB file",
            flush=True,
        )
    return results


def main(args: argparse.Namespace) -> dict:
    """Measure every writer and summarise."""
    print(f"source {args.source}: {source_rate(args.source, args.rows):,.0f} rows/s alone", flush=True)
    with tempfile.TemporaryDirectory(prefix="export-bench-") as directory:
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
        "openpyxl_rows": min(args.rows, OPENPYXL_MAX_ROWS),
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
    parser.add_argument("--source", default="synthetic", help="row source (see row_source)")
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(main(parse_args())))
