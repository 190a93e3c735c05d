"""What an organization's administrators configure of the organization itself: its policies
and single sign-on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from resolvers import audit
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin
from resolvers.errors import Code, busy, invalid, not_found
from resolvers.jwks import fetchable
from resolvers.text import bounded
from store import organizations
from store.database import Database
from store.errors import Conflict
from store.organizations import POLICIES, Organization, SingleSignOn
from store.users import User

MAX_ISSUER = 500
MAX_AUDIENCE = 500
RETRIES = 3  # reads and conditional writes, when other administrators change it in between


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
    db: Database,
    viewer: Caller | None,
    *,
    issuer: str,
    audience: str,
    create_users: bool,
    now: datetime,
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
        return await _single_sign_on(
            db, admin, Action.CONFIGURE_SINGLE_SIGN_ON, lambda _: sso, now=now
        )
    except Conflict as error:
        raise invalid(
            Code.SINGLE_SIGN_ON_TAKEN,
            "another organization already signs in with this issuer and audience",
            "audience",
        ) from error


async def remove_single_sign_on(
    db: Database, viewer: Caller | None, *, issuer: str, now: datetime
) -> Organization:
    """Administrators: stop accepting the provider's tokens, at once. The issuer is named, so
    that a removal meant for one configuration never removes another made meanwhile."""
    admin = require_admin(viewer)

    def removed(was: SingleSignOn | None) -> None:
        if was is None or was.issuer != issuer.strip():
            raise not_found("a single sign-on with this issuer", field="issuer")

    return await _single_sign_on(db, admin, Action.REMOVE_SINGLE_SIGN_ON, removed, now=now)


async def _single_sign_on(
    db: Database,
    admin: User,
    action: Action,
    decide: Callable[[SingleSignOn | None], SingleSignOn | None],
    *,
    now: datetime,
) -> Organization:
    """Store what `decide` makes of the configuration as read, read and decided again while
    another administrator changes it."""
    for _ in range(RETRIES):
        was = await _organization(db, admin)
        sso = decide(was.single_sign_on)
        if sso == was.single_sign_on:
            return was
        changes = audit.diff(
            {"singleSignOn": _shown(was.single_sign_on)}, {"singleSignOn": _shown(sso)}
        )
        made = audit.event(
            admin, action, "Organization", subject_id=was.id, now=now, changes=changes
        )
        if found := await organizations.set_single_sign_on(db, was=was, sso=sso, event=made):
            return found
    raise busy("the single sign-on", field="issuer")


def _shown(sso: SingleSignOn | None) -> dict[str, object] | None:
    return sso.to_doc() if sso else None


async def _organization(db: Database, admin: User) -> Organization:
    found = await organizations.get(db, id=admin.org_id)
    if found is None:
        raise not_found("the organization")
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
    development_mode: bool | None = None,
    now: datetime,
) -> Organization:
    admin = require_admin(viewer)
    wanted = {
        name: value
        for name, value in (
            ("selfReportedProgress", self_reported_progress),
            ("alwaysNotifyAdministrators", always_notify_administrators),
            ("developmentMode", development_mode),
        )
        if value is not None
    }
    for _ in range(RETRIES):
        was = await _organization(db, admin)
        before = {name: getattr(was, attribute) for name, attribute in POLICIES.items()}
        fields = {name: value for name, value in wanted.items() if before[name] != value}
        if not fields:
            return was
        made = audit.event(
            admin,
            Action.UPDATE_ORGANIZATION,
            "Organization",
            subject_id=was.id,
            now=now,
            changes=audit.diff(before, fields),
        )
        if found := await organizations.set_policies(db, was=was, fields=fields, event=made):
            return found
    raise busy("the organization", field="selfReportedProgress")
