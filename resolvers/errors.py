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
    CANNOT_DEACTIVATE_SELF = "CANNOT_DEACTIVATE_SELF"
    OWN_ROLE = "OWN_ROLE"
    NO_SCOPES = "NO_SCOPES"
    NOT_A_MANAGER = "NOT_A_MANAGER"
    UNKNOWN_USER = "UNKNOWN_USER"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_URL = "INVALID_URL"
    INVALID_ISSUER = "INVALID_ISSUER"
    SINGLE_SIGN_ON_TAKEN = "SINGLE_SIGN_ON_TAKEN"
    LABEL_TAKEN = "LABEL_TAKEN"
    TITLE_TAKEN = "TITLE_TAKEN"
    UNKNOWN_COURSE = "UNKNOWN_COURSE"
    UNKNOWN_LABEL = "UNKNOWN_LABEL"
    UNKNOWN_LEARNER = "UNKNOWN_LEARNER"
    UNKNOWN_CREDENTIAL = "UNKNOWN_CREDENTIAL"
    WRONG_COURSE_KIND = "WRONG_COURSE_KIND"
    DUPLICATE_COURSE = "DUPLICATE_COURSE"
    CRITERIA_EMPTY = "CRITERIA_EMPTY"
    CRITERIA_TOO_DEEP = "CRITERIA_TOO_DEEP"
    CRITERIA_TOO_LARGE = "CRITERIA_TOO_LARGE"
    CRITERIA_MINIMUM_INVALID = "CRITERIA_MINIMUM_INVALID"
    CRITERIA_DUPLICATE = "CRITERIA_DUPLICATE"
    RENEWAL_NEEDS_VALIDITY = "RENEWAL_NEEDS_VALIDITY"
    CREDENTIAL_ARCHIVED = "CREDENTIAL_ARCHIVED"
    EDIT_CONFLICT = "EDIT_CONFLICT"
    DUE_BEFORE_START = "DUE_BEFORE_START"
    START_BEFORE_PREVIOUS = "START_BEFORE_PREVIOUS"
    TOO_MANY = "TOO_MANY"
    NOT_STARTED_YET = "NOT_STARTED_YET"
    NOT_IN_CREDENTIAL = "NOT_IN_CREDENTIAL"
    ALREADY_COMPLETED = "ALREADY_COMPLETED"
    NOT_COMPLETED = "NOT_COMPLETED"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    CURRENT_KEY = "CURRENT_KEY"
    WITHDRAWN = "WITHDRAWN"
    NOT_APPROVED = "NOT_APPROVED"
    PATH_COMPLETES_THROUGH_COURSES = "PATH_COMPLETES_THROUGH_COURSES"
    INVALID_DATE = "INVALID_DATE"
    FUTURE_DATE = "FUTURE_DATE"
    END_BEFORE_ISSUE = "END_BEFORE_ISSUE"
    FIELD_NOT_ALLOWED = "FIELD_NOT_ALLOWED"
    RECORD_MISMATCH = "RECORD_MISMATCH"
    INVALID_DOCUMENT = "INVALID_DOCUMENT"
    DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
    NOT_DECLINED = "NOT_DECLINED"
    ALREADY_EXEMPT = "ALREADY_EXEMPT"
    EXTENSION_PENDING = "EXTENSION_PENDING"
    NOT_EXEMPT = "NOT_EXEMPT"
    ALREADY_REVIEWED = "ALREADY_REVIEWED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    EMPTY_FILE = "EMPTY_FILE"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    DUPLICATE_COLUMN = "DUPLICATE_COLUMN"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    ROW_TOO_LONG = "ROW_TOO_LONG"
    MALFORMED_ROW = "MALFORMED_ROW"
    EXTRA_CELLS = "EXTRA_CELLS"
    NOT_UTF8 = "NOT_UTF8"
    UNSAFE_CELL = "UNSAFE_CELL"
    INVALID_NUMBER = "INVALID_NUMBER"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"
    INVALID_CURSOR = "INVALID_CURSOR"
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


def invalid(code: Code, message: str, field: str) -> DomainError:
    return DomainError(code, message, field=field)


def not_found(what: str, *, field: str | None = None) -> DomainError:
    return DomainError(
        Code.NOT_FOUND, f"{what} does not exist or is not visible to you", field=field
    )


def busy(what: str, *, field: str) -> DomainError:
    """Others kept changing it between each read and the write conditioned on it."""
    return invalid(Code.EDIT_CONFLICT, f"{what} keeps changing; try again", field)
