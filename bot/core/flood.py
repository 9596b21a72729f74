"""Per-user flood control: a token bucket per channel key, in memory, on the hot path.

A user (or a script) sending hundreds of messages must not get hundreds of replies: they would
use up the bot's per-bot sending budget (about 30 messages a second on Telegram) that county HR
digests need too. Each key may send BURST updates at once and RATE a second after that; the
first update over the limit gets one "slow down" reply, the rest are dropped unanswered until
the bucket refills. Dropped updates change nothing, so nothing typed is half-applied.

Memory stays small: idle keys (a full bucket) are forgotten when the table grows past MAX_KEYS.
Several worker processes each keep their own table, which only makes the limit more lenient.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

BURST = 30  # updates at once: a person tapping quickly through many questions is never held back
RATE = 5.0  # updates a second after the burst: faster than anyone types or taps
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

    def __init__(self, burst: int = BURST, rate: float = RATE) -> None:
        self.burst, self.rate = float(burst), rate
        self._buckets: dict[str, _Bucket] = {}

    def admit(self, key: str, now: float) -> Verdict:
        """Take a token for one update of `key` at `now` (seconds, monotonic)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
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
