"""Bearer tokens: HS256 JWTs naming the user and organization, with an expiry; and API tokens'
secrets, random and opaque, found by their hash.

Expiry is checked against the injectable clock rather than PyJWT's wall clock (PyJWT's own
`exp`/`iat` checks are off), so tests and `asOf`-style clocks can age a token without sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from resolvers.errors import unauthenticated
from store.users import User

ALGORITHM = "HS256"
ISSUER = "credgraph"
API_PREFIX = "cgk_"  # so a secret is known for what it is, here and by secret scanners


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: str
    org_id: str
    expires_at: datetime
    generation: int  # the user's token generation when it was issued (`revokeUserTokens`)


def issue(user: User, *, secret: str, ttl: timedelta, now: datetime) -> str:
    payload = {
        "iss": ISSUER,
        "sub": user.id,
        "org": user.org_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "gen": user.token_generation,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify(token: str, *, secret: str, now: datetime) -> Claims:
    """The token's claims, or `UNAUTHENTICATED` saying what is wrong with it."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={
                "require": ["iss", "sub", "org", "iat", "exp"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError as error:
        raise unauthenticated("the token's signature is not valid") from error
    except jwt.InvalidTokenError as error:
        raise unauthenticated("the token is malformed") from error
    if not isinstance(payload["sub"], str) or not isinstance(payload["org"], str):
        raise unauthenticated("the token is malformed")
    try:
        expires_at = datetime.fromtimestamp(payload["exp"], UTC)
    except (TypeError, ValueError, OverflowError) as error:
        raise unauthenticated("the token is malformed") from error
    if expires_at <= now:
        raise unauthenticated("the token has expired; ask for a new one (`credgraph token EMAIL`)")
    generation = payload.get("gen", 0)  # tokens from before generations were generation 0
    if not isinstance(generation, int) or isinstance(generation, bool):
        raise unauthenticated("the token is malformed")
    return Claims(payload["sub"], payload["org"], expires_at, generation)


def foreign_issuer(token: str) -> str | None:
    """The token's issuer when it is not credgraph (read unverified, only to route the token to
    single sign-on); None for our own, or for a token too malformed to say: `verify` says why."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) and issuer != ISSUER else None


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when there is no header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("the Authorization header must be `Bearer <token>`")
    return token.strip()


def new_api_secret() -> str:
    return API_PREFIX + secrets.token_urlsafe(32)


def is_api_secret(token: str) -> bool:
    return token.startswith(API_PREFIX)


def secret_hash(secret: str) -> str:
    """What is stored of an API token's secret (see `store.api_tokens`)."""
    return hashlib.sha256(secret.encode()).hexdigest()
