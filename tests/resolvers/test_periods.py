from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.periods import Duration, Period, PeriodUnit


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (at(2026, 1, 31), Period(1, PeriodUnit.MONTH), at(2026, 2, 28)),
        (at(2028, 1, 31), Period(1, PeriodUnit.MONTH), at(2028, 2, 29)),
        (at(2028, 2, 29), Period(1, PeriodUnit.YEAR), at(2029, 2, 28)),
        (at(2028, 2, 29), Period(4, PeriodUnit.YEAR), at(2032, 2, 29)),
        (at(2026, 3, 2, 9, 30), Period(90, PeriodUnit.DAY), at(2026, 5, 31, 9, 30)),
        (at(2026, 12, 25), Period(2, PeriodUnit.WEEK), at(2027, 1, 8)),
        (at(2026, 8, 31, 23, 59, 59), Period(6, PeriodUnit.MONTH), at(2027, 2, 28, 23, 59, 59)),
    ],
)
def test_periods_are_calendar_arithmetic(start, period, expected):
    assert period.after(start) == expected


def test_before_undoes_after_where_the_calendar_allows():
    assert Period(2, PeriodUnit.YEAR).before(at(2028, 3, 1)) == at(2026, 3, 1)
    assert Period(1, PeriodUnit.MONTH).before(at(2026, 3, 31)) == at(2026, 2, 28)


@pytest.mark.parametrize(
    ("period", "iso"),
    [
        (Period(90, PeriodUnit.DAY), "P90D"),
        (Period(2, PeriodUnit.YEAR), "P2Y"),
        (Period(6, PeriodUnit.MONTH), "P6M"),
        (Period(3, PeriodUnit.WEEK), "P3W"),
    ],
)
def test_period_iso8601(period, iso):
    assert period.iso8601 == iso


@pytest.mark.parametrize(
    ("amount", "unit"),
    [
        (0, PeriodUnit.DAY),
        (-1, PeriodUnit.WEEK),
        (36_526, PeriodUnit.DAY),
        (5_219, PeriodUnit.WEEK),
        (1_201, PeriodUnit.MONTH),
        (101, PeriodUnit.YEAR),
    ],
)
def test_a_period_is_at_most_a_hundred_years(amount, unit):
    with pytest.raises(ValueError, match="between 1 and"):
        Period(amount, unit)


def test_period_round_trips_through_its_document():
    period = Period(18, PeriodUnit.MONTH)
    assert Period.from_doc(period.to_doc()) == period
    assert Period.from_doc(None) is None


@pytest.mark.parametrize(
    ("seconds", "iso", "human"),
    [
        (0, "PT0S", "0 seconds"),
        (1, "PT1S", "1 second"),
        (59, "PT59S", "59 seconds"),
        (60, "PT1M", "1 minute"),
        (3_661, "PT1H1M1S", "1 hour, 1 minute"),
        (86_400, "P1D", "1 day"),
        (90 * 86_400 - 1, "P89DT23H59M59S", "89 days, 23 hours"),
        (2 * 86_400 + 5, "P2DT5S", "2 days, 5 seconds"),
    ],
)
def test_duration_forms(seconds, iso, human):
    duration = Duration(seconds)
    assert duration.iso8601 == iso
    assert duration.humanized == human


def test_duration_between_is_exact_and_never_negative():
    start = at(2026, 3, 2, 9, 30)
    assert Duration.between(start, start + timedelta(days=3, seconds=7)).seconds == 3 * 86_400 + 7
    assert Duration.between(start, start - timedelta(seconds=1)).seconds == 0


@given(st.integers(min_value=0, max_value=10**9))
def test_duration_iso_adds_back_up(seconds):
    duration = Duration(seconds)
    counts = dict(duration.parts())
    assert (
        counts["day"] * 86_400 + counts["hour"] * 3_600 + counts["minute"] * 60 + counts["second"]
        == seconds
    )
    assert duration.iso8601.startswith("P")


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=100),
    st.sampled_from(list(PeriodUnit)),
)
def test_adding_a_period_always_moves_forward(start, amount, unit):
    assert Period(amount, unit).after(start) > start
