"""Keyset pagination: opaque cursors holding the sort key of the last item seen."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from resolvers.errors import Code, invalid

T = TypeVar("T")
MAX_PAGE = 100
DEFAULT_PAGE = 20


def page_size(first: int | None) -> int:
    """A page holds 1 to 100 items. (`first: 0` is refused: a page of nothing could not say
    where the next one starts; any page carries `totalCount`.)"""
    if first is None:
        return DEFAULT_PAGE
    if not 1 <= first <= MAX_PAGE:
        raise invalid(Code.INVALID_PAGE_SIZE, f"first is between 1 and {MAX_PAGE}", "first")
    return first


def encode(*key: str | datetime) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode(cursor: str, *, parts: int) -> list[str]:
    """The cursor's key as strings; `INVALID_CURSOR` for anything not made by `encode`."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != parts
        or not all(isinstance(v, str) for v in values)
    ):
        raise invalid(Code.INVALID_CURSOR, "this cursor was not issued for this list", "after")
    return values


def keyset(first: int | None, after: str | None) -> tuple[int, str | None]:
    """A page by id: its size, and the id it continues after."""
    return page_size(first), decode(after, parts=1)[0] if after is not None else None


def dated_keyset(first: int | None, after: str | None) -> tuple[int, tuple[datetime, str] | None]:
    """A page by a date then id: its size, and the (date, id) it continues after."""
    if after is None:
        return page_size(first), None
    value, last_id = decode(after, parts=2)
    return page_size(first), (decode_datetime(value), last_id)


def decode_datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as error:
        raise invalid(
            Code.INVALID_CURSOR, "this cursor was not issued for this list", "after"
        ) from error


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    total: int
    cursor: Callable[[T], str]

    @classmethod
    def of(cls, fetched: list[T], size: int, total: int, cursor: Callable[[T], str]) -> Page[T]:
        """From `size + 1` fetched items: the extra one only says there is a next page."""
        return cls(items=fetched[:size], has_next=len(fetched) > size, total=total, cursor=cursor)
