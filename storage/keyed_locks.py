"""One asyncio.Lock per key, kept only while someone holds or waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    """Serialize work per key within one event loop, in arrival order (asyncio.Lock is FIFO)."""

    def __init__(self) -> None:
        """Start with no locks."""
        # key -> [lock, number of tasks holding or waiting]; a count, not lock.locked(), because a
        # waiter that was just woken does not hold the lock yet.
        self._entries: dict[str, list] = {}

    def __len__(self) -> int:
        """How many keys have a lock now (0 when idle: locks do not pile up per user)."""
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock of `key` for the duration of the block."""
        entry = self._entries.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._entries[key]
