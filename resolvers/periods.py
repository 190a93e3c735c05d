"""Calendar periods and exact durations: the arithmetic behind due dates, validity and `expiresIn`.

Periods are calendar amounts (1 month after Jan 31 is Feb 28 or 29), never fixed day counts;
durations are exact seconds between two instants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dateutil.relativedelta import relativedelta


class PeriodUnit(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


# A period is at most a hundred years: longer ones mean nothing for training, and with dates
# kept between 1900 and 2200 they keep every date credgraph computes far from overflowing.
MAX_AMOUNT = {
    PeriodUnit.DAY: 36_525,
    PeriodUnit.WEEK: 5_218,
    PeriodUnit.MONTH: 1_200,
    PeriodUnit.YEAR: 100,
}

ISO_DESIGNATOR = {
    PeriodUnit.DAY: "D",
    PeriodUnit.WEEK: "W",
    PeriodUnit.MONTH: "M",
    PeriodUnit.YEAR: "Y",
}


@dataclass(frozen=True, slots=True)
class Period:
    amount: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        most = MAX_AMOUNT[self.unit]
        if not 1 <= self.amount <= most:
            raise ValueError(
                f"a period of {self.unit.value}s is between 1 and {most} (a hundred years)"
            )

    @property
    def iso8601(self) -> str:
        return f"P{self.amount}{ISO_DESIGNATOR[self.unit]}"

    def _delta(self) -> relativedelta:
        match self.unit:
            case PeriodUnit.DAY:
                return relativedelta(days=self.amount)
            case PeriodUnit.WEEK:
                return relativedelta(weeks=self.amount)
            case PeriodUnit.MONTH:
                return relativedelta(months=self.amount)
            case PeriodUnit.YEAR:
                return relativedelta(years=self.amount)

    def after(self, moment: datetime) -> datetime:
        return moment + self._delta()

    def before(self, moment: datetime) -> datetime:
        return moment - self._delta()

    def steady_until(self, moment: datetime) -> datetime | None:
        """The first moment after `moment` at which the end of this period, counted from then,
        can fall back. Months and years end on the last day of a shorter month (31 January and,
        later that day, 28 January both end on 28 February), so entering a 29th, 30th or 31st
        at midnight the end can drop by up to three days; until then it only moves forward.
        None for days and weeks, whose end only ever moves forward."""
        if self.unit not in (PeriodUnit.MONTH, PeriodUnit.YEAR):
            return None
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        midnight += timedelta(days=1)
        while midnight.day < 29:
            midnight += timedelta(days=1)
        return midnight

    def reaching(self, target: datetime, *, after: datetime) -> datetime:
        """The first moment after `after` whose period ends at or after `target` — searched
        for, since months and years clamp — or, should that come later, the moment the end may
        fall back (`steady_until`), when the question must be asked again."""
        low = after  # ends before target
        high = self.before(target) + timedelta(days=4)  # ends after it
        if (steady := self.steady_until(after)) is not None:
            high = min(high, steady)  # monotone up to there; never reached before it: `steady`
        while high - low > timedelta(microseconds=1):
            middle = low + (high - low) / 2
            if self.after(middle) >= target:
                high = middle
            else:
                low = middle
        return high

    def to_doc(self) -> dict[str, object]:
        return {"amount": self.amount, "unit": self.unit.value}

    @classmethod
    def from_doc(cls, doc: dict[str, object] | None) -> Period | None:
        if doc is None:
            return None
        return cls(amount=int(str(doc["amount"])), unit=PeriodUnit(str(doc["unit"])))


UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


@dataclass(frozen=True, slots=True)
class Duration:
    """Exact time left, never negative."""

    seconds: int

    @classmethod
    def between(cls, start: datetime, end: datetime) -> Duration:
        """Whole seconds, rounded up: 0 only once `end` has come, never while time is left."""
        left = end - start
        return cls(max(0, math.ceil(left / timedelta(seconds=1))))

    def parts(self) -> list[tuple[str, int]]:
        rest, parts = self.seconds, []
        for name, size in UNITS:
            count, rest = divmod(rest, size)
            parts.append((name, count))
        return parts

    @property
    def iso8601(self) -> str:
        days, hours, minutes, seconds = (count for _, count in self.parts())
        time = "".join(f"{n}{d}" for n, d in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
        date = f"{days}D" if days else ""
        if not date and not time:
            return "PT0S"
        return f"P{date}" + (f"T{time}" if time else "")

    @property
    def humanized(self) -> str:
        """The two largest non-zero units ("89 days, 23 hours"); "0 seconds" when none."""
        named = [(name, n) for name, n in self.parts() if n][:2]
        if not named:
            return "0 seconds"
        return ", ".join(f"{n} {name}{'' if n == 1 else 's'}" for name, n in named)
