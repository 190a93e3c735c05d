"""Load shedding: a bounded number of requests at work, a bounded queue, and a fast 503 past it.

When the database is saturated, every extra request in flight only makes all of them slower
until they time out together, each after seconds of work. Instead a process works on at most
`concurrent` requests at a time (from reading the caller to the answer); up to `waiting` more
wait their turn, for at most `patience` seconds; any other is refused at once, before any work,
with 503 `SERVICE_UNAVAILABLE` and `Retry-After`, which a polling client answers by keeping its
last answer on screen and asking again later. A slot freed goes to the longest waiting
request (asyncio's semaphore is first come, first served).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

RETRY_AFTER_SECONDS = 1


class Overloaded(Exception):
    """No slot now, and no room (or time) to wait for one."""


class Admission:
    def __init__(self, *, concurrent: int, waiting: int, patience: float) -> None:
        self.slots = asyncio.Semaphore(concurrent)  # first come, first served
        self.waiting_limit = waiting
        self.patience = patience
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.slots.locked() and self.waiting >= self.waiting_limit:
            raise Overloaded
        self.waiting += 1
        try:
            async with asyncio.timeout(self.patience):
                await self.slots.acquire()
        except TimeoutError as error:
            raise Overloaded from error
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self.slots.release()
