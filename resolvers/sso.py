"""Single sign-on: a bearer token signed by an organization's OpenID Connect issuer signs in the
user of that organization its `email` claim names.

The organization is the one whose issuer *and* audience the token carries: organizations that
share an identity provider's tenant differ by audience, and a token never signs into another.
Expiry and validity are judged against the request's moment (the injectable clock), as for
credgraph's own tokens (`resolvers.tokens`).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from resolvers import tokens
from resolvers.errors import DomainError, unauthenticated
from resolvers.jwks import ALGORITHMS, TIMEOUT, KeySets
from resolvers.users import MAX_EMAIL, MAX_NAME, clean_name, normal_email, validate_email
from store import organizations, users
from store.database import Database
from store.errors import Conflict
from store.organizations import Organization, SingleSignOn
from store.users import Role, User

LEEWAY = timedelta(seconds=60)  # the issuer's clock and ours differ a little


class Issuers:
    """Signs people in with their organizations' identity providers' tokens; one per app (in
    `app.state`), keeping every issuer's keys between requests."""

    def __init__(self, *, timeout: float = TIMEOUT) -> None:
        self.keys = KeySets(timeout=timeout)

    async def settled(self, authorization: str | None) -> None:
        """Wait for a fetch of the keys of the request's token's issuer that is under way, if
        any (`KeySets.settled`): done before the request is admitted to work."""
        with contextlib.suppress(DomainError):
            token = tokens.bearer(authorization)
            if token is not None and (issuer := tokens.foreign_issuer(token)):
                await self.keys.settled(issuer)

    async def sign_in(
        self, db: Database, token: str, issuer: str, *, now: datetime
    ) -> tuple[User, int]:
        """The user the token signs in and their organization's data version, or
        `UNAUTHENTICATED` saying why not. Nothing is fetched from an issuer no organization
        has configured."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as error:
            raise unauthenticated("the token is malformed") from error
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise unauthenticated(
                f"tokens signed with {algorithm!r} are not accepted (only RS256, ES256)"
            )
        if not isinstance(kid, str) or not kid:
            raise unauthenticated("the token names no signing key (`kid`)")
        org, sso = await _organization(db, issuer, unverified.get("aud"))
        key = await self.keys.key(issuer, kid, now=now)
        claims = _verified(token, key, algorithm, sso, now)
        user = await _user(db, org, sso, claims, now)
        if user.disabled_at is not None:
            raise unauthenticated("the token's user no longer exists or has been deactivated")
        return user, org.data_version  # read before the user: an answer is never newer


async def _organization(
    db: Database, issuer: str, audience: Any
) -> tuple[Organization, SingleSignOn]:
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list):
        raise unauthenticated("the token has no audience (`aud`)")
    matching = [
        (org, org.single_sign_on)
        for org in await organizations.find_by_issuer(db, issuer=issuer)
        if org.single_sign_on and org.single_sign_on.audience in audiences
    ]
    if len(matching) != 1:  # two: a token for both organizations' applications, for neither
        raise unauthenticated("no organization signs in with this token's issuer and audience")
    return matching[0]


def _verified(
    token: str, key: jwt.PyJWK, algorithm: str, sso: SingleSignOn, now: datetime
) -> dict[str, Any]:
    """The token's claims, its signature, issuer, audience and times checked."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],  # and PyJWT refuses a key made for another algorithm
            audience=sso.audience,
            issuer=sso.issuer,
            options={
                "require": ["iss", "aud", "exp"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError as error:
        raise unauthenticated("the token's signature is not valid") from error
    except jwt.InvalidAlgorithmError as error:
        raise unauthenticated("the token's algorithm does not fit its signing key") from error
    except jwt.InvalidTokenError as error:
        raise unauthenticated(f"the token is not valid here ({error})") from error
    if _moment(claims["exp"]) + LEEWAY <= now:
        raise unauthenticated("the token has expired; sign in again")
    for name, what in (("nbf", "is not valid yet"), ("iat", "was issued in the future")):
        if name in claims and _moment(claims[name]) - LEEWAY > now:
            raise unauthenticated(f"the token {what}")
    return claims


def _moment(value: Any) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise unauthenticated("the token is malformed")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise unauthenticated("the token is malformed") from error


async def _user(
    db: Database, org: Organization, sso: SingleSignOn, claims: dict[str, Any], now: datetime
) -> User:
    """The organization's user with the token's email; on first sign-in, when the organization
    allows it, a new learner. Two first sign-ins at once make one user (the unique email)."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise unauthenticated("the token has no `email` claim")
    if claims.get("email_verified", True) not in (True, "true"):
        raise unauthenticated("the identity provider has not verified the token's email")
    email = normal_email(email)
    found = await users.find_by_email(db, email=email, org_id=org.id)
    if found:
        return found[0]
    if not sso.create_users:
        shown = email if len(email) <= MAX_EMAIL else email[:MAX_EMAIL] + "…"
        raise unauthenticated(f"{shown} is no user here; ask an administrator to add you")
    try:
        email = validate_email(email)
    except DomainError as error:
        raise unauthenticated("the token's email is not an email address") from error
    name = claims.get("name")  # a provider's name too long for us is cut, not refused
    name = clean_name(name)[:MAX_NAME] if isinstance(name, str) else ""
    try:
        return await users.create(
            db, org_id=org.id, email=email, name=name or email, role=Role.LEARNER, now=now
        )
    except Conflict:  # a concurrent first sign-in made them
        found = await users.find_by_email(db, email=email, org_id=org.id)
    if not found:
        raise unauthenticated("the user could not be created; sign in again")
    return found[0]
