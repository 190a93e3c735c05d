"""A cycle's status list index is given once, and never to two cycles, however many requests
place cycles at once."""

from __future__ import annotations

import asyncio

from store import status_entries
from store.ids import new


async def test_racing_placements_give_each_cycle_one_index_and_no_index_twice(db):
    org_id = new()
    cycles = [new() for _ in range(30)]
    batches = [cycles[i : i + 7] for i in range(0, 30, 3)]  # overlapping: cycles asked twice
    answers = await asyncio.gather(
        *(status_entries.place(db, org_id=org_id, cycle_ids=batch) for batch in batches)
    )
    agreed: dict[str, int] = {}
    for answer in answers:
        for cycle, index in answer.items():
            assert agreed.setdefault(cycle, index) == index, "one index per cycle"
    assert set(agreed) == set(cycles)
    assert len(set(agreed.values())) == len(cycles), "no index twice"
    stored = await status_entries.in_range(db, org_id=org_id, start=0, stop=10_000)
    assert {cycle: index for index, cycle in stored.items()} == agreed


async def test_organizations_count_apart(db):
    first, second = new(), new()
    assert await status_entries.place(db, org_id=first, cycle_ids=["a" * 24]) == {"a" * 24: 0}
    assert await status_entries.place(db, org_id=second, cycle_ids=["b" * 24]) == {"b" * 24: 0}
    assert await status_entries.place(db, org_id=first, cycle_ids=["c" * 24, "a" * 24]) == {
        "a" * 24: 0,
        "c" * 24: 1,
    }
