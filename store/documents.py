"""Uploaded documents, in GridFS next to the data (`documents.files` / `documents.chunks`).

Uploads stream in chunk by chunk and never sit whole in memory; an abandoned upload is aborted,
which removes what was written of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bson import Binary, Int64, ObjectId
from gridfs import AsyncGridFSBucket, NoFile
from gridfs.asynchronous.grid_file import AsyncGridIn

from store.database import Database
from store.errors import boundary
from store.ids import oid

BUCKET = "documents"
CHUNK = 255 * 1024
SPOOLED_BATCH = 4  # chunks a read of a large file holds at once: about a MiB


def _bucket(db: Database) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(db.db, bucket_name=BUCKET, chunk_size_bytes=CHUNK)


@dataclass
class Upload:
    """A document being written; `finish` keeps it, `abort` removes every chunk written."""

    stream: AsyncGridIn

    @property
    def id(self) -> str:
        return str(self.stream._id)

    @boundary
    async def write(self, chunk: bytes) -> None:
        await self.stream.write(chunk)

    @boundary
    async def finish(self) -> str:
        await self.stream.close()
        return self.id

    @boundary
    async def abort(self) -> None:
        await self.stream.abort()


def begin(db: Database, *, org_id: str, filename: str, content_type: str) -> Upload:
    stream = _bucket(db).open_upload_stream(
        filename, metadata={"orgId": oid(org_id), "contentType": content_type}
    )
    return Upload(stream)


@dataclass
class Spooled:
    """A large file written chunk by chunk as it arrives, in the bucket's format (so it reads
    back like any other): PyMongo's `GridIn` holds up to 32 MiB of chunks before it writes
    any, which would hold a whole upload in memory. `finish` keeps it, `abort` removes it."""

    db: Database
    org_id: str
    filename: str
    content_type: str
    file_id: ObjectId = field(default_factory=ObjectId)
    pending: bytearray = field(default_factory=bytearray)
    written: int = 0  # chunks stored
    size: int = 0

    @property
    def id(self) -> str:
        return str(self.file_id)

    @boundary
    async def write(self, data: bytes) -> None:
        self.pending += data
        self.size += len(data)
        while len(self.pending) >= CHUNK:
            await self._chunk(bytes(self.pending[:CHUNK]))
            del self.pending[:CHUNK]

    @boundary
    async def finish(self) -> str:
        if self.pending:
            await self._chunk(bytes(self.pending))
            self.pending.clear()
        await self.db.db[f"{BUCKET}.files"].insert_one(
            {
                "_id": self.file_id,
                "length": Int64(self.size),
                "chunkSize": CHUNK,
                "uploadDate": datetime.now(UTC),
                "filename": self.filename,
                "metadata": {"orgId": oid(self.org_id), "contentType": self.content_type},
            }
        )
        return self.id

    @boundary
    async def abort(self) -> None:
        await self.db.db[f"{BUCKET}.chunks"].delete_many({"files_id": self.file_id})

    async def _chunk(self, data: bytes) -> None:
        await self.db.db[f"{BUCKET}.chunks"].insert_one(
            {"files_id": self.file_id, "n": self.written, "data": Binary(data)}
        )
        self.written += 1


@boundary
async def spooled_chunks(db: Database, *, org_id: str, file_id: str) -> AsyncIterator[bytes] | None:
    """A large file's chunks a few at a time, or None when the organization has no such file.
    (`GridOut` reads its chunks with a cursor's default batches: the first reply alone would
    hold up to 16 MiB of the file.)"""
    found = await db.db[f"{BUCKET}.files"].find_one(
        {"_id": oid(file_id), "metadata.orgId": oid(org_id)}, {"_id": 1}
    )
    if found is None:
        return None

    async def read() -> AsyncIterator[bytes]:
        cursor = (
            db.db[f"{BUCKET}.chunks"]
            .find({"files_id": found["_id"]}, batch_size=SPOOLED_BATCH)
            .sort("n", 1)
        )
        async for chunk in cursor:
            yield bytes(chunk["data"])

    return read()


@boundary
async def delete(db: Database, *, file_id: str) -> None:
    with contextlib.suppress(NoFile):
        await _bucket(db).delete(ObjectId(file_id))


@boundary
async def chunks(db: Database, *, org_id: str, file_id: str) -> AsyncIterator[bytes] | None:
    """The stored chunks of a document of the organization, or None."""
    try:
        stream = await _bucket(db).open_download_stream(ObjectId(file_id))
    except NoFile:
        return None
    metadata: Mapping[str, Any] = stream.metadata or {}
    if metadata.get("orgId") != oid(org_id):
        return None

    async def read() -> AsyncIterator[bytes]:
        while chunk := await stream.readchunk():
            yield chunk

    return read()
