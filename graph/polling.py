"""Cheap repeated polls: ETags that change exactly when an answer may, and persisted queries.

A query's tag covers the document, the variables, the caller and the organization's data
version (advanced after every write), plus the current second when the answer reads the clock
(fields marked `reads_clock()` whose moment the request did not pin with `asOf`). An
`If-None-Match` that matches is answered 304 before any resolver runs.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from datetime import datetime
from typing import Any


def etag(
    *,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    user_id: str,
    data_version: int,
    reads_now: bool,
    now: datetime,
    media: str,
) -> str:
    moment = now.strftime("%Y-%m-%dT%H:%M:%S") if reads_now else ""
    material = json.dumps(
        [query, operation_name, variables, user_id, data_version, moment, media],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return '"' + hashlib.sha256(material.encode()).hexdigest()[:32] + '"'


def matches(tag: str, if_none_match: str | None) -> bool:
    """Whether the client holds this very answer. `*` ("any answer") is no proof of that: a 304
    only ever confirms an answer the caller already had."""
    if not if_none_match:
        return False
    return tag in {t.strip().removeprefix("W/") for t in if_none_match.split(",")}


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
