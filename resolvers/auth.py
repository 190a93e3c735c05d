"""Who is calling, and what they may do: every resolver's permission checks go through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from resolvers import tokens
from resolvers.errors import forbidden, not_found, role_required, unauthenticated
from store import users
from store.database import Database
from store.users import User

if TYPE_CHECKING:  # only a type here: `resolvers.sso` imports `resolvers.users`, which imports us
    from resolvers.sso import Issuers


@dataclass(frozen=True, slots=True)
class Session:
    """The caller, and their organization's data version when they were looked up."""

    user: User
    data_version: int


async def authenticate(
    db: Database, authorization: str | None, *, secret: str, now: datetime, issuers: Issuers
) -> Session | None:
    """The caller; None without a token; `UNAUTHENTICATED` for a token that fails.

    A token stops working as soon as its user is deactivated or deleted, or signed out
    everywhere (`revokeUserTokens`: a later token generation), whatever its expiry. A token
    another issuer signed is single sign-on's to judge (`resolvers.sso`).
    """
    token = tokens.bearer(authorization)
    if token is None:
        return None
    if issuer := tokens.foreign_issuer(token):
        user, data_version = await issuers.sign_in(db, token, issuer, now=now)
        return Session(user=user, data_version=data_version)
    claims = tokens.verify(token, secret=secret, now=now)
    found = await users.get_with_version(db, org_id=claims.org_id, id=claims.user_id)
    if found is None or found[0].disabled_at is not None:
        raise unauthenticated("the token's user no longer exists or has been deactivated")
    if claims.generation != found[0].token_generation:
        raise unauthenticated("the token was revoked; ask for a new one")
    return Session(user=found[0], data_version=found[1])


def require_viewer(viewer: User | None) -> User:
    if viewer is None:
        raise unauthenticated()
    return viewer


def require_admin(viewer: User | None) -> User:
    user = require_viewer(viewer)
    if not user.is_admin:
        raise role_required("only an administrator may do this")
    return user


def can_see_user(viewer: User, user: User) -> bool:
    """Administrators see their organization; learners see themselves and administrators."""
    if viewer.org_id != user.org_id:
        return False
    return viewer.is_admin or user.id == viewer.id or user.is_admin


def owns_or_administers(viewer: User, learner_id: str) -> bool:
    """Whether `viewer` may see a learner's own data (loaders already keep to one organization)."""
    return viewer.is_admin or viewer.id == learner_id


def require_learner_access(viewer: User, learner: User | None, *, field: str | None = None) -> User:
    """A learner's own data is theirs and their administrators'; others are told it is absent."""
    if learner is None or learner.org_id != viewer.org_id:
        raise not_found("the learner", field=field)
    if not viewer.is_admin and learner.id != viewer.id:
        raise forbidden("a learner may only act on their own data")
    return learner
