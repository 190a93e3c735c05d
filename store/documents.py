"""Uploaded documents, in GridFS next to the data (`documents.files` / `documents.chunks`).

Uploads stream in chunk by chunk and never sit whole in memory; an abandoned upload is aborted,
which removes what was written of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket, NoFile
from gridfs.asynchronous.grid_file import AsyncGridIn

from store.database import Database
from store.errors import boundary
from store.ids import oid

BUCKET = "documents"
CHUNK = 255 * 1024


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
