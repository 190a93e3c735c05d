"""The event feed, as integrations read it: every change of the organization in one order,
from wherever a consumer stopped (`store.feed`)."""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.auth import Caller, require_viewer
from resolvers.errors import Code, invalid, role_required
from resolvers.pages import Page, page_size
from store import feed
from store.database import Database
from store.feed import FeedEvent, FeedKind


async def events_page(
    db: Database,
    viewer: Caller | None,
    *,
    after: str | None,
    first: int | None,
    kinds: Sequence[FeedKind] | None,
) -> Page[FeedEvent]:
    """Administrators and `READ` tokens: the events numbered after the cursor `after` (a
    number: the cursor of the last event handled; none, from the first), in order."""
    caller = require_viewer(viewer)
    if not caller.reads_organization:
        raise role_required("only an administrator or a READ token may read the event feed")
    size = page_size(first)
    position = _position(after)
    last = await feed.last_seq(db, org_id=caller.org_id)
    if position > last:
        raise invalid(Code.INVALID_CURSOR, "no event of this organization has that cursor", "after")
    fetched = await feed.page(
        db, org_id=caller.org_id, after=position, kinds=kinds, limit=size + 1, end=last
    )
    total = (
        await feed.count(db, org_id=caller.org_id, after=position, kinds=kinds)
        if kinds
        else last - position  # numbers run without gaps
    )
    return Page.of(fetched, size, total, lambda e: str(e.seq))


def _position(after: str | None) -> int:
    if after is None:
        return 0
    if not after.isascii() or not after.isdigit() or len(after) > 18:
        raise invalid(Code.INVALID_CURSOR, "an event cursor is the number of an event", "after")
    return int(after)
