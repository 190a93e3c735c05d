"""One execution for many identical polls.

Fifty dashboards polling the same query see the same write at the same moment; without this,
each executes it again, all at once, on the same database. Requests with the same `polling.Key`
(document, variables, audience, data version, media) wait for the one in flight and take its
answer. An answer that every administrator of an organization shares (`Key.audience` is
`org:<id>`) is also kept, until its data version moves on or the moment it was good until
passes, and served to the next wave of polls without executing anything.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from strawberry.types import ExecutionResult

from graph.polling import Key


@dataclass(frozen=True, slots=True)
class Answer:
    result: ExecutionResult
    until: datetime | None  # good until then; None: until the data changes

    def good_at(self, moment: datetime) -> bool:
        return self.until is None or moment < self.until


class SharedAnswers:
    """Executions in flight by key, and the latest organization-wide answers (most recently
    used kept, `capacity` of them: one or two per organization's dashboard query)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.in_flight: dict[str, asyncio.Future[Answer]] = {}
        self.kept: OrderedDict[str, Answer] = OrderedDict()

    async def answer(
        self, key: Key, moment: datetime, execute: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        """The answer for `key` at `moment`: kept, joined in flight, or executed here."""
        name = key.digest
        kept = self.kept.get(name)
        if kept is not None and kept.good_at(moment):
            self.kept.move_to_end(name)
            return kept
        leader = self.in_flight.get(name)
        if leader is not None:
            try:
                joined = await asyncio.shield(leader)
            except asyncio.CancelledError:
                if not leader.cancelled():
                    raise  # this request was cancelled, not the one it waited for
            else:
                if joined.good_at(moment):
                    return joined
        return await self._lead(name, key, execute)

    async def _lead(self, name: str, key: Key, execute: Callable[[], Awaitable[Answer]]) -> Answer:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.in_flight[name] = future  # the latest to start is the one worth joining
        try:
            answer = await execute()
        except asyncio.CancelledError:
            future.cancel()  # those waiting execute for themselves
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: a failure nobody joined is not logged twice
            raise
        else:
            future.set_result(answer)
        finally:
            if self.in_flight.get(name) is future:
                del self.in_flight[name]
        if key.audience.startswith("org:") and not answer.result.errors:
            self.kept[name] = answer
            self.kept.move_to_end(name)
            while len(self.kept) > self.capacity:
                self.kept.popitem(last=False)
        return answer
