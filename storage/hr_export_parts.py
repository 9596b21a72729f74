"""A large CSV export from SQLite in parts: one process per range of record ids, then the parts joined.

Each part is queried and written by its own process (storage.repositories.export_rows.sqlite_batches
and storage.exports.csv_export.write_csv, as in one process); every part starts with the same BOM
and header, which the join drops from all but the first. Progress is the sum of the parts' counts,
kept in shared memory that each worker writes its own slot of.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from itertools import chain
from pathlib import Path
from typing import Any

from storage.exports.csv_export import write_csv
from storage.exports.xlsx import Column, Progress
from storage.repositories.export_rows import ExportQuery, sqlite_batches

POLL_SECONDS = 0.2
_counts: Any = None  # a worker process's view of the shared progress counters


def split_ids(low: int, stop: int, parts: int) -> list[tuple[int, int]]:
    """[low, stop) cut into `parts` consecutive ranges of about equal width."""
    step = max(1, -(-(stop - low) // parts))
    return [(start, min(start + step, stop)) for start in range(low, stop, step)]


def write_in_parts(
    path: str,
    query: ExportQuery,
    columns: list[Column],
    out: Path,
    ranges: list[tuple[int, int]],
    progress: Progress | None,
) -> int:
    """Each range written to a part file by its own process, then the parts joined into `out`."""
    context = _context()
    counts = context.Array("q", len(ranges), lock=False)
    parts = [out.with_name(f".{out.name}.{index}.part") for index in range(len(ranges))]
    try:
        with ProcessPoolExecutor(
            len(ranges), mp_context=context, initializer=_share_counts, initargs=(counts,)
        ) as pool:
            futures = [
                pool.submit(_write_part, path, query, columns, str(part), index, id_range)
                for index, (part, id_range) in enumerate(zip(parts, ranges, strict=True))
            ]
            written = _await_parts(futures, counts, progress)
        _join_parts(parts, _csv_head(columns), out)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    return written


def _context() -> Any:
    """Fork when nothing else runs in this process (fast), spawn otherwise (safe with threads)."""
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and threading.active_count() == 1 else "spawn"
    return multiprocessing.get_context(method)


def _share_counts(counts: Any) -> None:
    """Keep the shared counters in the worker process."""
    global _counts  # set once per worker process, by the pool's initializer
    _counts = counts


def _write_part(
    path: str, query: ExportQuery, columns: list[Column], part: str, index: int, id_range: tuple[int, int]
) -> int:
    """Query and write one range of record ids (in a worker process)."""

    def report(rows: int) -> None:
        """Publish this part's progress."""
        if _counts is not None:
            _counts[index] = rows

    rows = chain.from_iterable(sqlite_batches(path, query, id_range=id_range))
    return write_csv(part, columns, rows, progress=report)


def _await_parts(futures: list[Future[int]], counts: Any, progress: Progress | None) -> int:
    """Wait for every part, reporting the sum of their progress; the rows written."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
        for future in done:
            future.result()  # raises a worker's error here
        if progress is not None:
            progress(sum(counts))
    written = sum(future.result() for future in futures)
    if progress is not None:
        progress(written)
    return written


def _csv_head(columns: Sequence[Column]) -> bytes:
    """The BOM and header line every part starts with."""
    buffer = io.BytesIO()
    write_csv(buffer, columns, [])
    return buffer.getvalue()


def _join_parts(parts: list[Path], head: bytes, out: Path) -> None:
    """Append the parts after the first (without their head) to it, then move it to `out`."""
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)  # a part swapped for a symlink
    with os.fdopen(os.open(parts[0], flags), "ab") as joined:
        for part in parts[1:]:
            with part.open("rb") as source:
                if source.read(len(head)) != head:
                    raise RuntimeError(f"{part.name}: not a part of this export")
                while chunk := source.read(1 << 20):
                    joined.write(chunk)
    os.replace(parts[0], out)
