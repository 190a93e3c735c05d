"""Cheap repeated polls: ETags that change exactly when an answer may, and persisted queries.

A query's tag covers what the answer is made of — the document, the variables, who it is for
and the organization's data version (advanced after every write) — and, when the answer reads
the clock, the moment it next may change by itself (`graph.freshness`), which the tag carries in
the clear: `"<digest>.<moment>"`. An `If-None-Match` whose digest is this request's, at a
moment still ahead, is answered 304 before any resolver runs. A wallboard's counts thus stay
304 until a write or the next due date, start date or validity end among what it shows.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Key:
    """What an answer is made of, but for the moment it was computed at."""

    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    audience: str  # a user's id, or `org:<id>` for an answer every administrator shares
    data_version: int
    media: str
    digest: str = field(init=False)  # of all the above: computed once, whatever the moments

    def __post_init__(self) -> None:
        material = json.dumps(
            [self.query, self.operation_name, self.variables, self.audience,
             self.data_version, self.media],
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )  # fmt: skip
        object.__setattr__(self, "digest", hashlib.sha256(material.encode()).hexdigest())

    def tag(self, until: datetime | None) -> str:
        """The ETag of this answer, true until `until` (None: until the data changes). The
        moment is inside the hash too, so a client cannot move it on by editing the tag."""
        moment = "" if until is None else f".{(until - EPOCH) // MICROSECOND:x}"
        signed = hashlib.sha256(f"{self.digest}{moment}".encode()).hexdigest()[:32]
        return f'"{signed}{moment}"'

    def unchanged(self, if_none_match: str | None, now: datetime) -> str | None:
        """The client's tag when it names this very answer and its moment is still ahead.
        `*` ("any answer") is no proof of that: a 304 only confirms an answer the caller had."""
        for given in (if_none_match or "").split(","):
            tag = given.strip().removeprefix("W/")
            _, dot, moment = tag.strip('"').partition(".")
            try:
                until = EPOCH + int(moment, 16) * MICROSECOND if dot else None
            except (ValueError, OverflowError):
                continue
            if (until is None or now < until) and tag == self.tag(until):
                return tag
        return None


class PersistedQueries:
    """Automatic persisted queries: documents by their SHA-256, most recently used kept, bounded
    by entries and bytes; only authenticated callers register documents.

    Per process: a client whose hash another worker has not seen gets
    `PERSISTED_QUERY_NOT_FOUND` once and sends the document again.
    """

    def __init__(self, capacity: int = 2048, max_bytes: int = 8 * 1024 * 1024) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.documents: OrderedDict[str, str] = OrderedDict()
        self.size = 0

    def get(self, digest: str) -> str | None:
        query = self.documents.get(digest)
        if query is not None:
            self.documents.move_to_end(digest)
        return query

    def put(self, digest: str, query: str) -> None:
        if digest in self.documents or len(query) > self.max_bytes // 64:
            return
        self.documents[digest] = query
        self.size += len(query)
        while len(self.documents) > self.capacity or self.size > self.max_bytes:
            _, dropped = self.documents.popitem(last=False)
            self.size -= len(dropped)


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()
