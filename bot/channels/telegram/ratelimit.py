"""Pacing for Telegram's flood limits, so that a 429 is the exception rather than the feedback loop.

Telegram allows about 30 messages per second overall, 20 per minute into one group and about one
per second into one private chat. Each limit is a sliding window here (a log of send times), the
same shape Telegram enforces: a token bucket with a burst would let 30 + 30 through in the first
second. Windows are widened by a margin because the times that count are the server's, and requests
reach it later, and not always in the order they left. Edits count too: Telegram limits them as well.

`acquire(chat_id)` waits until a send to that chat fits every window, then records it; there is no
await between the check and the record, so concurrent tasks of one event loop cannot overbook.
A 429 still pauses the chat for its retry_after (`pause`). The limits are per process: copies of
the worker on several machines would each use the whole budget (run one, or lower the limits).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

SECONDS_MARGIN = 1.05  # windows 5% longer than Telegram's
FIXED_MARGIN = 0.1  # plus 100 ms for arrival-time jitter


@dataclass(frozen=True)
class Limits:
    """(messages, seconds) windows; None disables one."""

    overall: tuple[int, float] | None = (30, 1.0)
    per_group: tuple[int, float] | None = (20, 60.0)
    per_private_chat: tuple[int, float] | None = (1, 1.0)


class Window:
    """At most `limit` events in any `seconds` (widened by the margins)."""

    def __init__(self, limit: int, seconds: float) -> None:
        """An empty window."""
        self.limit = limit
        self.seconds = seconds * SECONDS_MARGIN + FIXED_MARGIN
        self.stamps: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0.0
        return self.stamps[0] + self.seconds - now

    def record(self, now: float) -> None:
        """Count one event at `now`."""
        self.stamps.append(now)


class RateLimiter:
    """The windows of every chat and the overall one; `acquire` before each send or edit."""

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        """Windows are created on first use of a chat."""
        self.limits = limits or Limits()
        self.clock = clock
        self.overall = Window(*self.limits.overall) if self.limits.overall else None
        self.chats: dict[int, Window | None] = {}
        self.paused_until: dict[int, float] = {}

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` fits every limit, and count it."""
        while True:
            now = self.clock()
            windows = [w for w in (self.overall, self._chat_window(chat_id)) if w is not None]
            delay = max([self.paused_until.get(chat_id, 0.0) - now, *(w.wait(now) for w in windows)])
            if delay <= 0:
                for window in windows:
                    window.record(now)
                return
            await asyncio.sleep(delay)

    def pause(self, chat_id: int, seconds: float) -> None:
        """Send nothing to `chat_id` for `seconds` (Telegram said retry_after)."""
        until = self.clock() + seconds
        self.paused_until[chat_id] = max(until, self.paused_until.get(chat_id, 0.0))

    def _chat_window(self, chat_id: int) -> Window | None:
        """The chat's window: a group's (negative id) or a private chat's."""
        if chat_id not in self.chats:
            limit = self.limits.per_private_chat if chat_id > 0 else self.limits.per_group
            self.chats[chat_id] = Window(*limit) if limit else None
        return self.chats[chat_id]
