"""Letters a write carries: what must exist if, and only if, the write happened.

An audit event must never exist without its change, nor a change without its event; a feed
event never go missing. MongoDB writes one document atomically (a transaction needs a replica
set, and the embedded database has none), so a letter travels *inside* the write of the
document it is about — pushed onto its `outbox` list by the same update, or set on it by the
same insert — and is copied to its box (the collection named by its `box`; by its id, so a
copy made twice is one letter) and taken off the document afterwards. A process that dies in
between leaves the letter waiting on its document, where `repair` (at start-up, and every
half minute in every process: `resolvers.writes`) finds it through a sparse index and finishes
the copy.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, Self

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from store.errors import StoreError, boundary

if TYPE_CHECKING:  # a type only: `store.indexes`, which `store.database` imports, imports this
    from store.database import Database

log = logging.getLogger(__name__)

PENDING = "outbox"
DUPLICATE_KEY = 11000

# The collection each kind of subject lives in: a letter waits on its subject's document.
COLLECTIONS = {
    "User": "users",
    "Group": "groups",
    "ApiToken": "apiTokens",
    "Organization": "organizations",
    "Label": "labels",
    "Course": "courses",
    "Credential": "credentials",
    "CredentialAssignment": "assignments",
    "ExtensionRequest": "extensionRequests",
    "TrainingRecord": "records",
    "Enrollment": "enrollments",
    "Webhook": "webhooks",
    "SigningKey": "signingKeys",
    "Import": "imports",
}


class Letter(Protocol):
    """Something a write carries to a box: an audit event, a feed event."""

    @property
    def box(self) -> str:
        """The collection it is copied to."""
        ...

    def about(self, subject_id: str) -> Self:
        """The letter about the document a write is inserting (its id known only then)."""
        ...

    def to_doc(self) -> dict[str, Any]:
        """Its stored form: `_id`, `orgId` and `subject: {type, id}` at least."""
        ...


Update = dict[str, Any] | list[dict[str, Any]]  # by operators, or a pipeline


def carried(update: Update, *letters: Letter | None) -> Any:
    """`update` pushing `letters` onto its document's outbox as well (none: as it is)."""
    docs = [_sealed(letter) for letter in letters if letter is not None]
    if not docs:
        return update
    if isinstance(update, list):
        waiting = {"$ifNull": [f"${PENDING}", []]}
        pushed = {"$concatArrays": [waiting, [{"$literal": doc} for doc in docs]]}
        return [*update, {"$set": {PENDING: pushed}}]
    return {**update, "$push": {**update.get("$push", {}), PENDING: {"$each": docs}}}


def stamped(doc: dict[str, Any], *letters: Letter | None) -> tuple[dict[str, Any], list[Letter]]:
    """A new document (its `_id` set) carrying `letters`, and the letters, now about it."""
    found = [letter.about(str(doc["_id"])) for letter in letters if letter is not None]
    if not found:
        return doc, []
    return {**doc, PENDING: [_sealed(letter) for letter in found]}, found


def _sealed(letter: Letter) -> dict[str, Any]:
    return {**letter.to_doc(), "box": letter.box}


_held: ContextVar[list[dict[str, Any]] | None] = ContextVar("held_letters", default=None)


async def written(db: Database, letters: Iterable[Letter | None]) -> None:
    """The tail of a write that carried these letters: copy them out now, or when the change
    that holds them ends (`held`)."""
    docs = [_sealed(letter) for letter in letters if letter is not None]
    if not docs:
        return
    held = _held.get()
    if held is not None:
        held.extend(docs)
        return
    await copy(db, docs)


@asynccontextmanager
async def held(db: Database) -> AsyncIterator[list[dict[str, Any]]]:
    """Copy a mutation's letters out when it ends, however it ends: what it wrote stays
    written. A copy that fails fails no mutation — its change is made, and the letters wait,
    safe, on their documents for the next repair. Yields the letters, filled by
    the time the block has ended."""
    token = _held.set([])
    sent: list[dict[str, Any]] = []
    try:
        yield sent
    finally:
        sent.extend(_held.get() or [])
        _held.reset(token)
        if sent:
            try:
                await copy(db, sent)
            except StoreError as error:  # they wait on their documents: the next repair copies
                log.warning("letters not copied yet: %s", error)


@boundary
async def copy(db: Database, docs: Sequence[dict[str, Any]]) -> None:
    """Put each letter in its box (once, however often it is copied), then take it off the
    document that carried it."""
    for box in sorted({doc["box"] for doc in docs}):
        contents = [
            {k: v for k, v in doc.items() if k != "box"} for doc in docs if doc["box"] == box
        ]
        try:
            await db.db[box].insert_many(contents, ordered=False)
        except BulkWriteError as error:  # copied before (a repair racing a request): once
            if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise
    for collection in sorted({COLLECTIONS[doc["subject"]["type"]] for doc in docs}):
        carried: dict[Any, list[Any]] = defaultdict(list)  # each subject's letters copied
        for doc in docs:
            if COLLECTIONS[doc["subject"]["type"]] == collection:
                carried[doc["subject"]["id"]].append(doc["_id"])
        # One write per document, each found by its `_id`: an `update_many` over an `$in` of
        # ids reads the whole collection on the embedded database (an import's batch of 500
        # took seconds, more as the collection grew). Usually a document's letters are all
        # being copied here: the field goes, in one write.
        done = await db.db[collection].bulk_write(
            [
                UpdateOne(
                    {"_id": subject, PENDING: {"$not": {"$elemMatch": {"_id": {"$nin": ids}}}}},
                    {"$unset": {PENDING: ""}},
                )
                for subject, ids in carried.items()
            ],
            ordered=False,
        )
        if done.modified_count < len(carried):
            await db.db[collection].bulk_write(
                [
                    UpdateOne({"_id": subject}, {"$pull": {PENDING: {"_id": {"$in": ids}}}})
                    for subject, ids in carried.items()
                ],
                ordered=False,
            )


@boundary
async def repair(db: Database) -> list[dict[str, Any]]:
    """Copy out every letter a process died before copying; those that were waiting."""
    waiting: list[dict[str, Any]] = []
    for collection in sorted(set(COLLECTIONS.values())):
        cursor = db.db[collection].find({f"{PENDING}._id": {"$exists": True}}, {PENDING: 1})
        async for doc in cursor:
            waiting.extend(doc.get(PENDING) or ())
    if waiting:
        await copy(db, waiting)
    return waiting
