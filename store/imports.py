"""The `imports` collection — one CSV upload of historical training each, with its progress —
and `importRows`, the result of each row that was not applied.

An import runs in one process at a time: the runner holds a lease (`leaseUntil`, by the wall
clock, renewed with every batch's progress) and every progress write is conditioned on holding
it, so a process that lost its lease (paused past it, or its import resumed elsewhere) writes
nothing more. A lease that lapses — its process died — lets another process take the import
over and resume after the last row whose progress was written (`position`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid
from store.windows import windowed

LEASE = timedelta(minutes=1)
DUPLICATE_KEY = 11000


class ImportStatus(StrEnum):
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class Outcome(StrEnum):
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class Counts:
    """Rows read (the header aside, blank lines skipped), and what became of them."""

    read: int = 0
    applied: int = 0
    duplicates: int = 0
    failed: int = 0

    def to_doc(self) -> dict[str, int]:
        return {
            "rowsRead": self.read,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "failed": self.failed,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Counts:
        return cls(
            doc.get("rowsRead", 0), doc.get("applied", 0), doc.get("duplicates", 0),
            doc.get("failed", 0),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Import:
    id: str
    org_id: str
    file_id: str
    filename: str
    size: int
    status: ImportStatus
    created_by: str  # a person's id, or an API token's
    by_token: bool
    created_at: datetime
    finished_at: datetime | None
    counts: Counts
    position: int  # the last line whose row's result is written: a resumed run goes on after it
    error_code: str | None
    error_message: str | None
    stalls: int = 0  # times taken over since a batch was last written

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Import:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            file_id=str(doc["fileId"]),
            filename=doc["filename"],
            size=doc["size"],
            status=ImportStatus(doc["status"]),
            created_by=str(doc["createdBy"]),
            by_token=doc["byToken"],
            created_at=doc["createdAt"],
            finished_at=doc.get("finishedAt"),
            counts=Counts.from_doc(doc),
            position=doc.get("position", 0),
            error_code=doc.get("errorCode"),
            error_message=doc.get("errorMessage"),
            stalls=doc.get("stalls", 0),
        )


@dataclass(frozen=True, slots=True)
class RowResult:
    """What became of one row that was not applied: its line in the file, and why."""

    line: int
    outcome: Outcome
    code: str | None
    message: str | None
    record_id: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RowResult:
        return cls(
            doc["line"], Outcome(doc["outcome"]), doc.get("code"), doc.get("message"),
            str(doc["recordId"]) if doc.get("recordId") else None,
        )  # fmt: skip


@boundary
async def create(
    db: Database,
    *,
    org_id: str,
    file_id: str,
    filename: str,
    size: int,
    created_by: str,
    by_token: bool,
    runner: str,
    now: datetime,
    event: Event | None = None,
) -> Import:
    """A new import, RUNNING and leased to `runner` (it starts at once)."""
    doc: dict[str, Any] = {
        "_id": ObjectId(),
        "orgId": oid(org_id),
        "fileId": oid(file_id),
        "filename": filename,
        "size": size,
        "status": ImportStatus.RUNNING.value,
        "createdBy": oid(created_by),
        "byToken": by_token,
        "createdAt": now,
        "finishedAt": None,
        **Counts().to_doc(),
        "position": 0,
        "running": True,
        "runner": runner,
        "leaseUntil": datetime.now(UTC) + LEASE,
    }
    doc, letters = outbox.stamped(doc, event)
    await db.db.imports.insert_one(doc)
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return Import.from_doc(doc)


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Import | None:
    doc = await db.db.imports.find_one({"orgId": oid(org_id), "_id": oid(id)})
    return Import.from_doc(doc) if doc else None


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Import]:
    cursor = db.db.imports.find({"orgId": oid(org_id), "_id": {"$in": [oid(i) for i in ids]}})
    return [Import.from_doc(doc) async for doc in cursor]


@boundary
async def page(db: Database, *, org_id: str, before: str | None, limit: int) -> list[Import]:
    """Newest first, keyset on the id (ids grow with time)."""
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if before is not None:
        query["_id"] = {"$lt": oid(before)}
    cursor = db.db.imports.find(query).sort("_id", -1).limit(limit)
    return [Import.from_doc(doc) async for doc in cursor]


@boundary
async def count(db: Database, *, org_id: str) -> int:
    return await db.db.imports.count_documents({"orgId": oid(org_id)})


@boundary
async def claim(db: Database, *, id: str, runner: str) -> Import | None:
    """Take a RUNNING import whose lease has lapsed (or was given up); None when another
    process holds it, or it has ended."""
    now = datetime.now(UTC)
    doc = await db.db.imports.find_one_and_update(
        {
            "_id": oid(id),
            "status": ImportStatus.RUNNING.value,
            "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lt": now}}],
        },
        {"$set": {"leaseUntil": now + LEASE, "runner": runner}, "$inc": {"stalls": 1}},
        return_document=ReturnDocument.AFTER,
    )
    return Import.from_doc(doc) if doc else None


@boundary
async def unclaimed(db: Database) -> list[str]:
    """RUNNING imports no process holds (their lease lapsed or given up): a maintenance scan
    across organizations, served by a sparse index on the running ones."""
    now = datetime.now(UTC)
    cursor = db.db.imports.find(
        {
            "running": True,
            "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lt": now}}],
        },
        {"_id": 1},
    )
    return [str(doc["_id"]) async for doc in cursor]


@boundary
async def progress(
    db: Database,
    *,
    import_: Import,
    runner: str,
    counts: Counts,
    position: int,
    results: list[RowResult],
) -> bool:
    """Write a batch's row results and the progress after it, renewing the lease; False when
    the lease is no longer this runner's (it must stop). Results are keyed by line, so a batch
    written again after a crash is written once."""
    if results:
        docs = [
            {
                "_id": ObjectId(),
                "orgId": oid(import_.org_id),
                "importId": oid(import_.id),
                "line": result.line,
                "outcome": result.outcome.value,
                "code": result.code,
                "message": result.message,
                "recordId": oid(result.record_id) if result.record_id else None,
            }
            for result in results
        ]
        try:
            await db.db.importRows.insert_many(docs, ordered=False)
        except BulkWriteError as error:
            if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise
    found = await db.db.imports.update_one(
        {"_id": oid(import_.id), "runner": runner, "status": ImportStatus.RUNNING.value},
        {
            "$set": {
                **counts.to_doc(),
                "position": position,
                "leaseUntil": datetime.now(UTC) + LEASE,
                "stalls": 0,
            }
        },
    )
    await organizations.touch(db, id=import_.org_id)
    return found.matched_count == 1


@boundary
async def finish(
    db: Database,
    *,
    import_: Import,
    runner: str,
    status: ImportStatus,
    now: datetime,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    """End the import, DONE or FAILED (with why), if the runner still holds it."""
    await db.db.imports.update_one(
        {"_id": oid(import_.id), "runner": runner, "status": ImportStatus.RUNNING.value},
        {
            "$set": {
                "status": status.value,
                "finishedAt": now,
                "errorCode": error_code,
                "errorMessage": error_message,
                "leaseUntil": None,
            },
            "$unset": {"running": ""},
        },
    )
    await organizations.touch(db, id=import_.org_id)


@boundary
async def release(db: Database, *, id: str, runner: str) -> None:
    """Give the lease up (a process shutting down): the next start-up resumes at once."""
    await db.db.imports.update_one(
        {"_id": oid(id), "runner": runner}, {"$set": {"leaseUntil": None}}
    )


@boundary
async def row_results(
    db: Database, *, org_id: str, import_id: str, after: int | None, limit: int, end: int
) -> list[RowResult]:
    """Rows not applied, in file order, keyset on the line, up to `end` (the last line
    written): by windows of lines (`store.windows`), or a poll of a re-uploaded file's progress
    would read all its rows."""
    found = await windowed(
        db.db.importRows, {"orgId": oid(org_id), "importId": oid(import_id)}, "line",
        after=after or 0, limit=limit, end=end,
    )  # fmt: skip
    return [RowResult.from_doc(doc) for doc in found]
