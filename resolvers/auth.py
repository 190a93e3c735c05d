"""Who is calling, and what they may do: every resolver's permission checks go through here.

A caller is a person — a learner, a manager (who also sees and acts for the members of the
groups they manage) or an administrator — or an organization's API token, which acts only
within its scopes. Every check below refuses a token unless it names the token's scope, so a
new resolver is closed to integrations until it says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from resolvers import tokens
from resolvers.errors import forbidden, not_found, role_required, unauthenticated
from store import api_tokens, groups, users
from store.api_tokens import ApiToken, Scope
from store.database import Database
from store.users import Role, User

LAST_USE_EVERY = timedelta(minutes=1)  # how stale an API token's `lastUsedAt` may be


@dataclass(frozen=True, slots=True)
class Caller:
    """A person, or an API token (`user` None, `token` set)."""

    org_id: str
    user: User | None = None
    token: ApiToken | None = None
    members: frozenset[str] = field(default=frozenset())  # a manager's: whom they manage

    @classmethod
    def person(cls, user: User, members: frozenset[str] = frozenset()) -> Caller:
        return cls(user.org_id, user=user, members=members)

    @property
    def id(self) -> str:
        if self.user is not None:
            return self.user.id
        assert self.token is not None, "a caller is a user or a token"
        return self.token.id

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.role is Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.user is not None and self.user.role is Role.MANAGER

    def has(self, scope: Scope) -> bool:
        return self.token is not None and scope in self.token.scopes

    @property
    def reads_organization(self) -> bool:
        """Whether every learner's data is the caller's to read: administrators and `READ`."""
        return self.is_admin or self.has(Scope.READ)

    def sees(self, learner_id: str) -> bool:
        """Whether a learner's credentials, records and courses are the caller's to read
        (loaders already keep to one organization)."""
        return (
            self.reads_organization
            or (self.user is not None and self.user.id == learner_id)
            or learner_id in self.members
        )

    @property
    def sees_all_credentials(self) -> bool:
        """Whether every credential's definition is the caller's to read (a learner sees those
        assigned to them)."""
        return self.reads_organization or self.is_manager

    @property
    def may_query(self) -> bool:
        """Whether the caller may run queries at all: an API token only with `READ`."""
        return self.token is None or Scope.READ in self.token.scopes

    @property
    def within(self) -> frozenset[str] | None:
        """The learners an organization-wide view narrows to: a manager's members (None: all)."""
        return None if self.reads_organization else self.members

    def decides_for(self, learner_id: str) -> bool:
        """Whether the caller decides for a learner (approves, exempts, extends): an
        administrator for anyone, a manager for their members but not for themselves."""
        return self.manages(learner_id) and (self.is_admin or learner_id != self.id)

    def manages(self, learner_id: str) -> bool:
        """Whether the caller may decide for a learner (approve their records …)."""
        return self.is_admin or learner_id in self.members

    @property
    def audience(self) -> str:
        """Who else gets the same answer to a query that does not ask who is calling: every
        administrator of the organization alike, every `READ` token alike, else nobody."""
        if self.is_admin:
            return f"org:{self.org_id}"
        if self.token is not None:
            return f"org:{self.org_id}:{'+'.join(sorted(self.token.scopes))}"
        return self.id


if TYPE_CHECKING:  # only a type here: `resolvers.sso` imports `resolvers.users`, which imports us
    from resolvers.sso import Issuers


@dataclass(frozen=True, slots=True)
class Session:
    """The caller, and their organization's data version when they were looked up."""

    caller: Caller
    data_version: int


async def authenticate(
    db: Database, authorization: str | None, *, secret: str, now: datetime, issuers: Issuers
) -> Session | None:
    """The caller; None without a token; `UNAUTHENTICATED` for a token that fails.

    A person's token stops working as soon as they are deactivated or deleted, or signed out
    everywhere (`revokeUserTokens`: a later token generation), whatever its expiry; an API
    token as soon as it is revoked. A token another issuer signed is single sign-on's to judge
    (`resolvers.sso`).
    """
    token = tokens.bearer(authorization)
    if token is None:
        return None
    if tokens.is_api_secret(token):
        return await _integration(db, token, now=now)
    if issuer := tokens.foreign_issuer(token):
        user, version = await issuers.sign_in(db, token, issuer, now=now)
        return await _person(db, user, version)
    claims = tokens.verify(token, secret=secret, now=now)
    found = await users.get_with_version(db, org_id=claims.org_id, id=claims.user_id)
    if found is None or found[0].disabled_at is not None:
        raise unauthenticated("the token's user no longer exists or has been deactivated")
    user, version = found
    if claims.generation != user.token_generation:
        raise unauthenticated("the token was revoked; ask for a new one")
    return await _person(db, user, version)


async def _person(db: Database, user: User, version: int) -> Session:
    """A signed-in person; a manager with the members of the groups they manage, read anew on
    every request so that a group's edit applies at once."""
    members: frozenset[str] = frozenset()
    if user.role is Role.MANAGER:
        managed = await groups.managed_by(db, org_id=user.org_id, manager_id=user.id)
        members = frozenset(m for group in managed for m in group.member_ids)
    return Session(Caller.person(user, members), version)


async def _integration(db: Database, secret: str, *, now: datetime) -> Session:
    found = await api_tokens.by_secret(db, secret_hash=tokens.secret_hash(secret))
    if found is None:
        raise unauthenticated("no such API token")
    token, version = found
    if token.revoked_at is not None:
        raise unauthenticated("the API token was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise unauthenticated("the API token has expired")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_EVERY:
        await api_tokens.used(db, id=token.id, at=now)
    return Session(Caller(token.org_id, token=token), version)


def require_viewer(caller: Caller | None) -> Caller:
    if caller is None:
        raise unauthenticated()
    return caller


def require_person(caller: Caller | None) -> User:
    """A signed-in person: API tokens are refused what their scopes do not name."""
    found = require_viewer(caller)
    if found.user is None:
        raise role_required("an API token may do only what its scopes allow")
    return found.user


def require_admin(caller: Caller | None) -> User:
    user = require_person(caller)
    if user.role is not Role.ADMIN:
        raise role_required("only an administrator may do this")
    return user


def require_reader(caller: Caller | None) -> Caller:
    """Organization-wide views: administrators and `READ` tokens see everyone, managers their
    members (each view narrows to `Caller.members` itself), learners nothing."""
    found = require_viewer(caller)
    if not (found.reads_organization or found.is_manager):
        raise role_required("only an administrator or a manager may see this")
    return found


def require_reviewer(caller: Caller | None) -> User:
    """Administrators and managers: who may decide for learners (`Caller.manages` says whom)."""
    user = require_person(caller)
    if user.role is Role.LEARNER:
        raise role_required("only an administrator or a manager may do this")
    return user


def can_see_user(caller: Caller, user: User) -> bool:
    """Administrators and `READ` see their organization; managers their members; everyone
    themselves and the administrators."""
    if caller.org_id != user.org_id:
        return False
    return caller.sees(user.id) or user.role is Role.ADMIN


def require_learner_access(
    caller: Caller, learner: User | None, *, field: str | None = None
) -> User:
    """A learner's data is theirs, their managers' and administrators'; others are told it is
    absent or not theirs."""
    if learner is None or learner.org_id != caller.org_id:
        raise not_found("the learner", field=field)
    if not caller.sees(learner.id):
        raise forbidden("a learner may only act on their own data")
    return learner
