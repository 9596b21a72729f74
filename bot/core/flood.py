"""Per-user flood control: a token bucket per channel key, in memory, on the hot path.

A user (or a script) sending hundreds of messages must not get hundreds of replies: they would
use up the bot's per-bot sending budget (about 30 messages a second on Telegram) that county HR
digests need too. Two limits, either of which holds an update back:
- at most MAX_WAITING updates of one key waiting for their turn (a flood arrives as a batch;
  a person, or a client that waits for each answer, never has more than one waiting);
- a token bucket: BURST updates at once, RATE a second after that (a webhook delivers a chat's
  updates one at a time, so only the rate can tell a flood there).
The first update over a limit gets one "slow down" reply, the rest are dropped unanswered.
Dropped updates change nothing, so nothing typed is half-applied.

Memory stays small: idle keys (a full bucket) are forgotten when the table grows past MAX_KEYS.
Several worker processes each keep their own table, which only makes the limit more lenient.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

BURST = 60  # updates at once: a person tapping quickly through a whole intake is never held back
RATE = 10.0  # updates a second after the burst: faster than anyone types or taps
MAX_WAITING = 8  # updates of one key queued behind the one being applied
MAX_KEYS = 10_000


class Verdict(Enum):
    """What to do with one update."""

    PASS = "pass"
    WARN = "warn"  # over the limit: answer once that the user should slow down
    DROP = "drop"  # still over the limit: say nothing


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class FloodGate:
    """Token buckets by key."""

    def __init__(self, burst: int = BURST, rate: float = RATE, max_waiting: int = MAX_WAITING) -> None:
        self.burst, self.rate, self.max_waiting = float(burst), rate, max_waiting
        self._buckets: dict[str, _Bucket] = {}
        self._waiting: dict[str, int] = {}

    @contextmanager
    def waiting(self, key: str) -> Iterator[None]:
        """Count an update of `key` as waiting for its turn (or being applied) while inside."""
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            yield
        finally:
            left = self._waiting[key] - 1
            if left:
                self._waiting[key] = left
            else:
                del self._waiting[key]

    def admit(self, key: str, now: float) -> Verdict:
        """Take a token for one update of `key` at `now` (seconds, monotonic)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1 and self._waiting.get(key, 0) <= self.max_waiting:
            bucket.tokens -= 1
            bucket.warned = False
            return Verdict.PASS
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def _forget_idle(self, now: float) -> None:
        """Drop keys whose bucket has refilled, once the table is large."""
        if len(self._buckets) < MAX_KEYS:
            return
        full = [key for key, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
