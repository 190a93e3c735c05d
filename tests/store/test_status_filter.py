"""MongoDB's status filter and expression answer exactly what `Timeline.status` answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.status import Status, Timeline
from store.compliance import status_expression, status_filter

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)

offsets = st.integers(-50, 50).map(lambda h: T0 + h * HOUR)


@st.composite
def timelines(draw) -> Timeline:
    start = draw(offsets)
    due = start + draw(st.integers(1, 40)) * HOUR
    started = draw(st.none() | offsets)
    completed = draw(st.none() | offsets)
    valid_until = None
    if completed is not None and draw(st.booleans()):
        valid_until = completed + draw(st.integers(1, 40)) * HOUR
    return Timeline(start, due, started, completed, valid_until)


@settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(st.lists(timelines(), min_size=1, max_size=30), offsets)
async def test_filter_matches_python(db, lines, as_of):
    collection = db.db["status_probe"]
    await collection.delete_many({})
    await collection.insert_many(
        [
            {
                "i": i,
                "startDate": t.start,
                "dueDate": t.due,
                "startedAt": t.started_at,
                "completedAt": t.completed_at,
                "validUntil": t.valid_until,
            }
            for i, t in enumerate(lines)
        ]
    )
    for status in Status:
        found = sorted([d["i"] async for d in collection.find(status_filter(status, as_of))])
        expected = [i for i, t in enumerate(lines) if t.status(as_of) is status]
        assert found == expected, status
    pipeline = [{"$project": {"i": 1, "status": status_expression(as_of)}}]
    computed = {d["i"]: d["status"] async for d in await collection.aggregate(pipeline)}
    assert computed == {i: t.status(as_of).value for i, t in enumerate(lines)}
