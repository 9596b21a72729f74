"""A one-line terminal progress reporter for long exports: rows done and rows per second, on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_CLEAR_TO_END = "\x1b[K"  # a shorter line must not leave the end of the previous one


class ProgressReporter:
    """A `progress` callback for the writers: call it with the rows done so far, then `finish()`."""

    def __init__(
        self,
        label: str = "rows",
        *,
        total: int | None = None,
        stream: TextIO | None = None,
        force: bool = False,
        interval: float = 0.5,
    ) -> None:
        """Report on `stream` (stderr) if it is a terminal or `force` is set, at most every `interval` s."""
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr  # looked up now, not at import
        self.enabled = force or self.stream.isatty()
        self.interval = interval
        self.started = time.perf_counter()
        self.last_shown = float("-inf")
        self.rows = 0

    def __call__(self, rows: int) -> None:
        """Record the rows done; redraw the line when the interval has passed."""
        self.rows = rows
        now = time.perf_counter()
        if self.enabled and now - self.last_shown >= self.interval:
            self.last_shown = now
            self.stream.write("\r" + self.line(now) + _CLEAR_TO_END)
            self.stream.flush()

    def finish(self) -> None:
        """Draw the final figures and end the line."""
        if self.enabled:
            self.stream.write("\r" + self.line(time.perf_counter()) + _CLEAR_TO_END + "\n")
            self.stream.flush()

    def line(self, now: float) -> str:
        """The text shown: label, rows (of the total), rows per second."""
        rate = self.rows / max(now - self.started, 1e-9)
        done = f"{self.rows:,}" if self.total is None else f"{self.rows:,}/{self.total:,}"
        return f"{self.label}: {done} rows, {rate:,.0f} rows/s"

    def __enter__(self) -> ProgressReporter:
        """Use as a context manager that ends the line on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """End the line."""
        self.finish()
