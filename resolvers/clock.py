"""The one source of "now": injectable, so tests and `asOf` arguments can move time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2201, 1, 1, tzinfo=UTC)  # exclusive: the last moment of 2200 is the latest
RANGE = "between 1900-01-01 and 2200-12-31"


def as_utc(moment: datetime, *, field: str, up: bool = False) -> datetime:
    """A client's DateTime in UTC, to the millisecond the database keeps: truncated, or rounded
    `up` for a bound that must not take in the millisecond it falls within. One without an
    offset is refused, and so is one outside the years credgraph computes with (1900 to
    2200): dates past it have no meaning for training, and the arithmetic after them could
    overflow."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise invalid(
            Code.INVALID_DATE, f"{field} needs a UTC offset, e.g. 2026-03-01T00:00:00Z", field
        )
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        moment = LATEST if moment.year > 2000 else EARLIEST - timedelta(days=1)
    if not EARLIEST <= moment < LATEST:
        raise invalid(Code.INVALID_DATE, f"{field} must be {RANGE}", field)
    within = moment.microsecond % 1000
    if up and within:
        return moment + timedelta(microseconds=1000 - within)
    return moment - timedelta(microseconds=within)


def within_range(day: date, *, field: str) -> date:
    """A client's Date, refused outside 1900 to 2200 (see `as_utc`)."""
    if not EARLIEST.date() <= day < LATEST.date():
        raise invalid(Code.INVALID_DATE, f"{field} must be {RANGE}", field)
    return day
