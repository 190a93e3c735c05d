"""What an organization's administrators configure of the organization itself: its policies
and single sign-on."""

from __future__ import annotations

from resolvers.auth import Caller, require_admin
from resolvers.errors import Code, invalid, not_found
from resolvers.jwks import fetchable
from resolvers.text import bounded
from store import organizations
from store.database import Database
from store.errors import Conflict
from store.organizations import Organization, SingleSignOn

MAX_ISSUER = 500
MAX_AUDIENCE = 500


def _exact(value: str, *, field: str, limit: int) -> str:
    """Required and bounded, kept as given (compared exactly with tokens' claims)."""
    value = value.strip()
    if not value:
        raise invalid(Code.REQUIRED, f"{field} is required", field)
    return bounded(value, field=field, limit=limit)


def validate_issuer(issuer: str) -> str:
    """The issuer as tokens name it (`iss`, compared exactly). Its keys are fetched from it, so
    it is https — http only on this machine, where a test's or developer's issuer runs."""
    issuer = _exact(issuer, field="issuer", limit=MAX_ISSUER)
    if not fetchable(issuer):
        raise invalid(
            Code.INVALID_ISSUER,
            f"{issuer!r} is no issuer URL: https (http only for localhost), "
            "without credentials, query or fragment",
            "issuer",
        )
    return issuer


async def configure_single_sign_on(
    db: Database, viewer: Caller | None, *, issuer: str, audience: str, create_users: bool
) -> Organization:
    """Administrators: accept tokens of the organization's OpenID Connect provider. An issuer
    and audience are one organization's: a token must never sign into two."""
    admin = require_admin(viewer)
    sso = SingleSignOn(
        issuer=validate_issuer(issuer),
        audience=_exact(audience, field="audience", limit=MAX_AUDIENCE),
        create_users=create_users,
    )
    try:
        found = await organizations.set_single_sign_on(db, id=admin.org_id, sso=sso)
    except Conflict as error:
        raise invalid(
            Code.SINGLE_SIGN_ON_TAKEN,
            "another organization already signs in with this issuer and audience",
            "audience",
        ) from error
    if found is None:
        raise not_found("the organization")
    return found


async def remove_single_sign_on(
    db: Database, viewer: Caller | None, *, issuer: str
) -> Organization:
    """Administrators: stop accepting the provider's tokens, at once. The issuer is named, so
    that a removal meant for one configuration never removes another made meanwhile."""
    admin = require_admin(viewer)
    found = await organizations.remove_single_sign_on(db, id=admin.org_id, issuer=issuer.strip())
    if found is None:
        raise not_found("a single sign-on with this issuer", field="issuer")
    return found


def visible_single_sign_on(viewer: Caller, org: Organization) -> SingleSignOn | None:
    """The organization's administrators see its single sign-on; others see none."""
    return org.single_sign_on if viewer.is_admin and viewer.org_id == org.id else None


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
