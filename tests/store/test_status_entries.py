"""A credential's status list index — a cycle's, in one edition — is given once, and never to
two credentials, however many requests place them at once."""

from __future__ import annotations

import asyncio

from store import status_entries
from store.ids import new


async def test_racing_placements_give_each_edition_one_index_and_no_index_twice(db):
    org_id = new()
    editions = [(new(), edition) for _ in range(15) for edition in (0, 1)]
    batches = [editions[i : i + 7] for i in range(0, 30, 3)]  # overlapping: asked twice
    answers = await asyncio.gather(
        *(status_entries.place(db, org_id=org_id, editions=batch) for batch in batches)
    )
    agreed: dict[tuple[str, int], int] = {}
    for answer in answers:
        for edition, index in answer.items():
            assert agreed.setdefault(edition, index) == index, "one index per edition"
    assert set(agreed) == set(editions)
    assert len(set(agreed.values())) == len(editions), "no index twice"
    cycles = sorted({cycle for cycle, _ in editions})
    assert await status_entries.indexes_of(db, org_id=org_id, cycle_ids=cycles) == agreed


async def test_organizations_count_apart(db):
    first, second = new(), new()
    a, b, c = ("a" * 24, 0), ("b" * 24, 0), ("c" * 24, 0)
    assert await status_entries.place(db, org_id=first, editions=[a]) == {a: 0}
    assert await status_entries.place(db, org_id=second, editions=[b]) == {b: 0}
    assert await status_entries.place(db, org_id=first, editions=[c, a]) == {a: 0, c: 1}
    assert await status_entries.place(db, org_id=first, editions=[("a" * 24, 1)]) == {
        ("a" * 24, 1): 2
    }
