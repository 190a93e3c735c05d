"""Periods (calendar amounts) and durations (exact time left) as clients see them."""

from __future__ import annotations

from typing import NewType, Self

import strawberry

from graph.enums import PeriodUnit
from resolvers import periods
from resolvers.errors import Code, invalid

Long = NewType("Long", int)
LONG = strawberry.scalar(
    name="Long",
    serialize=int,
    parse_value=int,
    description="A whole number that may not fit in 32 bits, exact up to 2^53 - 1 (as a "
    "JSON number, safe in JavaScript): seconds across centuries.",
)


@strawberry.type(description="A calendar period: 1 MONTH after Jan 31 is Feb 28 (or 29).")
class Period:
    amount: int
    unit: PeriodUnit
    iso8601: str = strawberry.field(description="ISO-8601 duration, e.g. P90D or P2Y.")

    @classmethod
    def of(cls, period: periods.Period | None) -> Self | None:
        if period is None:
            return None
        return cls(amount=period.amount, unit=period.unit, iso8601=period.iso8601)


@strawberry.input
class PeriodInput:
    amount: int
    unit: PeriodUnit

    def to_period(self, field: str) -> periods.Period:
        try:
            return periods.Period(self.amount, self.unit)
        except ValueError as error:
            raise invalid(Code.OUT_OF_RANGE, f"{field}: {error}", f"{field}.amount") from error


@strawberry.type(description="Exact time left; never negative.")
class Duration:
    seconds: Long = strawberry.field(
        description="Whole seconds, rounded up: 0 only once the moment has passed."
    )
    iso8601: str
    humanized: str = strawberry.field(
        description='The two largest units, e.g. "89 days, 23 hours".'
    )

    @classmethod
    def of(cls, duration: periods.Duration | None) -> Self | None:
        if duration is None:
            return None
        return cls(
            seconds=Long(duration.seconds), iso8601=duration.iso8601, humanized=duration.humanized
        )
