"""Failures a client can act on, each with a stable code.

Resolvers raise `DomainError`; the GraphQL layer turns it into a mutation's `userErrors` entry or,
for queries, an error whose `extensions.code` is the same code.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID_ID = "INVALID_ID"
    REQUIRED = "REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    NAME_TAKEN = "NAME_TAKEN"
    AMBIGUOUS = "AMBIGUOUS"
    TOO_LONG = "TOO_LONG"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class DomainError(Exception):
    def __init__(self, code: Code, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class AccessError(DomainError):
    """The caller may not use this operation at all (no token, wrong role): never a userError."""


def unauthenticated(message: str = "a valid bearer token is required") -> AccessError:
    return AccessError(Code.UNAUTHENTICATED, message)


def forbidden(message: str) -> DomainError:
    """The caller may not act on this particular object."""
    return DomainError(Code.FORBIDDEN, message)


def role_required(message: str) -> AccessError:
    return AccessError(Code.FORBIDDEN, message)


def not_found(what: str, *, field: str | None = None) -> DomainError:
    return DomainError(
        Code.NOT_FOUND, f"{what} does not exist or is not visible to you", field=field
    )
