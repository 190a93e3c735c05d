"""Load shedding: a bounded number of requests at work, a bounded queue, and a fast 503 past it.

When the database is saturated, every extra request in flight only makes all of them slower
until they time out together, each after seconds of work. Instead a process works on at most
`concurrent` requests at a time (from reading the caller to the answer); up to `waiting` more
wait their turn, for at most `patience` seconds; any other is refused at once, before any work,
with 503 `SERVICE_UNAVAILABLE` and `Retry-After`, which a polling client answers by keeping its
last answer on screen and asking again later. A slot freed is handed straight to the longest
waiting request, so the queue's length is always exactly who is waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

RETRY_AFTER_SECONDS = 1


class Overloaded(Exception):
    """No slot now, and no room (or time) to wait for one."""


class Admission:
    def __init__(self, *, concurrent: int, waiting: int, patience: float) -> None:
        self.free = concurrent
        self.waiting_limit = waiting
        self.patience = patience
        self.queue: deque[asyncio.Future[None]] = deque()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.free > 0 and not self.queue:
            self.free -= 1
        else:
            await self._wait()
        try:
            yield
        finally:
            self._release()

    async def _wait(self) -> None:
        if len(self.queue) >= self.waiting_limit:
            raise Overloaded
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.append(turn)
        try:
            async with asyncio.timeout(self.patience):
                await turn
        except BaseException as error:
            if turn.done() and not turn.cancelled():
                self._release()  # handed a slot just as it gave up: pass it on
            else:
                turn.cancel()
                with contextlib.suppress(ValueError):
                    self.queue.remove(turn)
            if isinstance(error, TimeoutError):
                raise Overloaded from error
            raise

    def _release(self) -> None:
        while self.queue:
            turn = self.queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1
