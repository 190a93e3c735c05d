"""An organization's own policies, set by its administrators."""

from __future__ import annotations

from resolvers.auth import Caller, require_admin
from resolvers.errors import not_found
from store import organizations
from store.database import Database
from store.organizations import Organization


async def update_policies(
    db: Database,
    viewer: Caller | None,
    *,
    self_reported_progress: bool | None,
    always_notify_administrators: bool | None,
) -> Organization:
    admin = require_admin(viewer)
    fields = {
        name: value
        for name, value in (
            ("selfReportedProgress", self_reported_progress),
            ("alwaysNotifyAdministrators", always_notify_administrators),
        )
        if value is not None
    }
    found = (
        await organizations.set_policies(db, id=admin.org_id, fields=fields)
        if fields
        else await organizations.get(db, id=admin.org_id)
    )
    if found is None:
        raise not_found("the organization")
    return found
