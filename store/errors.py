"""The store's exceptions: nothing above `store/` ever sees a driver exception.

StoreError
 ├── Unavailable          the database cannot be reached, or did not answer in time
 │    └── EmbeddedError   the embedded SecantusDB could not be started
 └── Conflict             a unique key is already taken (e.g. an email in an organization)
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from pymongo import errors as driver

P = ParamSpec("P")
T = TypeVar("T")


class StoreError(Exception):
    """Base of every error raised by `store/`."""


class Unavailable(StoreError):
    """The database is down, unreachable, or too slow; retrying later may succeed."""


class EmbeddedError(Unavailable):
    """The embedded database process could not be started or has died."""


class Conflict(StoreError):
    """A write would break a unique key; `key` names it for the caller's error message."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def translate(error: driver.PyMongoError) -> StoreError:
    """Map one driver exception onto the store's tree."""
    if isinstance(error, driver.DuplicateKeyError):
        details = error.details or {}
        key = ",".join((details.get("keyPattern") or {}).keys()) or None
        return Conflict("a document with this key already exists", key=key)
    if isinstance(
        error,
        driver.ConnectionFailure | driver.ExecutionTimeout | driver.ServerSelectionTimeoutError,
    ) or getattr(error, "timeout", False):
        return Unavailable("the database is unreachable or did not answer in time")
    return StoreError(f"database error: {error}")


def boundary(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Wrap a store coroutine so driver exceptions leave it as `StoreError`s."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except driver.PyMongoError as error:
            raise translate(error) from error

    return wrapper
