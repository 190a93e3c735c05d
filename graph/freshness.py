"""How long an answer stays true: the earliest moment any part of it may change without a write.

An answer that reads the clock is true only until some date it depends on passes. Every read
of the request's moment claims a lifetime: reading `Context.now` claims the current second (an
`expiresIn` changes every second); a resolver that knows better — the status of a cycle
changes only when one of its dates passes — opens a `Moment` with `Context.when` and settles it
with the next such date. A moment never settled keeps its one-second claim, so forgetting to
settle errs on the side of freshness. The answer's ETag carries the earliest claim
(`graph.polling`), and an unchanged poll is answered 304 until then.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SECOND = timedelta(seconds=1)
_tokens = itertools.count()


def next_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) + SECOND


@dataclass(frozen=True, slots=True)
class Moment:
    """The moment an answer is computed at: the client's `asOf`, or now (`live`)."""

    at: datetime
    live: bool
    token: int = field(default_factory=lambda: next(_tokens))


class Freshness:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.claims: dict[int, datetime | None] = {}

    def claim_second(self) -> None:
        self.claims[-1] = next_second(self.now)

    def open(self) -> Moment:
        moment = Moment(self.now, live=True)
        self.claims[moment.token] = next_second(self.now)
        return moment

    def settle(self, moment: Moment, until: datetime | None) -> None:
        """The part of the answer computed at `moment` stays true until `until` (None: for
        as long as the data does)."""
        if moment.live:
            self.claims[moment.token] = until

    @property
    def until(self) -> datetime | None:
        """When the answer may next change by itself; None if only a write can change it."""
        return min((c for c in self.claims.values() if c is not None), default=None)
