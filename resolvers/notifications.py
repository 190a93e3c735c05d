"""A user's notifications: theirs alone, newest first."""

from __future__ import annotations

from datetime import datetime

from resolvers.auth import Caller, require_person
from resolvers.errors import Code, forbidden, invalid
from resolvers.pages import Cursors, Page
from store import notifications
from store.database import Database
from store.notifications import Notification
from store.users import User

MAX_IDS = 500


async def inbox(
    db: Database,
    viewer: Caller,
    owner: User,
    *,
    unread_only: bool,
    first: int | None,
    after: str | None,
) -> Page[Notification]:
    if owner.id != viewer.id:
        raise forbidden("notifications are visible to their user only")
    cursors = Cursors("notifications", unread_only)
    size, last = cursors.keyset(first, after)
    mine = {"org_id": viewer.org_id, "user_id": viewer.id}
    fetched = await notifications.page(
        db, **mine, unread_only=unread_only, after=last, limit=size + 1
    )
    total = await notifications.count(db, **mine, unread_only=unread_only)
    return Page.of(fetched, size, total, lambda n: cursors.encode(n.id))


async def one(db: Database, viewer: Caller, id: str) -> Notification | None:
    return await notifications.get(db, org_id=viewer.org_id, user_id=viewer.id, id=id)


async def mark_read(
    db: Database, viewer: Caller | None, *, ids: list[str] | None, now: datetime
) -> int:
    """Mark the caller's notifications read: these (at most `MAX_IDS`), or all when `ids` is
    None."""
    user = require_person(viewer)
    if ids is not None and len(ids) > MAX_IDS:
        raise invalid(Code.TOO_MANY, f"mark at most {MAX_IDS} at once, or all", "ids")
    return await notifications.mark_read(db, org_id=user.org_id, user_id=user.id, ids=ids, now=now)
