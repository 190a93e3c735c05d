from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resolvers.status import Status, Timeline

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def timeline(**overrides) -> Timeline:
    return Timeline(**{"start": T0, "due": T0 + 90 * DAY, **overrides})


@pytest.mark.parametrize(
    ("line", "as_of", "status"),
    [
        (timeline(), T0 - timedelta(seconds=1), Status.NOT_YET_AVAILABLE),
        (timeline(), T0, Status.NOT_STARTED),
        (timeline(started_at=T0 + DAY), T0 + DAY - timedelta(seconds=1), Status.NOT_STARTED),
        (timeline(started_at=T0 + DAY), T0 + DAY, Status.IN_PROGRESS),
        (timeline(started_at=T0 + DAY), T0 + 90 * DAY, Status.OVERDUE),
        (timeline(), T0 + 90 * DAY - timedelta(seconds=1), Status.NOT_STARTED),
        (timeline(completed_at=T0 + DAY, valid_until=T0 + 700 * DAY), T0 + DAY, Status.COMPLETED),
        (
            timeline(completed_at=T0 + DAY, valid_until=T0 + 700 * DAY),
            T0 + 500 * DAY,
            Status.COMPLETED,
        ),
        (
            timeline(completed_at=T0 + DAY, valid_until=T0 + 700 * DAY),
            T0 + 700 * DAY,
            Status.EXPIRED,
        ),
        (timeline(completed_at=T0 + 2 * DAY), T0 + 3000 * DAY, Status.COMPLETED),
        (timeline(completed_at=T0 + 2 * DAY), T0 + DAY, Status.NOT_STARTED),
        (timeline(completed_at=T0 + 100 * DAY), T0 + 95 * DAY, Status.OVERDUE),
    ],
)
def test_status_at_a_moment(line, as_of, status):
    assert line.status(as_of) is status


def test_can_start_only_from_the_start_date():
    line = timeline()
    assert not line.can_start(T0 - timedelta(seconds=1))
    assert line.can_start(T0)


def test_expires_in_counts_to_due_then_to_validity():
    line = timeline(completed_at=T0 + DAY, valid_until=T0 + 731 * DAY)
    assert line.expires_in(T0).seconds == 90 * 86_400
    assert line.expires_in(T0 + DAY).seconds == 730 * 86_400
    assert line.expires_in(T0 + 800 * DAY).seconds == 0


def test_expires_in_is_zero_once_overdue_and_null_without_validity():
    assert timeline().expires_in(T0 + 100 * DAY).seconds == 0
    assert timeline(completed_at=T0 + DAY).expires_in(T0 + 2 * DAY) is None
