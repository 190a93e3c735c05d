"""API tokens for integrations: made, listed and revoked by administrators.

The secret is returned once, by `create_api_token`, and never again: only its hash is kept.
"""

from __future__ import annotations

from datetime import datetime

from resolvers import audit, tokens
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin
from resolvers.clock import as_utc
from resolvers.errors import Code, DomainError, invalid, not_found
from resolvers.text import required
from store import api_tokens
from store.api_tokens import ApiToken, Scope
from store.audit import Change
from store.database import Database

MAX_NAME = 200
MAX_TOKENS = 100  # unrevoked, per organization: past that, revoke the ones no longer used


async def create_api_token(
    db: Database,
    viewer: Caller | None,
    *,
    name: str,
    scopes: list[Scope],
    expires_at: datetime | None,
    now: datetime,
) -> tuple[ApiToken, str]:
    """A new token and its secret (shown this once)."""
    admin = require_admin(viewer)
    name = required(name, field="name", limit=MAX_NAME)
    if not scopes:
        raise invalid(Code.NO_SCOPES, "a token needs at least one scope", "scopes")
    if expires_at is not None:
        expires_at = as_utc(expires_at, field="expiresAt")
        if expires_at <= now:
            raise invalid(Code.OUT_OF_RANGE, "expiresAt must be in the future", "expiresAt")
    if await api_tokens.count_unrevoked(db, org_id=admin.org_id) >= MAX_TOKENS:
        raise DomainError(Code.TOO_MANY, f"an organization has at most {MAX_TOKENS} API tokens")
    secret = tokens.new_api_secret()
    shown = {"name": name, "scopes": sorted(scopes), "expiresAt": expires_at}
    made = audit.event(
        admin, Action.CREATE_API_TOKEN, "ApiToken", now=now, changes=audit.created(shown)
    )
    token = await api_tokens.create(
        db,
        org_id=admin.org_id,
        name=name,
        scopes=frozenset(scopes),
        secret_hash=tokens.secret_hash(secret),
        created_by=admin.id,
        expires_at=expires_at,
        now=now,
        event=made,
    )
    return token, secret


async def listed(db: Database, viewer: Caller, *, include_revoked: bool) -> list[ApiToken]:
    admin = require_admin(viewer)
    return await api_tokens.listed(db, org_id=admin.org_id, include_revoked=include_revoked)


async def revoke_api_token(
    db: Database, viewer: Caller | None, token_id: str, *, now: datetime
) -> ApiToken:
    """Revoke a token: its next request is refused."""
    admin = require_admin(viewer)
    changes = (Change("revokedAt", None, now),)
    made = audit.event(
        admin, Action.REVOKE_API_TOKEN, "ApiToken", subject_id=token_id, now=now, changes=changes
    )
    found = await api_tokens.revoke(db, org_id=admin.org_id, id=token_id, now=now, event=made)
    if found is None:
        raise not_found("the API token", field="apiToken")
    return found
