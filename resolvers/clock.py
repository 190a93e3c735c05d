"""The one source of "now": injectable, so tests and `asOf` arguments can move time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from resolvers.errors import Code, invalid


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock UTC, truncated to milliseconds: what MongoDB stores, so reads match writes."""

    def now(self) -> datetime:
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class FrozenClock:
    """A clock that only moves when told to."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def as_utc(moment: datetime, *, field: str) -> datetime:
    """A client's DateTime in UTC, truncated to milliseconds; one without an offset is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise invalid(
            Code.INVALID_DATE, f"{field} needs a UTC offset, e.g. 2026-03-01T00:00:00Z", field
        )
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
