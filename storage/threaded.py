"""Batches of an async iterator consumed by synchronous code: an event loop in a thread, a bounded queue.

The CLI's writers are synchronous, the database drivers beyond SQLite are async (asyncpg). A thread
runs the async query and hands each batch over through a queue of QUEUE_BATCHES, so memory stays
flat whatever the number of rows, and the consumer may stop early (the thread then ends).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
QUEUE_BATCHES = 4  # batches in flight between the thread and the consumer
POLL_SECONDS = 0.2  # how often a blocked side looks whether the other has gone
_END = object()


def batches_in_thread(make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """The items of the async iterator `make()` returns, produced in a thread of its own."""
    channel: queue.Queue[Any] = queue.Queue(QUEUE_BATCHES)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce, args=(make, channel, stop), name="batches-in-thread", daemon=True
    )
    thread.start()
    try:
        while (item := channel.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _produce(
    make: Callable[[], AsyncIterator[Any]], channel: queue.Queue[Any], stop: threading.Event
) -> None:
    """Run the async iterator to its end (or until stopped), handing each item over."""

    async def run() -> None:
        async for item in make():
            if not _hand_over(channel, stop, item):
                return

    try:
        asyncio.run(run())
    except BaseException as error:  # handed to the consumer, which raises it
        _hand_over(channel, stop, error)
    _hand_over(channel, stop, _END)


def _hand_over(channel: queue.Queue[Any], stop: threading.Event, item: Any) -> bool:
    """Put one item; False when the consumer has gone."""
    while not stop.is_set():
        try:
            channel.put(item, timeout=POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False
