"""Keyset pagination: opaque cursors holding the sort key of the last item seen."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from resolvers.errors import Code, DomainError, invalid

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


Value = str | datetime | None


class Cursors:
    """The cursors of one list — what it lists, filtered how, in which order (`identity`) —
    holding the sort key of the last item seen. A cursor from any other list, or not made
    here, is refused with `INVALID_CURSOR` rather than read as a place in this one."""

    def __init__(self, *identity: object) -> None:
        self.tag = hashlib.sha256(repr(identity).encode()).hexdigest()[:16]

    def encode(self, *key: Value) -> str:
        values = [self.tag, *(v.isoformat() if isinstance(v, datetime) else v for v in key)]
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")

    def keyset(self, first: int | None, after: str | None) -> tuple[int, str | None]:
        """A page by id: its size, and the id it continues after."""
        if after is None:
            return page_size(first), None
        (last_id,) = self._decode(after, parts=1)
        return page_size(first), _text(last_id)

    def dated_keyset(
        self, first: int | None, after: str | None
    ) -> tuple[int, tuple[datetime, str] | None]:
        """A page by a date then id: its size, and the (date, id) it continues after."""
        size, key = self.ranked_keyset(first, after)
        if key is None:
            return size, None
        moment, last_id = key
        if moment is None:
            raise _refused()
        return size, (moment, last_id)

    def ranked_keyset(
        self, first: int | None, after: str | None
    ) -> tuple[int, tuple[datetime | None, str] | None]:
        """A page by a date that some items lack, then id: its size, and the (date or None,
        id) it continues after."""
        if after is None:
            return page_size(first), None
        value, last_id = self._decode(after, parts=2)
        return page_size(first), (None if value is None else _moment(value), _text(last_id))

    def _decode(self, cursor: str, *, parts: int) -> list[str | None]:
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            values = None
        if (
            not isinstance(values, list)
            or len(values) != parts + 1
            or values[0] != self.tag
            or not all(v is None or isinstance(v, str) for v in values)
        ):
            raise _refused()
        return values[1:]


def _refused() -> DomainError:
    return invalid(Code.INVALID_CURSOR, "this cursor was not issued for this list", "after")


def _text(value: str | None) -> str:
    if value is None:
        raise _refused()
    return value


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise _refused() from error
    if moment.tzinfo is None:  # every cursor made here carries its offset
        raise _refused()
    return moment


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
