"""Keyset pages read a window of keys at a time.

The embedded database sorts in memory whatever the index, so `find(key > after).sort(key)
.limit(n)` reads every later document to return `n` of them. A range of keys as wide as the
page, doubled while it comes back short, reads about what the page returns, for keys that are
numbers up to a known `end`: in one read where they run without gaps (a feed's sequence
numbers), in a few more, one per doubling, where they are sparse (the lines of a file whose
rows mostly went in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection


async def windowed(
    collection: AsyncCollection[dict[str, Any]],
    where: dict[str, Any],
    key: str,
    *,
    after: int,
    limit: int,
    end: int,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """Up to `limit` documents matching `where` whose `key` is over `after` (and at most
    `end`), in key order; `keep` filters them here, where a condition sent with the range
    would make the embedded database read past the index's window."""
    found: list[dict[str, Any]] = []
    low, width = after, limit
    while len(found) < limit and low < end:
        high = min(low + width, end)
        cursor = collection.find({**where, key: {"$gt": low, "$lte": high}}).sort(key, 1)
        found += [doc async for doc in cursor if keep is None or keep(doc)]
        low, width = high, width * 2
    return found[:limit]
