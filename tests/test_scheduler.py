"""The background schedule: runs after each interval, survives a failing run, stops on request."""

from __future__ import annotations

import asyncio

from bot.core.scheduler import every


async def test_every_runs_after_each_interval_and_survives_failures():
    runs: list[int] = []
    stop = asyncio.Event()

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("a bad run")
        if len(runs) == 3:
            stop.set()

    await asyncio.wait_for(every(0.01, job, stop, "test"), 5)
    assert runs == [0, 1, 2]


async def test_nothing_runs_when_stopped_before_the_first_interval():
    stop = asyncio.Event()
    stop.set()

    async def job() -> None:
        raise AssertionError("must not run")

    await asyncio.wait_for(every(3600, job, stop, "test"), 1)
